"""``flask alerts``: e-mail alerts for areas."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.cli.common import runtime, user_errors

alerts_cli = AppGroup("alerts", help="Alerts for an area: new requests e-mailed to confirmed subscribers.")


@alerts_cli.command("send")
@user_errors
def alerts_send() -> None:
    """Queue each confirmed area subscriber the new requests of its area since the last run (each once), then
    send the outbox (run it from cron, e.g. hourly)."""
    from address_db.places import approximate_place
    from service_requests.notifications import deliver_pending
    from service_requests.subscriptions import Links, queue_area_alerts

    s = runtime()
    with s.database.session() as session:
        report = queue_area_alerts(
            session,
            s.city.key,
            Links(s.settings.public_url),
            place=approximate_place,
            default_language=s.city.languages[0],
        )
        click.echo(report.summary() + ".")
        delivered = deliver_pending(session, s.settings, s.city.key)
    if not s.settings.smtp_host:
        click.echo(
            f"No mail server is configured (GEO311_SMTP_HOST): {delivered.waiting} message(s) wait in the outbox."
        )
    else:
        click.echo(delivered.summary())
