"""``flask addresses``: load the address database, assign jurisdictions, validate an address."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from app.cli.boundaries import reassign_addresses
from app.cli.common import audit, runtime, user_errors

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

    s = runtime()
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
        audit("config.addresses", str(report.load_id), addresses=report.addresses, rejected=len(report.rejected))


@addresses_cli.command("assign")
@user_errors
def addresses_assign() -> None:
    """Recompute every address's jurisdiction from its point (after boundaries change)."""
    reassign_addresses()


@addresses_cli.command("validate")
@click.argument("address", nargs=-1, required=True)
@user_errors
def addresses_validate(address: tuple[str, ...]) -> None:
    """Validate ADDRESS as intake would, and print the answer."""
    s = runtime()
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
