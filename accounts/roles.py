"""Roles and what each may do.

A role is a set of permissions; scope (a department's queue, a council member's ward or
district) narrows what a permission reaches and is checked by :mod:`accounts.scope`.
Routes name the permission they need; a route that names none is refused (deny by default).
"""

from __future__ import annotations

from dataclasses import dataclass

#: Every permission a route or an action can need.
PERMISSIONS = {
    "requests.create": "file requests for callers and walk-ins",
    "requests.view": "open request records (within the role's scope)",
    "requests.contact": "see the reporter's name, e-mail, phone and contact notes",
    "requests.update": "change status, add notes, mark duplicates, reopen (within scope)",
    "requests.reassign": "reassign requests and handle escalations",
    "requests.overdue": "see the overdue queue (within scope)",
    "maps.view": "ward, district and hot spot maps",
    "reports.view": "performance reports",
    "data.export": "exports of requests and layers",
    "catalogue.manage": "edit the service catalogue",
    "users.manage": "manage staff accounts and roles",
    "audit.view": "read the audit log",
}


@dataclass(frozen=True)
class Role:
    """A role: its name for people, and what it may do."""

    code: str
    label: str
    permissions: frozenset[str]
    scope: str = "city"  # "city", "department" or "area" (ward or district)


_READ = {"maps.view", "reports.view", "data.export"}

ROLES: dict[str, Role] = {
    role.code: role
    for role in (
        Role("admin", "Administrator", frozenset(PERMISSIONS)),
        Role("intake", "Intake staff", frozenset({"requests.create", "requests.view", "requests.contact"})),
        Role(
            "department",
            "Department staff",
            frozenset(
                {"requests.create", "requests.view", "requests.contact", "requests.update", "requests.overdue"} | _READ
            ),
            scope="department",
        ),
        Role(
            "supervisor",
            "Department supervisor",
            frozenset(
                {
                    "requests.create",
                    "requests.view",
                    "requests.contact",
                    "requests.update",
                    "requests.reassign",
                    "requests.overdue",
                }
                | _READ
            ),
            scope="department",
        ),
        Role("council", "Council member or office", frozenset({"requests.view"} | _READ), scope="area"),
        Role("planner", "Planner", frozenset({"requests.view"} | _READ)),
        Role("analyst", "Analyst", frozenset({"requests.view"} | _READ)),
    )
}


def role_allows(role: str, permission: str) -> bool:
    """Whether ``role`` has ``permission`` (unknown roles have none)."""
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}")
    found = ROLES.get(role)
    return found is not None and permission in found.permissions
