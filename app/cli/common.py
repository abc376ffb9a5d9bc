"""What every ``flask`` command shares: the app's runtime, one-sentence errors, the audit log."""

from __future__ import annotations

import functools
import getpass
from collections.abc import Callable
from typing import Any

import click

from app.web import runtime
from core.errors import UserError


def user_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn a UserError into a plain one-line CLI error (exit 1)."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except UserError as exc:
            raise click.ClickException(str(exc)) from exc

    return wrapper


def actor() -> str:
    """Who is at the command line, as the audit log names them."""
    return f"cli:{getpass.getuser()}"


def audit(action: str, target: str | None = None, **detail: Any) -> None:
    """Record a configuration change made from the command line in the audit log."""
    from accounts import audit as audit_log

    s = runtime()
    with s.database.session() as session:
        audit_log.record(session, s.city.key, actor(), action, target, **detail)
        session.commit()


__all__ = ["actor", "audit", "runtime", "user_errors"]
