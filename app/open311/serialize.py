"""The spec's representations: dicts in the spec's field order, then JSON or XML.

JSON follows the spec's examples (arrays of objects, ``null`` for what is not known);
XML has the spec's root and item elements (``<services><service>``,
``<service_requests><request>``, ``<errors><error>``) and the XML declaration with
``encoding="utf-8"``. Codes and ids are strings in both. Datetimes are W3C ISO 8601 in
the city's time zone, with its offset.

What a GET response never holds: the requester's name, e-mail, phone or contact notes
(they live in another table that no query here reads), nor text a person typed about
themselves or the place: the location note, an address typed rather than found in the
address database, and (unless the city publishes them) the description.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, tzinfo
from typing import Any, Iterable, Mapping
from xml.etree import ElementTree as ET

from app.catalogue import Service

#: The item element of each list, as the spec names them.
ITEMS = {
    "services": "service", "service_requests": "request", "errors": "error", "attributes": "attribute",
    "values": "value", "endpoints": "endpoint", "formats": "format", "notes": "note",
}
_XML_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# A standardized address from the address database (or "near" one, from a point picked on the map).
_STANDARD_ADDRESS = re.compile(r"(?:near )?\d+[A-Z]?(?: \d/\d)? [A-Z0-9 ]+(?:, \d{5})?")
_INTERSECTION = re.compile(r"[A-Z0-9 ]+ AT [A-Z0-9 ]+(?:, \d{5})?")
# Location qualities whose address came from the address database or the city's published history.
_PUBLIC_ADDRESS_QUALITIES = ("address", "source", "relocated", "placeholder")


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
        "attributes": [{
            "variable": True,
            "code": a.code,
            "datatype": a.datatype,
            "required": a.required,
            "datatype_description": a.datatype_description,
            "order": a.order,
            "description": a.description,
            "values": [{"key": v.key, "name": v.name} for v in a.values],
        } for a in sorted(service.attributes, key=lambda a: a.order)],
    }


def public_address(address: str | None, quality: str) -> str | None:
    """The address as it may be published: one from the address database or the city's own
    history, or a standardized one near a picked point; never free text a person typed."""
    if not address:
        return None
    if quality in _PUBLIC_ADDRESS_QUALITIES:
        return address
    if quality == "point" and (_STANDARD_ADDRESS.fullmatch(address) or _INTERSECTION.fullmatch(address)):
        return address
    return None


def request_dict(row: Any, tz: tzinfo, publish_descriptions: bool, extended: bool = False,
                 notes: list[dict[str, Any]] | None = None,
                 area_names: Mapping[tuple[str, str], str] | None = None) -> dict[str, Any]:
    """One request of GET requests, from a row of :mod:`app.open311.queries`."""
    record = {
        "service_request_id": row.public_ref,
        "status": "open" if row.is_open else "closed",
        "status_notes": row.status_notes,
        "service_name": row.service_name,
        "service_code": row.service_code,
        "description": (row.description or None) if publish_descriptions else None,
        "agency_responsible": row.agency,
        "service_notice": f"Expected within {row.service_level}." if row.service_level else None,
        "requested_datetime": w3c(row.requested_at, tz),
        "updated_datetime": w3c(row.updated_at, tz),
        "expected_datetime": w3c(row.due_at, tz),
        "address": public_address(row.address, row.location_quality),
        "address_id": row.address_id,
        "zipcode": row.zipcode,
        "lat": round(row.lat, 6) if row.lat is not None else None,
        "long": round(row.lon, 6) if row.lon is not None else None,
        "media_url": row.media_url,
    }
    if extended:
        names = area_names or {}
        record["extended_attributes"] = {
            "ward": row.ward_key,
            "ward_name": names.get(("wards", row.ward_key)) if row.ward_key else None,
            "district": row.district_key,
            "district_name": names.get(("districts", row.district_key)) if row.district_key else None,
            "duplicate_of": row.duplicate_of,
        }
        record["notes"] = notes or []
    return record


def note_dict(event: Any, tz: tzinfo) -> dict[str, Any]:
    """A public entry of a request's history (the ``notes`` extension)."""
    return {"datetime": w3c(event.at, tz), "description": event.note, "type": event.kind}


def to_json(document: Any) -> bytes:
    """The document as UTF-8 JSON."""
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def to_xml(root: str, document: Mapping[str, Any] | Iterable[Mapping[str, Any]]) -> bytes:
    """The document under ``<root>``: a list becomes ``<root><item>…</item>…</root>``, a dict its fields."""
    element = ET.Element(root)
    _fill(element, root, document)
    body = ET.tostring(element, encoding="unicode", short_empty_elements=True)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + body.encode("utf-8")


def _fill(element: ET.Element, name: str, value: Any) -> None:
    if isinstance(value, Mapping):
        for key, item in value.items():
            _fill(ET.SubElement(element, key), key, item)
    elif isinstance(value, (list, tuple)):
        item_name = ITEMS.get(name, "item")
        for item in value:
            _fill(ET.SubElement(element, item_name), item_name, item)
    elif value is None:
        return
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    else:
        element.text = _XML_UNSAFE.sub("", str(value))
