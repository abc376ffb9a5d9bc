"""The ``flask`` commands, one module per command group.

Every command reports a :class:`~core.errors.UserError` as one sentence and exits 1
(:func:`app.cli.common.user_errors`).
"""

from __future__ import annotations

from flask import Flask

from app.cli.addresses import addresses_cli
from app.cli.alerts import alerts_cli
from app.cli.boundaries import boundaries_cli
from app.cli.catalogue import services_cli
from app.cli.city import city_cli
from app.cli.db import db_cli
from app.cli.open311 import open311_cli
from app.cli.requests import requests_cli
from app.cli.users import users_cli

GROUPS = (
    db_cli,
    boundaries_cli,
    addresses_cli,
    services_cli,
    requests_cli,
    city_cli,
    users_cli,
    open311_cli,
    alerts_cli,
)


def register_cli(app: Flask) -> None:
    """Add the command groups to ``app``."""
    for group in GROUPS:
        app.cli.add_command(group)
