"""The views' reading of the query string and the links they build from a filter.

One place for what the map, report and list pages share: the city's filter choices, the
:class:`~service_requests.selection.RequestFilter` of the request's arguments (a bad value is a
400 with the filter's sentence), the other arguments they take (numbers, choices, flags),
``?query`` strings of a filter, and links to the requests behind a figure. What differs
between the pages is a parameter: the reports count scope ``city`` by default (the maps
``mapped``) and carry ``distinct``, ``by`` or ``period`` beside the filter.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NoReturn
from urllib.parse import urlencode

from flask import abort, render_template, request, url_for

from app.web import db_session, runtime
from service_requests.selection import YES, FilterChoices, FilterError, RequestFilter, filter_choices, parse_filter

#: The scope a filter has when the query string names none (:class:`RequestFilter`'s default).
MAPPED = "mapped"


def render_page(template: str, **context: object) -> str:
    """A map or report page: ``template`` with the city and its channels (the filter form needs both)."""
    city = runtime().city
    return render_template(template, city=city, channels=city.channels.names(), **context)


def refuse(exc: FilterError) -> NoReturn:
    """Answer 400 with the sentence of ``exc``."""
    abort(400, str(exc))


def choices() -> FilterChoices:
    """The values the city's filters may take (services, departments, areas, groups, channels)."""
    return filter_choices(db_session(), runtime().city)


def read_filter(known: FilterChoices, default_scope: str = MAPPED, **fixed: object) -> RequestFilter:
    """The filter of the request's arguments, its codes checked against ``known``; 400 if refused.

    With no ``scope`` in the query string the filter has ``default_scope``; ``fixed`` fields
    override the arguments (e.g. the ward of a ward's page).
    """
    args = {name: request.args.getlist(name) for name in request.args}
    try:
        flt = parse_filter(args, known)
        if default_scope != MAPPED and flt.scope == MAPPED:
            flt = flt.replace(scope=default_scope)
        return flt.replace(**fixed) if fixed else flt
    except FilterError as exc:
        refuse(exc)


def query(flt: RequestFilter, default_scope: str = MAPPED, **extra: object) -> str:
    """``?...`` of the filter and ``extra`` arguments (None and "" dropped), or "" for none.

    The scope is left out when it is ``default_scope``, the scope the page reads without one.
    """
    args = flt.args()
    if flt.scope == default_scope:
        args.pop("scope", None)
    args.update({k: [str(v)] for k, v in extra.items() if v is not None and v != ""})
    encoded = urlencode(args, doseq=True)
    return f"?{encoded}" if encoded else ""


def list_url(flt: RequestFilter, **changes: object) -> str:
    """The request list of ``flt`` with ``changes`` (the requests behind a figure)."""
    return url_for("maps.request_list") + query(flt.replace(**changes) if changes else flt)


def flag(name: str, default: bool = False) -> bool:
    """Whether the argument ``name`` is yes (1, true, yes, on); ``default`` when absent."""
    value = request.args.get(name)
    return default if value is None else value in YES


def number(name: str, kind: Callable[[str], float | int], default: float | int | None = None):
    """The argument ``name`` as a finite ``kind`` (int or float), ``default`` when absent; 400 otherwise."""
    value = request.args.get(name, "").strip()
    if not value:
        return default
    try:
        found = kind(value)
    except ValueError:
        abort(400, f"{name} must be a number, not {value!r}.")
    if isinstance(found, float) and not math.isfinite(found):
        abort(400, f"{name} must be a finite number.")
    return found


def choice(name: str, allowed: tuple[str, ...], default: str) -> str:
    """The argument ``name``, one of ``allowed`` (``default`` when absent); 400 otherwise."""
    value = request.args.get(name) or default
    if value not in allowed:
        abort(400, f"{name} must be one of {', '.join(allowed)}, not {value!r}.")
    return value
