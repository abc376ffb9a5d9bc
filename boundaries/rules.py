"""What "the current boundary layers" means in SQL, written once.

A city's layer of a role (jurisdiction, wards, districts, agencies, ...) may have been loaded
many times; exactly one version of each role is current (a unique partial index on
``boundary_layer_version`` keeps it so), and every lookup, map and figure reads that one.
Queries in every package that read boundaries use :func:`current_layers` rather than
spelling the condition.
"""

from __future__ import annotations

from collections.abc import Iterable


def current_layers(alias: str | None = "v", roles: Iterable[str] = (), role_param: str | None = None) -> str:
    """The current versions of the city's layers, over ``boundary_layer_version`` as ``alias`` (``None``: the
    table itself, unqualified); binds ``:city``.

    ``roles`` narrows to those roles (the city file's layer names, never user input); ``role_param``
    names a bound parameter holding one role instead (``"role"`` binds ``:role``).
    """
    a = f"{alias}." if alias else ""
    rule = f"{a}city = :city AND {a}is_current"
    roles = tuple(roles)
    if roles and role_param:
        raise ValueError("Give roles or role_param, not both.")
    if roles:
        rule += f" AND {a}role IN ({', '.join(repr(role) for role in roles)})"
    elif role_param:
        rule += f" AND {a}role = :{role_param}"
    return rule
