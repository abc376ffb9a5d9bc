"""The fields of a service request in GET requests: each defined once, in the spec's order.

A :class:`Field` holds what every part of the API needs to know of one field: its name
in the spec, the SQL that reads it already formatted (over ``service_request r`` and its
``department d``), and its JSON schema. From :data:`FIELDS` come the SELECT list of
:mod:`open311.queries` (each expression ``AS`` its name, so that records are read by name),
the records of :mod:`open311.serialize`, and the ``ServiceRequest`` schema of
:mod:`open311.openapi`. A new field is one more entry here.

The expressions are where the rule of what a GET response never holds is applied (see
:mod:`open311.serialize`). They may use the bound parameters ``:publish`` (whether the city
publishes descriptions) and ``:media_base`` (the absolute URL photos are served under, ending in
``/``), which :mod:`open311.queries` always binds.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from address_db.places import PUBLIC_PLACE_PATTERN


@dataclass(frozen=True)
class Field:
    """One field of a request: its spec name, the SQL expression that reads it, its JSON schema."""

    name: str
    sql: str
    schema: dict[str, Any]


def nullable(kind: str, **extra: Any) -> dict[str, Any]:
    """The JSON schema of a value of type ``kind`` that may be null."""
    return {"type": kind, "nullable": True, **extra}


#: W3C datetime with the offset of the session's time zone (set to the city's before each query).
W3C_FORMAT = "'YYYY-MM-DD\"T\"HH24:MI:SSTZH:TZM'"
#: A point picked on the map is published by its public place ("near the 200 block of N SPRING ST"), which
#: address_db.places derives from the point; anything else in its address (typed text) never is, nor the
#: neutral text of a point with nothing known near it (not an address).
_PUBLIC_PLACE = PUBLIC_PLACE_PATTERN.replace("'", "''")

#: An entry of a request's history (``request_event e``) the public sees: ``status_notes``, the ``notes``
#: extension and the text search (``q``) read the same entries.
PUBLIC_NOTE = "e.public AND e.note IS NOT NULL"

_STRING = {"type": "string"}
_DATE_TIME = {"type": "string", "format": "date-time"}

#: The fields of a request, in the spec's order.
FIELDS: tuple[Field, ...] = (
    Field("service_request_id", "r.public_ref", _STRING),
    Field(
        "status", "CASE WHEN r.is_open THEN 'open' ELSE 'closed' END", {"type": "string", "enum": ["open", "closed"]}
    ),
    Field(
        "status_notes",
        f"(SELECT e.note FROM request_event e WHERE e.request_id = r.id AND {PUBLIC_NOTE}"
        " ORDER BY e.at DESC, e.id DESC LIMIT 1)",
        nullable("string"),
    ),
    Field("service_name", "r.service_name", _STRING),
    Field("service_code", "r.service_code", _STRING),
    Field(
        "description",
        "CASE WHEN CAST(:publish AS boolean) OR r.details_public THEN nullif(r.description, '') END",
        nullable("string", description="Given only where the city publishes descriptions."),
    ),
    Field("agency_responsible", "d.name", nullable("string")),
    Field("service_notice", "'Expected within ' || r.service_level || '.'", nullable("string")),
    Field("requested_datetime", f"to_char(r.requested_at, {W3C_FORMAT})", _DATE_TIME),
    Field("updated_datetime", f"to_char(r.updated_at, {W3C_FORMAT})", _DATE_TIME),
    Field("expected_datetime", f"to_char(r.due_at, {W3C_FORMAT})", nullable("string", format="date-time")),
    Field(
        "address",
        "CASE WHEN r.location_quality IN ('address', 'source', 'relocated', 'placeholder') THEN r.address"
        # The city's own history gives an address without coordinates for some rows: it is
        # the city's published record (staff pages show it), not a resident's words.
        " WHEN r.location_quality = 'none' AND r.source = 'import' THEN r.address"
        f" WHEN r.location_quality = 'point' AND r.address ~ '{_PUBLIC_PLACE}' AND left(r.address, 5) = 'near '"
        " THEN r.address END",
        nullable("string"),
    ),
    Field("address_id", "r.address_id", nullable("string")),
    Field("zipcode", "r.zipcode", nullable("string")),
    Field(
        "lat",
        "CASE WHEN r.location_quality <> 'placeholder' THEN round(ST_Y(r.geom)::numeric, 6)::float8 END",
        nullable("number", minimum=-90, maximum=90),
    ),
    Field(
        "long",
        "CASE WHEN r.location_quality <> 'placeholder' THEN round(ST_X(r.geom)::numeric, 6)::float8 END",
        nullable("number", minimum=-180, maximum=180),
    ),
    Field(
        "media_url",
        # The first photo the public may see (its service shows photos, staff have not hidden it), else the
        # external URL the request was given.
        "coalesce((SELECT CAST(:media_base AS text) || p.stored_name FROM request_photo p"
        " JOIN service s ON s.city = r.city AND s.code = r.service_code"
        " WHERE p.request_id = r.id AND NOT p.hidden AND s.public_photos ORDER BY p.id LIMIT 1), r.media_url)",
        nullable("string", description="The request's first public photo, or the photo URL it was sent with."),
    ),
)


# Each function takes the fields to use, by default FIELDS as it is when called.


def names(fields: Sequence[Field] | None = None) -> tuple[str, ...]:
    """The fields' names, in order: the keys of a request record."""
    fields = _or_all(fields)
    return tuple(f.name for f in fields)


def expression(name: str, fields: Sequence[Field] | None = None) -> str:
    """The SQL expression of the field called ``name``: what the API publishes of it (KeyError if none)."""
    for field in _or_all(fields):
        if field.name == name:
            return field.sql
    raise KeyError(name)


def select_list(fields: Sequence[Field] | None = None) -> str:
    """The SELECT list of the fields, each expression ``AS`` its (quoted) name."""
    fields = _or_all(fields)
    return ",\n    ".join(f'{f.sql} AS "{f.name}"' for f in fields)


def record(row: Any, fields: Sequence[Field] | None = None) -> dict[str, Any]:
    """The fields of a row selected with :func:`select_list`, read by name, in order."""
    mapping, fields = row._mapping, _or_all(fields)
    return {f.name: mapping[f.name] for f in fields}


def schema(fields: Sequence[Field] | None = None) -> tuple[list[str], dict[str, Any]]:
    """The fields' JSON schema: the required names (every field, null or not) and the properties."""
    fields = _or_all(fields)
    return list(names(fields)), {f.name: copy.deepcopy(f.schema) for f in fields}


def _or_all(fields: Sequence[Field] | None) -> Sequence[Field]:
    """``fields``, or all of them: :data:`FIELDS` as it is at the call (a test may add one)."""
    return FIELDS if fields is None else fields
