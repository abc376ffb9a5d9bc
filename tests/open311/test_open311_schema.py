"""The Open311 API against its own OpenAPI document: JSON and XML answers, generated requests and real ones.

The fuzz test (schemathesis, bounded) gives every operation generated requests, valid and
invalid; each answer must not be a server error, must use a status code, content type and body
the document declares, and an invalid request must be refused. (Accepting every valid-looking
request cannot be checked: some rules, such as a point outside the city or a window over 90
days, are no part of any schema.)

XML answers are checked by the same validator as JSON: the document's ``xml`` objects say which
elements hold what, :func:`tests.helpers.openapi_xml.deserialize_xml` reads an answer by them,
and schemathesis validates what it read against the same schema (registered below, so the fuzz
test checks XML answers too).
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.core.transport import Response
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import text

from open311.clients import issue_client
from open311.openapi import openapi_document
from open311.serialize import service_definition_dict, service_dict, to_xml
from service_requests.lifecycle import add_note, change_status
from tests.helpers.openapi_xml import XmlShapeError, deserialize_xml, from_xml
from tests.helpers.requests import file_graffiti

API = "/open311/v2"
schemathesis.deserializer("text/xml")(deserialize_xml)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
BUDGET = settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def test_open311_answers_as_its_document_says(app):
    schema = schemathesis.openapi.from_wsgi("/open311/v2/openapi.json", app)
    tested = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @BUDGET
        @given(case=operation.as_strategy())
        def exercise(case) -> None:
            # schemathesis's WSGI calls send requests' "Accept-Encoding: gzip, deflate" but do not
            # decode: ask for the plain bytes (gzip is tested in test_caching.py)
            case.call_and_validate(checks=CHECKS, headers={"Accept-Encoding": "identity"})

        exercise()
        tested.append(f"{operation.method.upper()} {operation.path}")
    assert len(tested) >= 8, tested


# -- XML answers, read by the document's xml objects ----------------------------------------------


def _read(document: dict[str, Any], template: str, status: int, body: bytes, method: str = "get") -> Any:
    """An XML body as the document's schema for ``template``'s answer with ``status`` reads it."""
    schema = document["paths"][f"{API}{template}"][method]["responses"][str(status)]["content"]["text/xml"]["schema"]
    return from_xml(body, schema, document)


def test_every_xml_answer_is_as_its_document_says_and_reads_as_its_json(app, client, session, la, validator):
    """Each GET in XML, its errors and the POST answers: validated as schemathesis validates JSON, then read
    by the document's xml objects into exactly the JSON answer to the same URL."""
    _, key = issue_client(session, "la", "Schema test", per_minute=10_000)
    request = file_graffiti(session, la, validator)
    ref = request.public_ref
    change_status(session, request, "in_progress", "ocb:ana", "Crew on the way.")
    add_note(session, request, "ocb:ana", "Paint matched to the wall.", public=True)
    now = session.scalar(text("SELECT now()")).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    schema = schemathesis.openapi.from_wsgi(f"{API}/openapi.json", app)
    document = client.get(f"{API}/openapi.json").get_json()
    codes = [s["service_code"] for s in client.get(f"{API}/services.json").get_json()]
    unknown_ref = "7K3MQ-9XAB0-TQ4ZH-M1C8R-E5W2PK"
    gets: list[tuple[str, str, int]] = [
        ("/discovery.xml", "/discovery.xml", 200),
        ("/services.xml", "/services.xml", 200),
        *[("/services/{service_code}.xml", f"/services/{code}.xml", 200) for code in codes],
        ("/requests.xml", "/requests.xml?extensions=false&page_size=200", 200),
        ("/requests.xml", "/requests.xml?extensions=true&page_size=200", 200),
        ("/requests.xml", f"/requests.xml?service_request_id={ref}&extensions=true", 200),
        ("/requests/{service_request_id}.xml", f"/requests/{ref}.xml", 200),
        ("/requests/{service_request_id}.xml", f"/requests/{ref}.xml?extensions=true", 200),
        ("/tokens/{token}.xml", f"/tokens/{ref}.xml", 200),
        ("/servicerequestupdates.xml", f"/servicerequestupdates.xml?start_date={now}&end_date={now}", 200),
        ("/requests.xml", "/requests.xml?page=0", 400),
        ("/requests.xml", "/requests.xml?start_date=2026-06-01&end_date=2026-01-01", 400),
        ("/servicerequestupdates.xml", "/servicerequestupdates.xml?start_date=yesterday", 400),
        ("/services.xml", "/services.xml?jurisdiction_id=sfgov.org", 404),
        ("/services/{service_code}.xml", "/services/no-such-service.xml", 404),
        ("/requests/{service_request_id}.xml", f"/requests/{unknown_ref}.xml", 404),
        ("/tokens/{token}.xml", f"/tokens/{unknown_ref}.xml", 404),
    ]
    read: dict[str, Any] = {}
    for template, url, status in gets:
        response = client.get(f"{API}{url}")
        assert (response.status_code, response.mimetype) == (status, "text/xml"), (url, response.get_data(as_text=True))
        schema[f"{API}{template}"]["GET"].validate_response(response)
        read[url] = _read(document, template, status, response.get_data())
        as_json = client.get(f"{API}{url.replace('.xml', '.json', 1)}").get_json()
        if status != 200:  # an error may name the method's URL, in its own format
            as_json = [{**e, "description": e["description"].replace(".json", ".xml")} for e in as_json]
        assert read[url] == as_json, url  # XML and JSON agree value for value
    # The answers hold what the schema's lists describe, so that each element name was checked.
    assert len(read["/services.xml"]) == len(codes) > 1
    assert any(a["values"] for code in codes for a in read[f"/services/{code}.xml"]["attributes"])
    (mine,) = read[f"/requests/{ref}.xml?extensions=true"]
    assert [n["description"] for n in mine["notes"]][-2:] == ["Crew on the way.", "Paint matched to the wall."]
    assert mine["extended_attributes"]["ward"] == "13" and isinstance(mine["lat"], float)
    assert ref in [r["service_request_id"] for r in read["/requests.xml?extensions=true&page_size=200"]]
    assert len(read[f"/servicerequestupdates.xml?start_date={now}&end_date={now}"]) >= 2

    posted = client.post(
        f"{API}/requests.xml",
        data={
            "api_key": key,
            "service_code": "graffiti",
            "lat": "34.07325",
            "long": "-118.2669",
            "attribute[surface]": "wall",
        },
    )
    assert (posted.status_code, posted.mimetype) == (200, "text/xml"), posted.get_data(as_text=True)
    schema[f"{API}/requests.xml"]["POST"].validate_response(posted)
    ((created),) = _read(document, "/requests.xml", 200, posted.get_data(), "post")
    assert created["service_request_id"] != ref and created["account_id"] is None
    update = {
        "api_key": key,
        "service_request_id": ref,
        "update_id": "schema-1",
        "updated_datetime": "2026-11-23T14:30:00-08:00",
        "status": "IN_PROGRESS",
        "description": "Seen again.",
    }
    answered = client.post(f"{API}/servicerequestupdates.xml", data=update)
    assert (answered.status_code, answered.mimetype) == (200, "text/xml"), answered.get_data(as_text=True)
    schema[f"{API}/servicerequestupdates.xml"]["POST"].validate_response(answered)
    assert _read(document, "/servicerequestupdates.xml", 200, answered.get_data(), "post")[0]["update_id"].isdigit()


def _answer(body: bytes, status: int = 200) -> Response:
    """A response as schemathesis validates it, from a body written here."""
    return Response(
        status_code=status,
        headers={"content-type": ["text/xml; charset=utf-8"]},
        content=body,
        request=requests.Request("GET", "http://localhost/").prepare(),
        elapsed=0.0,
        verify=True,
    )


def _refusal(operation: Any, body: bytes, status: int = 200) -> str:
    """What the validator says of ``body`` as ``operation``'s answer (a test failure if it accepts it)."""
    try:
        operation.validate_response(_answer(body, status))
    except Failure as failure:
        return f"{failure.title}: {failure.message}"
    except FailureGroup as group:
        return "\n".join(f"{f.title}: {f.message}" for f in group.exceptions)
    raise AssertionError(f"The XML check accepted {body[:300]!r}")


def test_the_xml_check_fails_on_a_wrong_element_name(la):
    services = list(la.catalogue.services.values())
    document = openapi_document(la, services)
    operation = schemathesis.openapi.from_dict(document)[f"{API}/services.xml"]["GET"]
    listing = [service_dict(s) for s in services]
    good = to_xml("services", listing)
    operation.validate_response(_answer(good))  # the server's own XML passes
    assert _read(document, "/services.xml", 200, good) == listing  # booleans and nulls as in JSON

    first = good.index(b"<service_code>")
    item = good.replace(b"<service>", b"<srvice>").replace(b"</service>", b"</srvice>")
    assert "<services> holds <srvice>; its items are <service>" in _refusal(operation, item)
    root = good.replace(b"<services>", b"<service_list>").replace(b"</services>", b"</service_list>")
    assert "The root element is <service_list>; the schema names <services>" in _refusal(operation, root)
    field = good[:first] + good[first:].replace(b"service_code>", b"service_cod>", 2)
    assert '"service_code" is a required property' in _refusal(operation, field)
    typed = good.replace(b"<metadata>true</metadata>", b"<metadata>yes</metadata>", 1)
    assert '"yes" is not of type "boolean"' in _refusal(operation, typed)

    errors = to_xml("errors", [{"code": "404", "description": "Not here."}])
    operation.validate_response(_answer(errors, 404))
    renamed = errors.replace(b"code>", b"status>")
    assert '"code" is a required property' in _refusal(operation, renamed, 404)

    graffiti = service_definition_dict(la.catalogue.services["graffiti"])
    definition = to_xml("service_definition", graffiti)
    assert _read(document, "/services/{service_code}.xml", 200, definition) == graffiti  # integers, nested lists
    broken = definition.replace(b"<value>", b"<values>").replace(b"</value>", b"</values>")
    with pytest.raises(XmlShapeError, match="holds <values>; its items are <value>"):
        _read(document, "/services/{service_code}.xml", 200, broken)
