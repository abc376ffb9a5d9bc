"""Breakout dimensions, each defined once: what the reports break requests out by besides time.

A :class:`Dimension` holds its key (in URLs, ``by=``, file names), its label, its SQL over
the request ``r`` (and the service ``s`` when it needs :data:`SERVICE_JOIN`), where the
names of its codes come from, the request-filter field a row of it narrows to, and which
tables take it. The reports' SQL and labels, the web's breakout and export maps and the
report tabs are all derived from :data:`DIMENSIONS`: a new dimension is one entry here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from core.channels import FAMILIES
from core.city import CityConfig
from core.states import STATE_LABELS
from service_requests.selection import FilterChoices, FilterError

#: The service of a request, for dimensions over the catalogue (``s``).
SERVICE_JOIN = "LEFT JOIN service s ON s.city = r.city AND s.code = r.service_code"

Names = Callable[[FilterChoices | None, CityConfig], Mapping[str, str]]


def choice_names(attribute: str) -> Names:
    """Names from the :class:`FilterChoices` attribute ``attribute`` (none without choices)."""
    return lambda choices, city: getattr(choices, attribute) if choices is not None else {}


@dataclass(frozen=True)
class Dimension:
    """A breakout dimension.

    ``sql`` is its expression over ``r`` (and ``s`` with ``join``), or a function of the city
    giving it (the channel families are the city's). ``names`` gives code -> name for its
    labels. ``filter_field`` is the :class:`~service_requests.selection.RequestFilter` field
    that selects one of its values (``many``: the field holds a tuple). ``top``: the top
    services table can be ranked per it.
    """

    key: str
    label: str
    sql: str | Callable[[CityConfig], str]
    names: Names
    filter_field: str
    many: bool = False
    join: str = ""
    top: bool = True

    def expression(self, city: CityConfig) -> str:
        """Its SQL expression for ``city``."""
        return self.sql if isinstance(self.sql, str) else self.sql(city)

    def filter_value(self, key: str) -> str | tuple[str, ...]:
        """The value of :attr:`filter_field` selecting the requests of ``key``."""
        return (key,) if self.many else key


#: Every breakout dimension, in the order of the tabs.
DIMENSIONS: dict[str, Dimension] = {
    d.key: d
    for d in (
        Dimension("department", "Department", "r.department_code", choice_names("departments"), "department"),
        Dimension("service", "Service", "r.service_code", choice_names("services"), "services", many=True),
        Dimension(
            "group", "Service group", "s.group_name", choice_names("groups"), "group", join=SERVICE_JOIN, top=False
        ),
        Dimension("ward", "Ward", "r.ward_key", choice_names("wards"), "ward"),
        Dimension("district", "District", "r.district_key", choice_names("districts"), "district"),
        Dimension("state", "State", "r.status", lambda _, city: dict(STATE_LABELS), "states", many=True),
        Dimension("channel", "Channel", "r.channel", lambda _, city: city.channels.names(), "channels", many=True),
        Dimension(
            "family",
            "Channel family",
            lambda city: city.channels.family_sql("r.channel"),
            lambda _, city: dict(FAMILIES),
            "families",
            many=True,
        ),
    )
}


def dimension(key: str) -> Dimension:
    """The dimension named ``key``; a :class:`~service_requests.selection.FilterError` naming them if not."""
    if key not in DIMENSIONS:
        raise FilterError(f"Break out by one of {', '.join(DIMENSIONS)}, not {key!r}.")
    return DIMENSIONS[key]


__all__ = ["DIMENSIONS", "SERVICE_JOIN", "Dimension", "choice_names", "dimension"]
