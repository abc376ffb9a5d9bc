"""The spec's representations: dicts in the spec's field order, then JSON or XML.

JSON follows the spec's examples (arrays of objects, ``null`` for what is not known);
XML has the spec's root and item elements (``<services><service>``,
``<service_requests><request>``, ``<errors><error>``) and the XML declaration with
``encoding="utf-8"``. Codes and ids are strings in both. Datetimes are W3C ISO 8601 in
the city's time zone, with its offset.

The request fields come formatted from the database (:mod:`open311.fields`), which
is also where the rule of what a GET response never holds is applied: no name, e-mail,
phone or contact notes (another table, never read there), no location note, no address a
person typed (only those of the address database, the city's own history, or standardized
ones near a picked point) and, unless the city publishes them, no description.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from datetime import datetime, tzinfo
from typing import Any

from core.catalogue_file import Service
from core.channels import ChannelVocabulary
from open311 import fields

#: The item element of each list, as the spec names them.
ITEMS = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "notes": "note",
    "service_requests_updates": "request_update",
}
#: The fields of a request, in the spec's order (defined in :mod:`open311.fields`).
REQUEST_FIELDS = fields.names()
_XML_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def w3c(moment: datetime | None, tz: tzinfo) -> str | None:
    """``2026-11-23T04:58:42-08:00``: the moment in the city's time zone, with its offset."""
    if moment is None:
        return None
    return moment.astimezone(tz).isoformat(timespec="seconds")


def service_dict(service: Service) -> dict[str, Any]:
    """One service of GET services."""
    return {
        "service_code": service.code,
        "service_name": service.name,
        "description": service.description or None,
        "metadata": bool(service.attributes),
        "type": "realtime",
        "keywords": ", ".join(service.keywords) or None,
        "group": service.group or None,
    }


def service_definition_dict(service: Service) -> dict[str, Any]:
    """GET service definition: the service's questions in the spec's attribute model."""
    return {
        "service_code": service.code,
        "attributes": [
            {
                "variable": True,
                "code": a.code,
                "datatype": a.datatype,
                "required": a.required,
                "datatype_description": a.datatype_description,
                "order": a.order,
                "description": a.description,
                "values": [{"key": v.key, "name": v.name} for v in a.values],
            }
            for a in sorted(service.attributes, key=lambda a: a.order)
        ],
    }


def request_record(row: Any) -> dict[str, Any]:
    """One request of GET requests, from a row of :mod:`open311.queries` (fields already formatted, by name)."""
    return fields.record(row)


def extend_record(
    record: dict[str, Any],
    row: Any,
    area_names: Mapping[tuple[str, str], str],
    notes: list[dict[str, Any]],
    channels: ChannelVocabulary,
    application: str | None = None,
) -> None:
    """Add the ``extensions=true`` fields: ward, district, duplicate_of, the channel (the city's code and
    name, and the Open311 ``application`` that filed it, if one did), and the public history."""
    record["extended_attributes"] = {
        "ward": row.ward_key,
        "ward_name": area_names.get(("wards", row.ward_key)) if row.ward_key else None,
        "district": row.district_key,
        "district_name": area_names.get(("districts", row.district_key)) if row.district_key else None,
        "duplicate_of": row.duplicate_of,
        "channel": row.channel_code,
        "channel_name": channels.name(row.channel_code),
        "application": application,
    }
    record["notes"] = notes


def note_dict(event: Any) -> dict[str, Any]:
    """A public entry of a request's history (the ``notes`` extension); ``at`` is already W3C text."""
    return {"datetime": event.at, "description": event.note, "type": event.kind}


def to_json(document: Any) -> bytes:
    """The document as UTF-8 JSON."""
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def to_xml(root: str, document: Mapping[str, Any] | Iterable[Mapping[str, Any]]) -> bytes:
    """The document under ``<root>``: a list becomes ``<root><item>…</item>…</root>``, a dict its fields.

    Element names are the spec's (never input); text is escaped, and characters XML 1.0
    cannot carry are dropped.
    """
    parts = ['<?xml version="1.0" encoding="utf-8"?>\n']
    _write(parts, root, document)
    return "".join(parts).encode("utf-8")


def _write(parts: list[str], name: str, value: Any) -> None:
    if value is None:
        parts.append(f"<{name}></{name}>")
    elif isinstance(value, str):
        parts.append(f"<{name}>{_text(value)}</{name}>")
    elif isinstance(value, bool):
        parts.append(f"<{name}>{'true' if value else 'false'}</{name}>")
    elif isinstance(value, Mapping):
        parts.append(f"<{name}>")
        for key, item in value.items():
            _write(parts, key, item)
        parts.append(f"</{name}>")
    elif isinstance(value, (list, tuple)):
        item_name = ITEMS.get(name, "item")
        parts.append(f"<{name}>")
        for item in value:
            _write(parts, item_name, item)
        parts.append(f"</{name}>")
    else:
        parts.append(f"<{name}>{_text(str(value))}</{name}>")


def _text(value: str) -> str:
    if _XML_UNSAFE.search(value):
        value = _XML_UNSAFE.sub("", value)
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
