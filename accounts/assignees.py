"""Who a request can be assigned to: the active staff accounts and the named crews of its department.

A request's ``assignee`` column holds a canonical value, ``user:<username>`` (see
:func:`user_assignee`) or ``crew:<code>`` (a crew of the department in the city file, see
:func:`crew_assignee`), so that the queue can find "mine" and show the person's or crew's name even
after a display name changes. Values stored before (free text, e.g. from an import or a
service's default assignee) are shown as they are. Validation lives here, above
service_requests: :func:`check_assignee` refuses anyone who is not active staff of the
department, and :func:`service_requests.lifecycle.reassign` takes the checked value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.models import StaffUser
from core.catalogue_file import Crew
from core.errors import UserError

#: A city's crews by department (``CityConfig.catalogue.crews``).
Crews = Mapping[str, tuple[Crew, ...]]

#: The roles whose accounts work a department's requests (and may be assigned them).
DEPARTMENT_ROLES = ("department", "supervisor")
_USER = "user:"
_CREW = "crew:"


@dataclass(frozen=True)
class Assignee:
    """One choice of the assignee menus: the stored value and the words shown for it."""

    value: str
    name: str
    kind: str  # "user" or "crew"


class AssigneeError(UserError):
    """An assignee who cannot take the request; the message says why."""


def user_assignee(username: str) -> str:
    """The stored assignee value of the account ``username``."""
    return f"{_USER}{username.lower()}"


def crew_assignee(code: str) -> str:
    """The stored assignee value of the crew ``code``."""
    return f"{_CREW}{code}"


def department_assignees(session: Session, city: str, department: str | None, crews: Crews) -> list[Assignee]:
    """Everyone a request of ``department`` can be assigned to: its active staff, then its crews."""
    people = [
        Assignee(user_assignee(u.username), f"{u.display_name} ({u.username})", "user")
        for u in department_staff(session, city, department)
    ]
    return people + [
        Assignee(crew_assignee(c.code), f"{c.name} (crew)", "crew") for c in crews.get(department or "", ())
    ]


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


def check_assignee(
    session: Session, city: str, department: str | None, value: str | None, crews: Crews | None = None
) -> str | None:
    """``value`` (``user:<username>``, ``crew:<code>``, or empty for nobody) if it may be assigned a
    request of ``department``; raises :class:`AssigneeError` naming the problem otherwise."""
    value = (value or "").strip()
    if not value:
        return None
    if value.startswith(_CREW):
        code = value[len(_CREW) :]
        if not any(c.code == code for c in (crews or {}).get(department or "", ())):
            raise AssigneeError(
                f"There is no crew {code[:60]!r} in department {department or '(none)'}; choose one of its crews or staff."
            )
        return value
    if not value.startswith(_USER):
        raise AssigneeError(
            f"Choose the assignee from the list of the department's staff and crews, not {value[:60]!r}."
        )
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


def assignee_names(
    session: Session, city: str, values: Iterable[str | None], crews: Crews | None = None
) -> dict[str, str]:
    """Each stored assignee value of ``values`` to the words shown for it: the account's display
    name for ``user:<username>``, the crew's name for ``crew:<code>``, the value itself for older free text."""
    wanted = {v for v in values if v}
    usernames = [v[len(_USER) :] for v in wanted if v.startswith(_USER)]
    names = {v: v for v in wanted}
    for crew in (c for found in (crews or {}).values() for c in found):
        if crew_assignee(crew.code) in names:
            names[crew_assignee(crew.code)] = f"{crew.name} (crew)"
    if usernames:
        for username, display in session.execute(
            select(StaffUser.username, StaffUser.display_name).where(
                StaffUser.city == city, StaffUser.username.in_(usernames)
            )
        ):
            names[user_assignee(username)] = display
    return names
