"""``flask boundaries``: load the city's boundary layers, list their versions, look up a point."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click
from flask.cli import AppGroup

from app.cli.common import audit, runtime, user_errors
from core.city import LAYER_ROLES, CityConfig, LayerSource

if TYPE_CHECKING:
    from boundaries.loader import LoadReport


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

    s = runtime()
    with s.database.session() as session:
        reports = load_city(session, s.city, roles or None, force=force)
    for report in reports:
        _echo_load(report)
        audit(
            "config.boundaries",
            report.role,
            version=report.version,
            features=report.feature_count,
            source=report.source,
        )
    if not reports:
        click.echo(f"The boundaries of {s.city.name} are up to date.")
    else:
        reassign_addresses()


#: How many gaps a load lists one by one (the largest); the summary counts them all.
GAPS_LISTED = 12


def _echo_load(report: LoadReport) -> None:
    """A layer's load report, and the gaps between the layers listed when it computed them."""
    click.echo(report.summary())
    if report.gaps is not None:
        for line in report.gaps.lines(limit=GAPS_LISTED)[1:]:
            click.echo(line)


def snap_within_m(city: CityConfig) -> float | None:
    """How far outside the city limit imported requests still count as the city's ([requests] snap_within_m)."""
    from core.city import requests_option
    from service_requests.importer import SNAP_WITHIN_M

    return requests_option(city.requests, "snap_within_m", SNAP_WITHIN_M) if city.requests else None


def reassign_addresses() -> None:
    """Addresses and requests take their areas from the current boundaries: recompute after a load."""
    from address_db.loader import assign_jurisdiction
    from service_requests.importer import assign_areas

    s = runtime()
    with s.database.session() as session:
        assign_jurisdiction(session, s.city.key)
        requests = assign_areas(session, s.city.key, snap_within_m=snap_within_m(s.city))
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

    s = runtime()
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
    audit("config.boundaries", report.role, version=report.version, features=report.feature_count, source=report.source)
    reassign_addresses()


@boundaries_cli.command("versions")
@user_errors
def versions_command() -> None:
    """List every loaded version of the city's layers."""
    from boundaries.queries import layer_versions

    s = runtime()
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

    s = runtime()
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
