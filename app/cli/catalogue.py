"""``flask services``: the service catalogue (sync from the city file, draft one from history)."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from app.cli.common import audit, runtime, user_errors

services_cli = AppGroup("services", help="The service catalogue.")


@services_cli.command("sync")
@click.option("--overwrite-edits", is_flag=True, help="Also replace services changed on the admin page.")
@user_errors
def services_sync(overwrite_edits: bool) -> None:
    """Copy the city file's departments and services into the database (existing requests keep their terms)."""
    from service_requests.catalogue_db import edited_services, sync_catalogue

    s = runtime()
    with s.database.session() as session:
        departments, service_count = sync_catalogue(session, s.city, overwrite_edits=overwrite_edits)
        session.commit()
        kept = edited_services(session, s.city.key)
    audit("config.catalogue", None, departments=departments, services=service_count, kept_edits=kept)
    click.echo(f"{departments} departments and {service_count} services of {s.city.name} are in the catalogue.")
    if kept:
        click.echo(f"Kept the admin page's edits of {', '.join(kept)} (--overwrite-edits replaces them).")


@services_cli.command("draft")
@click.option("--output", type=click.Path(path_type=Path), help="Where to write the draft (default var/).")
@user_errors
def services_draft(output: Path | None) -> None:
    """Draft [[departments]] and [[services]] from the request history, for a person to review."""
    from core.settings import PROJECT_ROOT
    from service_requests.draft_catalogue import draft_catalogue

    s = runtime()
    draft = draft_catalogue(s.city)
    path = output or PROJECT_ROOT / "var" / f"catalogue-draft-{s.city.key}.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(draft.toml(s.city.name), encoding="utf-8")
    click.echo(
        f"Drafted {len(draft.departments)} departments and {len(draft.services)} services from the history "
        f"of the {s.city.name}: {path}. Review it, then add it to {s.city.path.name}."
    )
