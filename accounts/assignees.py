"""Who a request can be assigned to: the active staff accounts of its department.

A request's ``assignee`` column holds a canonical value, ``user:<username>`` (see
:func:`user_assignee`), so that the queue can find "mine" and show the person's name even
after a display name changes. Values stored before (free text, e.g. from an import or a
service's default assignee) are shown as they are. Validation lives here, above
service_requests: :func:`check_assignee` refuses anyone who is not active staff of the
department, and :func:`service_requests.lifecycle.reassign` takes the checked value.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.models import StaffUser
from core.errors import UserError

#: The roles whose accounts work a department's requests (and may be assigned them).
DEPARTMENT_ROLES = ("department", "supervisor")
_USER = "user:"


class AssigneeError(UserError):
    """An assignee who cannot take the request; the message says why."""


def user_assignee(username: str) -> str:
    """The stored assignee value of the account ``username``."""
    return f"{_USER}{username.lower()}"


def department_staff(session: Session, city: str, department: str | None) -> list[StaffUser]:
    """The active department staff and supervisors of ``department``, by name."""
    if not department:
        return []
    return list(
        session.scalars(
            select(StaffUser)
            .where(
                StaffUser.city == city,
                StaffUser.department_code == department,
                StaffUser.role.in_(DEPARTMENT_ROLES),
                StaffUser.active,
            )
            .order_by(StaffUser.display_name, StaffUser.username)
        )
    )


def check_assignee(session: Session, city: str, department: str | None, value: str | None) -> str | None:
    """``value`` (``user:<username>``, or empty for nobody) if it may be assigned a request of
    ``department``; raises :class:`AssigneeError` naming the problem otherwise."""
    value = (value or "").strip()
    if not value:
        return None
    if not value.startswith(_USER):
        raise AssigneeError(f"Choose the assignee from the list of the department's staff, not {value[:60]!r}.")
    username = value[len(_USER) :]
    user = session.scalar(select(StaffUser).where(StaffUser.city == city, StaffUser.username == username.lower()))
    if user is None:
        raise AssigneeError(f"There is no staff account {username[:60]!r}.")
    if not user.active:
        raise AssigneeError(f"The account {user.username!r} ({user.display_name}) is disabled.")
    if user.role not in DEPARTMENT_ROLES or user.department_code != department:
        raise AssigneeError(
            f"{user.display_name} ({user.username}) is not staff of department {department or '(none)'}; "
            "choose one of its staff."
        )
    return user_assignee(user.username)


def assignee_names(session: Session, city: str, values: Iterable[str | None]) -> dict[str, str]:
    """Each stored assignee value of ``values`` to the words shown for it: the account's display
    name for ``user:<username>``, the value itself for older free text."""
    wanted = {v for v in values if v}
    usernames = [v[len(_USER) :] for v in wanted if v.startswith(_USER)]
    names = {v: v for v in wanted}
    if usernames:
        for username, display in session.execute(
            select(StaffUser.username, StaffUser.display_name).where(
                StaffUser.city == city, StaffUser.username.in_(usernames)
            )
        ):
            names[user_assignee(username)] = display
    return names
