"""The request fields are defined once (open311.fields); the SELECT list, the records and the schema follow."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import text

from open311 import fields, queries, serialize
from open311.fields import FIELDS, Field
from open311.openapi import openapi_document

#: A field that is no part of the spec: added in a test only, to see it flow everywhere.
EXTRA = Field("channel", "r.channel", fields.nullable("string", description="How the request came in."))


def request_schema(la) -> dict:
    document = openapi_document(la, list(la.catalogue.services.values()))
    return document["components"]["schemas"]["ServiceRequest"]


def test_every_field_is_selected_by_name_in_the_spec_order():
    select = queries.request_select()
    positions = [select.index(f'{f.sql} AS "{f.name}"') for f in FIELDS]
    assert positions == sorted(positions)
    assert select.index(f'AS "{FIELDS[-1].name}"') < select.index("r.id AS id") < select.index("FROM service_request r")


def test_the_records_and_the_schema_have_the_same_fields_in_the_same_order(la):
    names = [f.name for f in FIELDS]
    assert list(serialize.REQUEST_FIELDS) == names
    schema = request_schema(la)
    assert schema["required"] == names
    assert list(schema["properties"])[: len(names)] == names
    assert list(schema["properties"])[len(names) :] == ["extended_attributes", "notes"]
    assert all(schema["properties"][f.name] == f.schema for f in FIELDS)


def test_a_record_is_read_by_name_not_by_position():
    columns = {"id": 7, **{name: f"value of {name}" for name in reversed(serialize.REQUEST_FIELDS)}}
    record = serialize.request_record(SimpleNamespace(_mapping=columns))  # a row with its columns in another order
    assert list(record) == list(serialize.REQUEST_FIELDS)
    assert all(value == f"value of {name}" for name, value in record.items())


def test_a_field_added_to_the_definition_appears_everywhere(monkeypatch: pytest.MonkeyPatch, la):
    """The demonstration: one entry in FIELDS is a new field of the SELECT, the records and the schema."""
    monkeypatch.setattr(fields, "FIELDS", (*FIELDS, EXTRA))
    assert 'r.channel AS "channel"' in queries.request_select()
    assert fields.names()[-1] == "channel"
    row = SimpleNamespace(_mapping={"id": 1, **{name: f"v-{name}" for name in fields.names()}})
    record = serialize.request_record(row)
    assert list(record)[-1] == "channel" and record["channel"] == "v-channel"
    schema = request_schema(la)
    assert schema["required"][-1] == "channel"
    assert schema["properties"]["channel"] == EXTRA.schema
    assert list(schema["properties"])[-3:] == ["channel", "extended_attributes", "notes"]


def test_no_field_is_named_as_a_column_the_extensions_read():
    assert not {"id", "ward_key", "district_key", "channel_code", "duplicate_of"} & set(serialize.REQUEST_FIELDS)


def test_an_added_field_is_answered_in_both_formats(monkeypatch: pytest.MonkeyPatch, client, session):
    reference = session.scalar(text("SELECT public_ref FROM service_request WHERE city = 'la' ORDER BY id LIMIT 1"))
    channel = session.scalar(text("SELECT channel FROM service_request WHERE public_ref = :ref"), {"ref": reference})
    monkeypatch.setattr(fields, "FIELDS", (*FIELDS, EXTRA))
    (found,) = client.get(f"/open311/v2/requests/{reference}.json").get_json()
    assert list(found)[-1] == "channel" and found["channel"] == channel
    assert f"<media_url></media_url><channel>{channel}</channel></request>".encode() in (
        client.get(f"/open311/v2/requests/{reference}.xml").get_data()
    )
