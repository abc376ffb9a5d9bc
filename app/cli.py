"""``flask`` commands: the database, and the city's boundaries.

Every command reports a :class:`~core.errors.UserError` as one sentence and exits 1.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from app.factory import Services
from core.city import LAYER_ROLES, LayerSource
from core.cluster import EmbeddedCluster
from core.database import check_reachable, current_revision, head_revision, upgrade
from core.errors import UserError

if TYPE_CHECKING:
    from boundaries.loader import LoadReport


def _services() -> Services:
    return current_app.extensions["geo311"]


def user_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn a UserError into a plain one-line CLI error."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except UserError as exc:
            raise click.ClickException(str(exc)) from exc

    return wrapper


def _audit(action: str, target: str | None = None, **detail: Any) -> None:
    """Record a configuration change made from the command line in the audit log."""
    import getpass

    from accounts import audit

    s = _services()
    with s.database.session() as session:
        audit.record(session, s.city.key, f"cli:{getpass.getuser()}", action, target, **detail)
        session.commit()


# -- flask db ------------------------------------------------------------------------------

db_cli = AppGroup("db", help="The database: schema migrations and the embedded server.")


@db_cli.command("upgrade")
@user_errors
def db_upgrade() -> None:
    """Migrate the schema to the newest revision."""
    database = _services().database
    check_reachable(database)
    upgrade(database.engine)
    click.echo(f"Schema at revision {head_revision()}.")


@db_cli.command("current")
@user_errors
def db_current() -> None:
    """Print the schema revision of the database and of the code."""
    database = _services().database
    check_reachable(database)
    with database.engine.connect() as conn:
        click.echo(f"database: {current_revision(conn) or 'empty'}; code: {head_revision()}")


def _embedded_cluster(action: str) -> EmbeddedCluster:
    """The embedded cluster, or a clear refusal when DATABASE_URL names another server."""
    cluster = _services().database.cluster
    if cluster is None:
        raise UserError(f"DATABASE_URL is set: that server is not ours to {action}.")
    return cluster


@db_cli.command("start")
@user_errors
def db_start() -> None:
    """Start the embedded PostgreSQL server and leave it running."""
    cluster = _embedded_cluster("start")
    started = cluster.ensure_running()
    cluster.started_here = False  # left running on purpose
    click.echo(f"{'Started' if started else 'Already running'}: {cluster.data_dir} (socket in {cluster.socket_dir})")


@db_cli.command("stop")
@user_errors
def db_stop() -> None:
    """Stop the embedded PostgreSQL server."""
    cluster = _embedded_cluster("stop")
    running = cluster.is_running()
    cluster.stop()
    click.echo("Stopped." if running else "It was not running.")


@db_cli.command("status")
@user_errors
def db_status() -> None:
    """Say which database the app uses and whether it runs."""
    database = _services().database
    if database.cluster is None:
        check_reachable(database)
        click.echo("Using DATABASE_URL: reachable.")
        return
    cluster = database.cluster
    state = "running" if cluster.is_running() else ("stopped" if cluster.is_initialized() else "not created yet")
    click.echo(f"Embedded PostgreSQL in {cluster.data_dir}: {state}.")


# -- flask boundaries ----------------------------------------------------------------------

boundaries_cli = AppGroup("boundaries", help="The city's boundary layers: load, list versions, look up points.")


@boundaries_cli.command("load-city")
@click.option(
    "--role",
    "roles",
    multiple=True,
    type=click.Choice(LAYER_ROLES),
    help="Load only this layer (repeatable); default: every configured layer.",
)
@click.option("--force", is_flag=True, help="Load even the layers whose file and settings have not changed.")
@user_errors
def load_city_command(roles: tuple[str, ...], force: bool) -> None:
    """Load the city's configured boundary layers, all in one transaction.

    A layer whose file and settings are those of its current version is skipped.
    """
    from boundaries.loader import load_city

    s = _services()
    with s.database.session() as session:
        reports = load_city(session, s.city, roles or None, force=force)
    for report in reports:
        _echo_load(report)
        _audit(
            "config.boundaries",
            report.role,
            version=report.version,
            features=report.feature_count,
            source=report.source,
        )
    if not reports:
        click.echo(f"The boundaries of {s.city.name} are up to date.")
    else:
        _reassign_addresses()


#: How many gaps a load lists one by one (the largest); the summary counts them all.
GAPS_LISTED = 12


def _echo_load(report: LoadReport) -> None:
    """A layer's load report, and the gaps between the layers listed when it computed them."""
    click.echo(report.summary())
    if report.gaps is not None:
        for line in report.gaps.lines(limit=GAPS_LISTED)[1:]:
            click.echo(line)


def _snap_within_m(city) -> float | None:
    """How far outside the city limit imported requests still count as the city's ([requests] snap_within_m)."""
    from core.city import requests_option
    from service_requests.importer import SNAP_WITHIN_M

    return requests_option(city.requests, "snap_within_m", SNAP_WITHIN_M) if city.requests else None


def _reassign_addresses() -> None:
    """Addresses and requests take their areas from the current boundaries: recompute after a load."""
    from address_db.loader import assign_jurisdiction
    from service_requests.importer import assign_areas

    s = _services()
    with s.database.session() as session:
        assign_jurisdiction(session, s.city.key)
        requests = assign_areas(session, s.city.key, snap_within_m=_snap_within_m(s.city))
        session.commit()
    click.echo(f"Address jurisdictions and the areas of {requests} requests recomputed from the new boundaries.")


@boundaries_cli.command("load")
@click.argument("role", type=click.Choice(LAYER_ROLES))
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--layer", help="The layer to read from a GeoPackage with several.")
@click.option(
    "--crs",
    help="The CRS the file's coordinates are in (e.g. EPSG:2229): overrides what the file declares or GDAL assumes.",
)
@click.option("--id-field", help="The field holding each feature's id (default: the city file's).")
@click.option("--name-field", help="The field holding each feature's name (default: the city file's).")
@click.option(
    "--where", "where", nargs=2, metavar="FIELD VALUE", help="Keep only the features whose FIELD equals VALUE."
)
@user_errors
def load_layer_command(
    role: str,
    path: Path,
    layer: str | None,
    crs: str | None,
    id_field: str | None,
    name_field: str | None,
    where: tuple[str, str] | None,
) -> None:
    """Load one boundary layer from a GeoJSON, Shapefile or GeoPackage file as a new version.

    The previous version stays on record; if anything is wrong with the file,
    nothing changes.
    """
    from boundaries.loader import build_layer, load_layers
    from core.city import FieldFilter

    s = _services()
    source = LayerSource(
        path=path.resolve(),
        layer=layer,
        crs=crs,
        where=FieldFilter(where[0], (where[1],)) if where else None,
    )
    built = build_layer(s.city, role, source, id_field=id_field, name_field=name_field)
    with s.database.session() as session:
        (report,) = load_layers(session, s.city, [built])
    _echo_load(report)
    _audit(
        "config.boundaries", report.role, version=report.version, features=report.feature_count, source=report.source
    )
    _reassign_addresses()


@boundaries_cli.command("versions")
@user_errors
def versions_command() -> None:
    """List every loaded version of the city's layers."""
    from boundaries.queries import layer_versions

    s = _services()
    with s.database.session() as session:
        versions = layer_versions(session, s.city.key)
    if not versions:
        click.echo("No boundary layer is loaded yet: run `flask boundaries load-city`.")
    for v in versions:
        mark = "*" if v.is_current else " "
        click.echo(
            f"{mark} {v.role:<12} v{v.version:<3} {v.feature_count:>5} features  "
            f"{v.loaded_at:%Y-%m-%d %H:%M}  {v.source}  ({len(v.repairs)} repairs)"
        )


@boundaries_cli.command("locate", context_settings={"ignore_unknown_options": True})
@click.argument("lon")
@click.argument("lat")
@user_errors
def locate_command(lon: str, lat: str) -> None:
    """Say whose point LON LAT is (decimal degrees, WGS 84)."""
    from boundaries.lookup import fallback_agency, locate, outside_reason

    s = _services()
    with s.database.session() as session:
        location = locate(session, s.city.key, lon, lat, fallback=fallback_agency(s.city))
    if location.status == "inside":
        click.echo(
            f"Inside {s.city.name}; ward: {location.ward.name if location.ward else '-'}; "
            f"district: {location.district.name if location.district else '-'}"
        )
    elif location.status == "outside":
        agency = location.agency
        assert agency is not None
        click.echo(
            f"Outside {s.city.name}: {agency.name}, phone {agency.phone or 'not on file'}"
            f"{', ' + agency.website if agency.website else ''}"
        )
    else:
        click.echo(f"Outside {s.city.name}. {outside_reason(location, 'point')}")


# -- flask addresses -----------------------------------------------------------------------

addresses_cli = AppGroup("addresses", help="The address database: load, assign jurisdictions, validate.")


@addresses_cli.command("load")
@click.option("--if-changed", is_flag=True, help="Do nothing when the sources and mapping are those of the last load.")
@click.option("--report-dir", type=click.Path(path_type=Path), help="Where to write the rejected-rows report.")
@click.option(
    "--allow-shrink", is_flag=True, help="Accept sources that give less than half the addresses of the last load."
)
@user_errors
def addresses_load(if_changed: bool, report_dir: Path | None, allow_shrink: bool) -> None:
    """Load the city's address database from all its configured sources together (replacing the previous set)."""
    from address_db.loader import DEFAULT_REPORT_DIR, load_addresses

    s = _services()
    with s.database.session() as session:
        report = load_addresses(
            session,
            s.city,
            report_dir=report_dir or DEFAULT_REPORT_DIR,
            force=not if_changed,
            allow_shrink=allow_shrink,
        )
    click.echo(report.summary() if report else f"The address database of {s.city.name} is up to date.")
    if report:
        _audit("config.addresses", str(report.load_id), addresses=report.addresses, rejected=len(report.rejected))


@addresses_cli.command("assign")
@user_errors
def addresses_assign() -> None:
    """Recompute every address's jurisdiction from its point (after boundaries change)."""
    _reassign_addresses()


@addresses_cli.command("validate")
@click.argument("address", nargs=-1, required=True)
@user_errors
def addresses_validate(address: tuple[str, ...]) -> None:
    """Validate ADDRESS as intake would, and print the answer."""
    s = _services()
    with s.database.session() as session:
        result = s.validator.validate(session, " ".join(address))
    click.echo(f"{result.status}: {result.match.text if result.match else result.standardized or ''}")
    if result.ward or result.district:
        click.echo(f"  {result.ward.name if result.ward else '-'}; {result.district.name if result.district else '-'}")
    if result.agency:
        click.echo(f"  {result.agency.name}, phone {result.agency.phone or 'not on file'}")
    if result.reason:
        click.echo(f"  {result.reason}")
    for candidate in result.candidates or result.suggestions:
        click.echo(f"  {candidate.score:.2f}  {candidate.text}")


# -- flask services / requests / notifications -----------------------------------------------

services_cli = AppGroup("services", help="The service catalogue.")


@services_cli.command("sync")
@click.option("--overwrite-edits", is_flag=True, help="Also replace services changed on the admin page.")
@user_errors
def services_sync(overwrite_edits: bool) -> None:
    """Copy the city file's departments and services into the database (existing requests keep their terms)."""
    from service_requests.catalogue_db import edited_services, sync_catalogue

    s = _services()
    with s.database.session() as session:
        departments, services = sync_catalogue(session, s.city, overwrite_edits=overwrite_edits)
        session.commit()
        kept = edited_services(session, s.city.key)
    _audit("config.catalogue", None, departments=departments, services=services, kept_edits=kept)
    click.echo(f"{departments} departments and {services} services of {s.city.name} are in the catalogue.")
    if kept:
        click.echo(f"Kept the admin page's edits of {', '.join(kept)} (--overwrite-edits replaces them).")


@services_cli.command("draft")
@click.option("--output", type=click.Path(path_type=Path), help="Where to write the draft (default var/).")
@user_errors
def services_draft(output: Path | None) -> None:
    """Draft [[departments]] and [[services]] from the request history, for a person to review."""
    from core.settings import PROJECT_ROOT
    from service_requests.draft_catalogue import draft_catalogue

    s = _services()
    draft = draft_catalogue(s.city)
    path = output or PROJECT_ROOT / "var" / f"catalogue-draft-{s.city.key}.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(draft.toml(s.city.name), encoding="utf-8")
    click.echo(
        f"Drafted {len(draft.departments)} departments and {len(draft.services)} services from the history "
        f"of the {s.city.name}: {path}. Review it, then add it to {s.city.path.name}."
    )


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

    s = _services()
    if if_configured and s.city.requests is None:
        click.echo(f"The {s.city.name} configures no request history: nothing to import.")
        return
    city = s.city
    if draft_catalogue and not city.catalogue.services:
        city = with_draft_catalogue(city)
        with s.database.session() as session:
            departments, services = sync_catalogue(session, city)
            session.commit()
        click.echo(f"Using the draft catalogue: {departments} departments and {services} services from the history.")
    with s.database.session() as session:
        report = import_history(session, city, report_dir=report_dir or DEFAULT_REPORT_DIR)
    click.echo(report.summary())
    if tidy_after_import(s.database.engine, report):
        click.echo("Vacuumed and analysed the request table for the reports and maps.")
    _audit(
        "config.history_import", None, inserted=report.inserted, updated=report.updated, rejected=len(report.rejected)
    )


@requests_cli.command("assign-areas")
@user_errors
def requests_assign_areas() -> None:
    """Recompute every request's jurisdiction, ward and district from the current boundaries."""
    from service_requests.importer import assign_areas

    s = _services()
    with s.database.session() as session:
        count = assign_areas(session, s.city.key, snap_within_m=_snap_within_m(s.city))
        session.commit()
    click.echo(f"{count} requests reassigned to the current wards and districts.")


@requests_cli.command("escalate")
@user_errors
def requests_escalate() -> None:
    """Escalate newly overdue requests to their department's supervisor (run it from cron)."""
    from service_requests.lifecycle import escalate_overdue

    s = _services()
    with s.database.session() as session:
        count = escalate_overdue(session, s.city.key)
    click.echo(f"{count} overdue request(s) escalated.")


@requests_cli.command("notify")
@user_errors
def requests_notify() -> None:
    """Send the queued e-mails through GEO311_SMTP_HOST (run it from cron; failures are retried)."""
    from service_requests.notifications import deliver_pending

    s = _services()
    with s.database.session() as session:
        report = deliver_pending(session, s.settings, s.city.key)
    if not s.settings.smtp_host:
        click.echo(f"No mail server is configured (GEO311_SMTP_HOST): {report.waiting} message(s) wait in the outbox.")
    else:
        click.echo(report.summary())


# -- flask open311 ---------------------------------------------------------------------------

open311_cli = AppGroup("open311", help="The Open311 GeoReport v2 API.")
clients_cli = AppGroup("clients", help="API clients: issue, list and revoke keys.")
open311_cli.add_command(clients_cli)


@clients_cli.command("add")
@click.argument("name")
@click.option("--contact", help="Who to reach about this client (e-mail or phone of its developers).")
@click.option(
    "--per-minute",
    type=click.IntRange(1, 100_000_000),
    default=600,
    show_default=True,
    help="Requests a minute this key may make.",
)
@user_errors
def open311_clients_add(name: str, contact: str | None, per_minute: int) -> None:
    """Issue a key to the application NAME; the key is printed once and stored only as a hash."""
    from open311.clients import issue_client

    s = _services()
    with s.database.session() as session:
        client, key = issue_client(session, s.city.key, name, contact, per_minute)
    click.echo(f"Client {client.id} ({client.name}), {client.per_minute:,} requests a minute.")
    click.echo(f"api_key: {key}")
    click.echo("Give it to the client now: it is stored only as a hash and cannot be shown again.")


@clients_cli.command("list")
@user_errors
def open311_clients_list() -> None:
    """List the API clients (ids, names, key beginnings, limits, revoked or not)."""
    from open311.clients import list_clients

    s = _services()
    with s.database.session() as session:
        clients = list_clients(session, s.city.key)
    if not clients:
        click.echo("No API clients yet: `flask open311 clients add NAME` issues a key.")
    for c in clients:
        state = f"revoked {c.revoked_at:%Y-%m-%d %H:%M}" if c.revoked_at else "active"
        click.echo(
            f"{c.id:>4}  {c.name}  key {c.key_prefix}…  {c.per_minute:,}/min  {state}"
            + (f"  ({c.contact})" if c.contact else "")
        )


@clients_cli.command("revoke")
@click.argument("client_id", type=int)
@user_errors
def open311_clients_revoke(client_id: int) -> None:
    """Revoke the key of client CLIENT_ID (see `list`); it stops working at once."""
    from open311.clients import revoke_client

    s = _services()
    with s.database.session() as session:
        client = revoke_client(session, s.city.key, client_id)
    click.echo(f"Client {client.id} ({client.name}) is revoked: its key is refused from now on.")


# -- flask city ------------------------------------------------------------------------------

city_cli = AppGroup("city", help="The city file: check it and its data before loading.")


@city_cli.command("check")
@click.argument("name", required=False)
def city_check_command(name: str | None) -> None:
    """List every problem of the city file NAME (default: GEO311_CITY) and of the files it names.

    Exits 1 when there is any. Nothing is loaded. Without the web app (when the
    configured city itself does not load): python -m app.city_check NAME.
    """
    from app.city_check import check_city

    settings = _services().settings
    result = check_city(name or settings.city, settings.cities_dir, settings.data_dir)
    click.echo(result.report())
    if not result.ok:
        raise SystemExit(1)


def register_cli(app: Flask) -> None:
    """Add the command groups to ``app``."""
    app.cli.add_command(db_cli)
    app.cli.add_command(boundaries_cli)
    app.cli.add_command(addresses_cli)
    app.cli.add_command(services_cli)
    app.cli.add_command(requests_cli)
    app.cli.add_command(city_cli)
    from app.cli_users import users_cli  # imports this module: registered last

    app.cli.add_command(users_cli)
    app.cli.add_command(open311_cli)
