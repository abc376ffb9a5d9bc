"""``flask requests``: history import, areas, escalation and notifications."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from app.cli.boundaries import snap_within_m
from app.cli.common import audit, runtime, user_errors

requests_cli = AppGroup("requests", help="Service requests: history import, areas, escalation.")


@requests_cli.command("import")
@click.option("--report-dir", type=click.Path(path_type=Path), help="Where to write the rejected-rows report.")
@click.option("--if-configured", is_flag=True, help="Do nothing (and succeed) when the city configures no history.")
@click.option(
    "--draft-catalogue",
    is_flag=True,
    help="When the city file has no services, use the catalogue drafted from the history (flask services draft).",
)
@user_errors
def requests_import(report_dir: Path | None, if_configured: bool, draft_catalogue: bool) -> None:
    """Import the request history from the city's configured sources (idempotent on request numbers)."""
    from service_requests.catalogue_db import sync_catalogue
    from service_requests.draft_catalogue import with_draft_catalogue
    from service_requests.importer import DEFAULT_REPORT_DIR, import_history, tidy_after_import

    s = runtime()
    if if_configured and s.city.requests is None:
        click.echo(f"The {s.city.name} configures no request history: nothing to import.")
        return
    city = s.city
    if draft_catalogue and not city.catalogue.services:
        city = with_draft_catalogue(city)
        with s.database.session() as session:
            departments, service_count = sync_catalogue(session, city)
            session.commit()
        click.echo(
            f"Using the draft catalogue: {departments} departments and {service_count} services from the history."
        )
    with s.database.session() as session:
        report = import_history(session, city, report_dir=report_dir or DEFAULT_REPORT_DIR)
    click.echo(report.summary())
    if tidy_after_import(s.database.engine, report, city=city):
        click.echo("Vacuumed and analysed the request table, and counted the reports' rollup again.")
    audit(
        "config.history_import", None, inserted=report.inserted, updated=report.updated, rejected=len(report.rejected)
    )


@requests_cli.command("rollup")
@click.option("--full", is_flag=True, help="Count every request again, not only the days that changed.")
@user_errors
def requests_rollup(full: bool) -> None:
    """Count the reports' rollup again: the days whose requests changed (run it from cron every few minutes)."""
    from service_requests import rollups

    s = runtime()
    with s.database.session() as session:
        report = rollups.build(session, s.city) if full else rollups.refresh(session, s.city)
        session.commit()
    click.echo(f"Request rollup of {s.city.name}: {report.summary()}.")


@requests_cli.command("assign-areas")
@user_errors
def requests_assign_areas() -> None:
    """Recompute every request's jurisdiction, ward and district from the current boundaries."""
    from service_requests.importer import assign_areas

    s = runtime()
    with s.database.session() as session:
        count = assign_areas(session, s.city.key, snap_within_m=snap_within_m(s.city))
        session.commit()
    click.echo(f"{count} requests reassigned to the current wards and districts.")


@requests_cli.command("check-photos")
@click.option("--remove", is_flag=True, help="Delete the files no photo names (left by uploads that did not finish).")
@user_errors
def requests_check_photos(remove: bool) -> None:
    """Compare the media folder with the photos: files left behind by a crash, photos whose file is missing."""
    from service_requests.photo_store import MediaStore
    from service_requests.photos import check_media

    s = runtime()
    with s.database.session() as session:
        result = check_media(session, MediaStore(s.settings.media_dir), remove=remove)
    click.echo(result.summary())
    if result.removed:
        audit("media.orphans_removed", None, files=result.removed)
    if result.missing:
        raise SystemExit(1)


@requests_cli.command("escalate")
@click.option("--include-imported", is_flag=True, help="Escalate overdue imported history too (skipped unless asked).")
@user_errors
def requests_escalate(include_imported: bool) -> None:
    """Escalate newly overdue requests to their department's supervisors (run it from cron)."""
    from accounts.escalations import escalate

    s = runtime()
    with s.database.session() as session:
        count = escalate(session, s.city.key, include_imported=include_imported)
    click.echo(f"{count} overdue request(s) escalated.")


@requests_cli.command("notify")
@user_errors
def requests_notify() -> None:
    """Send the queued e-mails through GEO311_SMTP_HOST (run it from cron; failures are retried)."""
    from service_requests.notifications import deliver_pending

    s = runtime()
    with s.database.session() as session:
        report = deliver_pending(session, s.settings, s.city.key)
    if not s.settings.smtp_host:
        click.echo(f"No mail server is configured (GEO311_SMTP_HOST): {report.waiting} message(s) wait in the outbox.")
    else:
        click.echo(report.summary())
