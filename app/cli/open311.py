"""``flask open311 clients``: the Open311 API's clients and their keys."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.cli.common import runtime, user_errors

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
@click.option(
    "--may-change-status",
    is_flag=True,
    help="Its servicerequestupdates may change a request's status (else they are comments only).",
)
@user_errors
def open311_clients_add(name: str, contact: str | None, per_minute: int, may_change_status: bool) -> None:
    """Issue a key to the application NAME; the key is printed once and stored only as a hash."""
    from open311.clients import issue_client

    s = runtime()
    with s.database.session() as session:
        client, key = issue_client(session, s.city.key, name, contact, per_minute, may_change_status)
    click.echo(
        f"Client {client.id} ({client.name}), {client.per_minute:,} requests a minute"
        + (", may change statuses." if client.may_change_status else ".")
    )
    click.echo(f"api_key: {key}")
    click.echo("Give it to the client now: it is stored only as a hash and cannot be shown again.")


@clients_cli.command("list")
@user_errors
def open311_clients_list() -> None:
    """List the API clients (ids, names, key beginnings, limits, revoked or not)."""
    from open311.clients import list_clients

    s = runtime()
    with s.database.session() as session:
        clients = list_clients(session, s.city.key)
    if not clients:
        click.echo("No API clients yet: `flask open311 clients add NAME` issues a key.")
    for c in clients:
        state = f"revoked {c.revoked_at:%Y-%m-%d %H:%M}" if c.revoked_at else "active"
        click.echo(
            f"{c.id:>4}  {c.name}  key {c.key_prefix}…  {c.per_minute:,}/min  {state}"
            + ("  may change statuses" if c.may_change_status else "")
            + (f"  ({c.contact})" if c.contact else "")
        )


@clients_cli.command("revoke")
@click.argument("client_id", type=int)
@user_errors
def open311_clients_revoke(client_id: int) -> None:
    """Revoke the key of client CLIENT_ID (see `list`); it stops working at once."""
    from open311.clients import revoke_client

    s = runtime()
    with s.database.session() as session:
        client = revoke_client(session, s.city.key, client_id)
    click.echo(f"Client {client.id} ({client.name}) is revoked: its key is refused from now on.")
