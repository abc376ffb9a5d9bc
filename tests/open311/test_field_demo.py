"""Issue 18's demonstration: an Open311 field is one entry in open311/fields.py (JSON, XML, OpenAPI follow)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from sqlalchemy import text

API = "/open311/v2"


def test_a_new_field_reaches_json_xml_and_the_schema(client, session):
    reference, ward = session.execute(
        text("SELECT public_ref, ward_key FROM service_request WHERE city = 'la' AND ward_key IS NOT NULL LIMIT 1")
    ).one()
    (record,) = client.get(f"{API}/requests/{reference}.json").get_json()
    assert record["demo_ward"] == ward
    root = ET.fromstring(client.get(f"{API}/requests/{reference}.xml").data)
    assert root.find("request/demo_ward").text == ward
    schema = client.get(f"{API}/openapi.json").get_json()["components"]["schemas"]["ServiceRequest"]
    assert "demo_ward" in schema["properties"]
