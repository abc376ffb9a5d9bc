"""``flask city check``: the city file and its data, checked before loading."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.cli.common import runtime

city_cli = AppGroup("city", help="The city file: check it and its data before loading.")


@city_cli.command("check")
@click.argument("name", required=False)
def city_check_command(name: str | None) -> None:
    """List every problem of the city file NAME (default: GEO311_CITY) and of the files it names.

    Exits 1 when there is any. Nothing is loaded. Without the web app (when the
    configured city itself does not load): python -m app.city_check NAME.
    """
    from app.city_check import check_city

    settings = runtime().settings
    result = check_city(name or settings.city, settings.cities_dir, settings.data_dir)
    click.echo(result.report())
    if not result.ok:
        raise SystemExit(1)
