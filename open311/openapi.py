"""The OpenAPI 3.0 document of the Open311 API, built from the same rules the code applies.

Every method appears once per format (``.json`` and ``.xml``), with every argument and
every status it can answer. The query arguments' patterns are the parser's own
(:data:`open311.params.PATTERNS`), the service codes and the POST form's questions
(``attribute[code]``) are this city's current catalogue, so that a fuzzer's "valid" and
"invalid" agree with the server's. What no pattern can say (a real calendar date, a box
the right way round, a window of at most 90 days, lat sent with long, a question of another
service) is written in the descriptions and answered with a 400.

JSON and XML answers share one schema per answer: each schema's ``xml`` object names the
elements :func:`open311.serialize.to_xml` writes (a list is a wrapper element named for the
list, with one :data:`open311.serialize.ITEMS` element per item; the roots are the views').
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.catalogue_file import Attribute, Service
from core.city import CityConfig
from open311.fields import Field, nullable
from open311.fields import schema as request_schema
from open311.params import (
    DATE_PATTERN,
    DATETIME_PATTERN,
    IGNORED,
    MAX_RADIUS_M,
    MAX_TEXT,
    MAX_WORDS,
    PATTERNS,
    jurisdiction_pattern,
)
from open311.serialize import ITEMS
from open311.submit import IDEMPOTENCY_PATTERN, MAX_LENGTHS
from open311.updates import MAX_LENGTHS as UPDATE_LENGTHS
from open311.updates import REQUIRED as UPDATE_REQUIRED
from open311.updates import ROOT as UPDATES_ROOT
from open311.updates import STATUSES
from open311.updates import schema as update_schema

PREFIX = "/open311/v2"
FORMATS = {"json": "application/json", "xml": "text/xml"}

_ERROR_TEXT = {
    400: "An argument is missing or wrong (each error names it).",
    403: "The api_key is missing (POST), unknown or revoked.",
    404: "No such service, request, token, jurisdiction or format.",
    409: "This update_id was already used by this client for an update with other contents.",
    413: "The request body is larger than 16 MB.",
    414: "The URL is longer than the web server takes (split a long service_request_id list).",
    429: "Too many requests this minute for the api_key, or for the client address without a key.",
    503: "The database cannot be reached for a moment.",
}


def _list(name: str, items: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """An array that XML writes as ``<name>`` wrapping one ``<ITEMS[name]>`` per item.

    A ``$ref`` item takes its element name from the referenced schema (OpenAPI 3.0 ignores a
    ``$ref``'s siblings), which :func:`_item` names.
    """
    if "$ref" not in items:
        items = _item(name, items)
    return {"type": "array", **extra, "xml": {"name": name, "wrapped": True}, "items": items}


def _item(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` as an item of the list ``name``: in XML, an element named ``ITEMS[name]``."""
    return {**schema, "xml": {"name": ITEMS[name]}}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _schemas(fields: Sequence[Field] | None = None) -> dict[str, Any]:
    """The document's schemas; ``ServiceRequest`` has the request ``fields`` (then the extensions)."""
    string = {"type": "string"}
    required, properties = request_schema(fields)
    update_required, update_properties = update_schema()
    return {
        "Error": _item(
            "errors",
            {
                "type": "object",
                "required": ["code", "description"],
                "additionalProperties": False,
                "properties": {
                    "code": {"type": "string", "description": "The HTTP status, as a string."},
                    "description": string,
                },
            },
        ),
        "Errors": _list("errors", _ref("Error"), minItems=1),
        "Discovery": {
            "type": "object",
            "xml": {"name": "discovery"},
            "required": ["changeset", "contact", "key_service", "endpoints"],
            "properties": {
                "changeset": string,
                "contact": string,
                "key_service": string,
                "endpoints": _list(
                    "endpoints",
                    {
                        "type": "object",
                        "required": ["specification", "url", "changeset", "type", "formats"],
                        "properties": {
                            "specification": string,
                            "url": string,
                            "changeset": string,
                            "type": {"type": "string", "enum": ["production", "test"]},
                            "formats": _list("formats", string),
                        },
                    },
                ),
            },
        },
        "Service": _item(
            "services",
            {
                "type": "object",
                "required": ["service_code", "service_name", "description", "metadata", "type", "keywords", "group"],
                "properties": {
                    "service_code": string,
                    "service_name": string,
                    "description": nullable("string"),
                    "metadata": {"type": "boolean"},
                    "type": {"type": "string", "enum": ["realtime", "batch", "blackbox"]},
                    "keywords": nullable("string"),
                    "group": nullable("string"),
                },
            },
        ),
        "Services": _list("services", _ref("Service")),
        "ServiceDefinition": {
            "type": "object",
            "xml": {"name": "service_definition"},
            "required": ["service_code", "attributes"],
            "properties": {
                "service_code": string,
                "attributes": _list(
                    "attributes",
                    {
                        "type": "object",
                        "required": [
                            "variable",
                            "code",
                            "datatype",
                            "required",
                            "datatype_description",
                            "order",
                            "description",
                            "values",
                        ],
                        "properties": {
                            "variable": {"type": "boolean"},
                            "code": string,
                            "datatype": {
                                "type": "string",
                                "enum": ["string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"],
                            },
                            "required": {"type": "boolean"},
                            "datatype_description": nullable("string"),
                            "order": {"type": "integer", "minimum": 0},
                            "description": string,
                            "values": _list(
                                "values",
                                {
                                    "type": "object",
                                    "required": ["key", "name"],
                                    "properties": {"key": string, "name": string},
                                },
                            ),
                        },
                    },
                ),
            },
        },
        "ServiceRequest": {
            "type": "object",
            "xml": {"name": ITEMS["service_requests"]},
            "required": required,
            "properties": {
                **properties,
                "extended_attributes": {
                    "type": "object",
                    "description": "With extensions=true.",
                    "properties": {
                        "ward": nullable("string"),
                        "ward_name": nullable("string"),
                        "district": nullable("string"),
                        "district_name": nullable("string"),
                        "duplicate_of": nullable("string"),
                        "channel": {
                            "type": "string",
                            "description": "How the request came in: the city's channel code (phone, web, "
                            "open311, email, walk_in...).",
                        },
                        "channel_name": {"type": "string", "description": "The city's name of the channel."},
                        "application": nullable(
                            "string", description="The Open311 application that filed it, if one did."
                        ),
                    },
                },
                "notes": _list(
                    "notes",
                    {
                        "type": "object",
                        "required": ["datetime", "description", "type"],
                        "properties": {
                            "datetime": {"type": "string", "format": "date-time"},
                            "description": string,
                            "type": string,
                        },
                    },
                    description="With extensions=true: the public history.",
                ),
            },
        },
        "ServiceRequests": _list("service_requests", _ref("ServiceRequest")),
        # The spec's answer to POST: in XML, like GET requests, <service_requests><request>.
        "Created": _list(
            "service_requests",
            {
                "type": "object",
                "required": ["service_request_id", "service_notice", "account_id"],
                "properties": {
                    "service_request_id": string,
                    "service_notice": nullable("string"),
                    "account_id": nullable("string"),
                },
            },
            minItems=1,
            maxItems=1,
        ),
        "RequestUpdate": _item(
            UPDATES_ROOT, {"type": "object", "required": update_required, "properties": update_properties}
        ),
        "RequestUpdates": _list(UPDATES_ROOT, _ref("RequestUpdate")),
        "UpdatePosted": _list(
            UPDATES_ROOT,
            {
                "type": "object",
                "required": ["update_id"],
                "properties": {"update_id": {**string, "description": "The server's id of the update."}},
            },
            minItems=1,
            maxItems=1,
        ),
        # GET tokens: in XML, <service_requests><request> as the spec's example has it.
        "TokenAnswer": _list(
            "service_requests",
            {
                "type": "object",
                "required": ["service_request_id", "token"],
                "properties": {"service_request_id": string, "token": string},
            },
            minItems=1,
            maxItems=1,
        ),
    }


def _query(name: str, description: str, pattern: str | None = None) -> dict[str, Any]:
    """An optional query argument; an empty value means "not sent", so every pattern admits it."""
    schema: dict[str, Any] = {"type": "string"}
    if pattern is not None:
        schema["pattern"] = f"^(?:|{pattern})$"
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}


def _argument(name: str, description: str) -> dict[str, Any]:
    return _query(name, description, PATTERNS[name])


def _moment(name: str, description: str) -> dict[str, Any]:
    """A date-time argument: RFC 3339 with its offset, or a date alone (or empty: not sent)."""
    parameter = _query(name, description)
    parameter["schema"] = {
        "anyOf": [
            {"type": "string", "format": "date-time", "pattern": f"^{DATETIME_PATTERN}$"},
            {"type": "string", "format": "date", "pattern": f"^{DATE_PATTERN}$"},
            {"type": "string", "maxLength": 0},
        ]
    }
    return parameter


#: A GET's answer to a client whose copy is current (every GET carries an ETag: app/web/open311.py).
_NOT_MODIFIED = {
    "description": "Not Modified: the copy of the client's ETag (If-None-Match), or without one of its "
    "If-Modified-Since, is current. No body."
}


def _responses(
    fmt: str, schema: str | None, codes: tuple[int, ...], text: str, conditional: bool = False
) -> dict[str, Any]:
    def content(ref: str) -> dict[str, Any]:
        return {FORMATS[fmt]: {"schema": _ref(ref)}}  # one schema for both formats: its xml names the elements

    responses: dict[str, Any] = {"200": {"description": text, "content": content(schema) if schema else {}}}
    if conditional:
        responses["304"] = _NOT_MODIFIED
    for code in codes:
        if code == 414:  # answered by the web server itself, before the app
            responses["414"] = {"description": _ERROR_TEXT[414]}
        else:
            responses[str(code)] = {"description": _ERROR_TEXT[code], "content": content("Errors")}
    return responses


def _attribute_property(attribute: Attribute) -> dict[str, Any]:
    keys = [v.key for v in attribute.values]
    description = f"{attribute.description} ({attribute.datatype})"
    if attribute.datatype == "singlevaluelist":
        return {"type": "string", "enum": keys, "description": description}
    if attribute.datatype == "number":
        return {"type": "number", "minimum": -1e12, "maximum": 1e12, "description": description}
    if attribute.datatype == "datetime":
        return {"type": "string", "description": description + ": ISO 8601, e.g. 2026-11-23T14:30"}
    return {"type": "string", "maxLength": 1000 if attribute.datatype == "string" else 4000, "description": description}


def _post_form(services: list[Service], jurisdiction: dict[str, Any]) -> dict[str, Any]:
    text = {"type": "string"}
    properties: dict[str, Any] = {
        "api_key": {**text, "description": "The application's key (here, or in the query string)."},
        "jurisdiction_id": {**jurisdiction["schema"], "description": jurisdiction["description"]},
        "service_code": {
            "type": "string",
            "enum": [s.code for s in services],
            "description": "From services.xml / services.json (another code is a 404).",
        },
        "lat": {
            "type": "number",
            "minimum": -90,
            "maximum": 90,
            "description": "Latitude, WGS 84; sent together with long.",
        },
        "long": {
            "type": "number",
            "minimum": -180,
            "maximum": 180,
            "description": "Longitude, WGS 84; sent together with lat.",
        },
        "address_string": {
            **text,
            "maxLength": MAX_LENGTHS["address_string"],
            "description": "Checked against the city's address database; an address another agency "
            "serves is refused (400) with that agency's name and phone.",
        },
        "address_id": {
            **text,
            "maxLength": MAX_LENGTHS["address_id"],
            "description": "An id of the city's address database.",
        },
        "email": {
            **text,
            "maxLength": MAX_LENGTHS["email"],
            "description": "The requester's e-mail (acknowledgement and closing notice go there). Never "
            "shown by a GET method.",
        },
        "device_id": {**text, "maxLength": MAX_LENGTHS["device_id"], "description": "Checked, not stored."},
        "account_id": {
            **text,
            "maxLength": MAX_LENGTHS["account_id"],
            "description": "Checked, not stored; echoed in the response.",
        },
        "first_name": {**text, "maxLength": MAX_LENGTHS["first_name"], "description": "Never shown by a GET method."},
        "last_name": {**text, "maxLength": MAX_LENGTHS["last_name"], "description": "Never shown by a GET method."},
        "phone": {
            **text,
            "maxLength": MAX_LENGTHS["phone"],
            "description": "At least 7 digits. Never shown by a GET method.",
        },
        "description": {**text, "maxLength": MAX_LENGTHS["description"], "description": "Free text, 4,000 characters."},
        "media_url": {**text, "maxLength": MAX_LENGTHS["media_url"], "description": "An http(s) URL."},
        "idempotency_key": {
            **text,
            "pattern": f"^{IDEMPOTENCY_PATTERN}$",
            "description": "Optional (also as the Idempotency-Key header): a retried POST with the same "
            "key returns the request already made.",
        },
    }
    encoding: dict[str, Any] = {}
    for service in services:
        for attribute in service.attributes:
            if attribute.datatype == "multivaluelist":
                name = f"attribute[{attribute.code}][]"
                properties[name] = {
                    "type": "array",
                    "items": {"type": "string", "enum": [v.key for v in attribute.values]},
                    "description": f"{service.code}: {attribute.description} (multivaluelist: repeat the argument)",
                }
                encoding[name] = {"style": "form", "explode": True}
            else:
                properties[f"attribute[{attribute.code}]"] = _attribute_property(attribute)
    return {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {"type": "object", "required": ["service_code"], "properties": properties},
                "encoding": encoding,
            },
            # mySociety's extension: the same arguments as a multipart form, with a photo as the file ``media``.
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["service_code"],
                    "properties": {
                        **properties,
                        "media": {
                            "type": "string",
                            "format": "binary",
                            "description": "A photo (JPEG, PNG, WebP or HEIC, stored as JPEG): checked by its content, scaled down and "
                            "stored without its metadata (location, camera); media_url then points at it where "
                            "the service shows photos publicly.",
                        },
                    },
                },
            },
        },
    }


def _update_form(jurisdiction: dict[str, Any]) -> dict[str, Any]:
    """The form of POST servicerequestupdates."""
    text = {"type": "string"}
    descriptions = {
        "service_request_id": "The request's id, as POST requests answered (an unknown one is 404).",
        "update_id": "Your own id of the update: the same update_id again answers the first answer; with other "
        "contents it is a 409.",
        "updated_datetime": "When the update was made, RFC 3339 with its offset (kept with the update; the "
        "history's time is its arrival).",
        "status": "FixMyStreet's statuses. The request's own status makes a comment; another one changes "
        "the status, for keys allowed to (else 403). DUPLICATE is refused (400).",
        "description": "The comment (required); public only where the city publishes client updates.",
        "media_url": "An http(s) URL of a photo.",
        "first_name": "Never shown by a GET method.",
        "last_name": "Never shown by a GET method.",
        "email": "Never shown by a GET method.",
    }
    properties: dict[str, Any] = {
        "api_key": {**text, "description": "The application's key (here, or in the query string)."},
        "jurisdiction_id": {**jurisdiction["schema"], "description": jurisdiction["description"]},
    }
    for name, longest in UPDATE_LENGTHS.items():
        properties[name] = {**text, "maxLength": longest, "description": descriptions[name]}
    properties["status"] = {"type": "string", "enum": list(STATUSES), "description": descriptions["status"]}
    properties["update_id"]["pattern"] = f"^{IDEMPOTENCY_PATTERN}$"
    properties["updated_datetime"]["pattern"] = f"^{DATETIME_PATTERN}$"
    return {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {"type": "object", "required": list(UPDATE_REQUIRED), "properties": properties}
            }
        },
    }


def openapi_document(city: CityConfig, services: list[Service]) -> dict[str, Any]:
    """The OpenAPI 3.0.3 document of the API of ``city`` with its current ``services``."""
    accepted = (city.open311.jurisdiction_id, city.key)
    jurisdiction = _query(
        "jurisdiction_id",
        f"Optional: this endpoint serves one jurisdiction. If given, it must be "
        f"{' or '.join(a for a in accepted if a)} (any case); anything else is 404.",
        jurisdiction_pattern(accepted),
    )
    extensions = _argument(
        "extensions",
        "true adds extended_attributes (ward, district, duplicate_of, channel, application) and notes (the "
        "public history).",
    )
    optional_key: list[dict[str, list[str]]] = [{}, {"api_key": []}]
    codes = [s.code for s in services]
    common = (400, 403, 414, 429, 503)
    paths: dict[str, Any] = {}
    for fmt in FORMATS:
        paths[f"{PREFIX}/discovery.{fmt}"] = {
            "get": {
                "operationId": f"discovery_{fmt}",
                "summary": "Service discovery",
                "tags": ["discovery"],
                "security": optional_key,
                "parameters": [jurisdiction],
                "responses": _responses(fmt, "Discovery", (*common, 404), "The discovery document.", conditional=True),
            }
        }
        paths[f"{PREFIX}/services.{fmt}"] = {
            "get": {
                "operationId": f"services_{fmt}",
                "summary": "GET Service List",
                "tags": ["services"],
                "security": optional_key,
                "parameters": [jurisdiction],
                "responses": _responses(fmt, "Services", (*common, 404), "The active services.", conditional=True),
            }
        }
        paths[f"{PREFIX}/services/{{service_code}}.{fmt}"] = {
            "get": {
                "operationId": f"service_definition_{fmt}",
                "summary": "GET Service Definition",
                "tags": ["services"],
                "security": optional_key,
                "parameters": [
                    {
                        "name": "service_code",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "enum": codes},
                        "description": "A service code of services.json (any other is 404).",
                    },
                    jurisdiction,
                ],
                "responses": _responses(
                    fmt, "ServiceDefinition", (*common, 404), "The service's questions.", conditional=True
                ),
            }
        }
        paths[f"{PREFIX}/requests.{fmt}"] = {
            "post": {
                "operationId": f"create_request_{fmt}",
                "summary": "POST Service Request",
                "tags": ["requests"],
                "description": "Goes through the same intake as the city's own forms: address validation, boundaries "
                "(out-of-area locations are refused naming the responsible agency), routing, due date, "
                "duplicate hints. Every service is realtime: the service_request_id comes back at once. "
                "The api_key may also be sent in the form body. A location (lat and long together, "
                "address_string or address_id) is needed where the service asks for one, and the "
                "attributes are the chosen service's (see its service definition).",
                "security": [{"api_key": []}],
                "parameters": [
                    jurisdiction,
                    {
                        "name": "Idempotency-Key",
                        "in": "header",
                        "required": False,
                        "schema": {"type": "string", "pattern": f"^{IDEMPOTENCY_PATTERN}$"},
                        "description": "A retried POST with the same key returns the request already made.",
                    },
                ],
                "requestBody": _post_form(services, jurisdiction),
                "responses": _responses(
                    fmt,
                    "Created",
                    (*common, 404, 413),
                    "The request was filed (or, for a repeated Idempotency-Key, found).",
                ),
            },
            "get": {
                "operationId": f"requests_{fmt}",
                "summary": "GET Service Requests",
                "tags": ["requests"],
                "description": "Most recent first (q and lat/long/radius keep that order). Without service_request_id, start_date, end_date, updated_after or "
                "updated_before the window is the last 90 days; start_date alone means the 90 days from "
                "it, end_date alone the 90 days up to it; a window may not span more than 90 days and "
                "start_date may not be after end_date (400). At most 1,000 requests a page. Requests "
                "whose point lies in another jurisdiction are left out.",
                "security": optional_key,
                "parameters": [
                    jurisdiction,
                    _argument("service_request_id", "Comma delimited (at most 1,000); overrides every other filter."),
                    _argument("service_code", "Comma delimited service codes (at most 100)."),
                    _moment(
                        "start_date",
                        "Earliest requested_datetime: RFC 3339 with offset, e.g. "
                        "2010-01-01T00:00:00Z (a date alone: midnight in the city's time zone).",
                    ),
                    _moment("end_date", "Latest requested_datetime, written as start_date."),
                    _argument("status", "open, closed or open,closed."),
                    _moment("updated_after", "Extension: updated_datetime at or after, written as start_date."),
                    _moment("updated_before", "Extension: updated_datetime at or before, written as start_date."),
                    _argument(
                        "bbox",
                        "Extension: min_long,min_lat,max_long,max_lat in WGS 84 degrees (within "
                        "-180..180 and -90..90, west <= east, south <= north).",
                    ),
                    _argument(
                        "q",
                        f"Extension: words of text, 1 to {MAX_TEXT} characters (at most {MAX_WORDS} words). "
                        "A request matches when each word is in its service name, published address, public "
                        "notes or (where the city publishes descriptions) description, whatever the case and "
                        "accents. Combines with every other argument.",
                    ),
                    _argument("lat", "Extension: with long and radius, the centre of a circle (WGS 84 degrees)."),
                    _argument("long", "Extension: with lat and radius, the centre of a circle (WGS 84 degrees)."),
                    _argument(
                        "radius",
                        f"Extension: with lat and long, the circle's radius in metres, more than 0 and at most "
                        f"{MAX_RADIUS_M:,}. Requests whose published point lies within it; requests without a "
                        "published point never match. lat, long and radius go together (one or two of them "
                        "is a 400), and not with bbox (400).",
                    ),
                    _argument("page", "Extension: page number, from 1 to 10,000."),
                    _argument("page_size", "Extension: requests per page, 1 to 1,000 (the default)."),
                    extensions,
                    *(
                        _query(name, f'Accepted and ignored, with a Warning header: 299 - "{warning}".')
                        for name, warning in IGNORED.items()
                    ),
                ],
                "responses": _responses(
                    fmt, "ServiceRequests", (*common, 404), "The matching requests.", conditional=True
                ),
            },
        }
        paths[f"{PREFIX}/requests/{{service_request_id}}.{fmt}"] = {
            "get": {
                "operationId": f"request_{fmt}",
                "summary": "GET Service Request",
                "tags": ["requests"],
                "security": optional_key,
                "parameters": [
                    {
                        "name": "service_request_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string"},
                        "description": "The request's id; unknown ids are 404.",
                    },
                    jurisdiction,
                    extensions,
                ],
                "responses": _responses(
                    fmt, "ServiceRequests", (*common, 404), "An array of one request.", conditional=True
                ),
            }
        }
        paths[f"{PREFIX}/servicerequestupdates.{fmt}"] = {
            "get": {
                "operationId": f"service_request_updates_{fmt}",
                "summary": "GET Service Request Updates (mySociety's extension)",
                "tags": ["updates"],
                "description": "The public entries of the requests' histories (status changes, reopenings, notes, "
                "replies), oldest first, with FixMyStreet's statuses. The window of updated_datetime is read "
                "as for GET requests: start_date and end_date at most 90 days apart, one of them alone means "
                "the 90 days from or up to it, neither the last 90 days. At most 1,000 updates a page.",
                "security": optional_key,
                "parameters": [
                    jurisdiction,
                    _moment("start_date", "Earliest updated_datetime: RFC 3339 with offset (a date alone: midnight)."),
                    _moment("end_date", "Latest updated_datetime, written as start_date."),
                    _argument("page", "Page number, from 1 to 10,000."),
                    _argument("page_size", "Updates per page, 1 to 1,000 (the default)."),
                ],
                "responses": _responses(
                    fmt, "RequestUpdates", (*common, 404), "The updates in the window.", conditional=True
                ),
            },
            "post": {
                "operationId": f"post_service_request_update_{fmt}",
                "summary": "POST Service Request Update (mySociety's extension)",
                "tags": ["updates"],
                "description": "A comment or status change from the client, recorded in the request's history "
                "with the client's name; idempotent on the client's update_id. Arguments not listed "
                "(FixMyStreet sends more) are ignored.",
                "security": [{"api_key": []}],
                "parameters": [jurisdiction],
                "requestBody": _update_form(jurisdiction),
                "responses": _responses(
                    fmt, "UpdatePosted", (*common, 404, 409, 413), "The update was recorded (or, repeated, found)."
                ),
            },
        }
        paths[f"{PREFIX}/tokens/{{token}}.{fmt}"] = {
            "get": {
                "operationId": f"token_{fmt}",
                "summary": "GET service_request_id from a token",
                "tags": ["requests"],
                "description": "Every service is realtime, so POST returns the id itself; the id doubles as its token.",
                "security": optional_key,
                "parameters": [
                    {
                        "name": "token",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string"},
                        "description": "A token (a service request id); unknown ones are 404.",
                    },
                    jurisdiction,
                ],
                "responses": _responses(
                    fmt, "TokenAnswer", (*common, 404), "The request id of the token.", conditional=True
                ),
            }
        }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": f"Open311 GeoReport v2: {city.name}",
            "version": "2",
            "description": "The Open311 GeoReport v2 API (http://wiki.open311.org/GeoReport_v2) with the common "
            "extensions (page, page_size, bbox, lat/long/radius, q, updated_after, updated_before, "
            "extensions=true). Other servers' arguments this one does not take (limit, offset, sort, "
            "callback) are answered as if not sent, with a Warning header (RFC 7234, code 299) naming what "
            "to use instead; other unknown arguments are ignored. "
            "Errors are a list of {code, description}. No GET method shows a requester's name, "
            "e-mail, phone or notes. An argument sent empty counts as not sent. JSON and XML answers have "
            "the same schema: in XML each list is an element wrapping one element per item (named by the "
            "schemas' xml objects), a value not known (null) is an empty element, and numbers and booleans "
            "are written as in JSON. Every successful GET has an ETag and, where known, a "
            "Last-Modified, and answers 304 to If-None-Match or If-Modified-Since.",
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": _schemas(),
            "securitySchemes": {
                "api_key": {
                    "type": "apiKey",
                    "in": "query",
                    "name": "api_key",
                    "description": "Issued by the city (flask open311 clients add); required to POST, optional on GET "
                    "(then the key's own rate limit applies). Unknown or revoked keys are 403.",
                }
            },
        },
    }
