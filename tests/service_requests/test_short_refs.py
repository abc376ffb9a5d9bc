"""Short references (read over the phone), followers of a request, caller history."""

from __future__ import annotations

import importlib.util
import re

import pytest
from sqlalchemy import select, text

from core.settings import PROJECT_ROOT
from core.states import STATE_LABELS
from service_requests.callers import caller_history, email_key, phone_digits
from service_requests.followers import FollowerError, add_follower, followers_of, report_count
from service_requests.lifecycle import change_status
from service_requests.lookup import find_by_reference
from service_requests.models import Notification, RequestEvent
from service_requests.references import (
    ALPHABET,
    new_short_reference,
    new_short_references,
    normalize_short_reference,
    show_short_reference,
)
from tests.helpers.requests import file_graffiti

SHORT = re.compile(f"[{ALPHABET}]{{10}}")


def file(session, la, validator, **fields):
    return file_graffiti(session, la, validator, actor="test", **fields)


def test_a_short_reference_is_ten_base32_characters_and_random():
    refs = [new_short_reference() for _ in range(2000)] + new_short_references(2000)
    assert all(SHORT.fullmatch(r) for r in refs)
    assert len(set(refs)) == len(refs)  # 50 bits: 4,000 draws collide once in ~560 million
    assert set("".join(refs)) == set(ALPHABET)  # every character used, none outside the alphabet
    assert show_short_reference("K7M3QX9TBA") == "K7M3Q-X9TBA"


@pytest.mark.parametrize(
    "typed",
    ["K7M3Q-X9TBA", "k7m3qx9tba", " k7m3q x9tba ", "K7M3Q--X9TBA", "k7m3q-x9tba"],
)
def test_typed_short_references_are_forgiven(typed):
    assert normalize_short_reference(typed) == "K7M3QX9TBA"


def test_confusable_letters_read_as_digits():
    assert normalize_short_reference("OIL00-11111") == "0110011111"
    assert normalize_short_reference("K7M3Q-X9TB") is None  # 9 characters
    assert normalize_short_reference("K7M3Q-X9TBU") is None  # U is not in the alphabet
    assert normalize_short_reference(None) is None


def test_every_new_request_has_a_unique_short_reference_found_however_typed(session, la, validator):
    first, second = file(session, la, validator), file(session, la, validator)
    assert SHORT.fullmatch(first.short_ref) and first.short_ref != second.short_ref
    typed = first.short_ref_shown.lower().replace("0", "o").replace("1", "l")
    assert find_by_reference(session, la.key, typed).id == first.id
    assert find_by_reference(session, la.key, first.public_ref).id == first.id  # the long one too
    assert find_by_reference(session, "gardena", first.short_ref) is None  # per city
    assert find_by_reference(session, la.key, "not a reference") is None


def test_a_taken_short_reference_draws_again(session, la, validator, monkeypatch):
    first = file(session, la, validator)
    drawn = iter([first.short_ref, first.short_ref, "ZZZZZZZZZZ"])
    monkeypatch.setattr("service_requests.intake.new_short_reference", lambda: next(drawn))
    second = file(session, la, validator)
    assert second.short_ref == "ZZZZZZZZZZ"


def test_the_migration_backfills_in_sql_with_the_same_alphabet(session):
    path = next((PROJECT_ROOT / "migrations" / "versions").glob("0018_*.py"))
    spec = importlib.util.spec_from_file_location("migration_0018", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    session.execute(text(module._SHORT_REF_FUNCTION))
    drawn = session.scalars(text("SELECT pg_temp.geo311_short_ref() FROM generate_series(1, 5000)")).all()
    assert all(SHORT.fullmatch(r) for r in drawn)
    assert len(set(drawn)) == 5000  # a fresh value per row, not one for the whole UPDATE
    assert set("".join(drawn)) == set(ALPHABET)
    # every existing request got one: the column is NOT NULL with a unique index per city
    assert session.scalar(text("SELECT count(*) FROM service_request WHERE short_ref IS NULL")) == 0
    session.rollback()


def test_followers_get_the_updates_and_count_as_reports(session, la, validator):
    request = file(session, la, validator, email="ana@example.org", response_method="email")
    assert report_count(session, request.id) == 1
    add_follower(
        session,
        request,
        first_name="Ben",
        last_name=None,
        email="ben@example.org",
        phone=None,
        response_method="email",
        channel="phone",
        actor="intake1",
    )
    assert [f.email for f in followers_of(session, request.id)] == ["ben@example.org"]
    assert report_count(session, request.id) == 2
    kinds = session.scalars(select(RequestEvent.kind).where(RequestEvent.request_id == request.id)).all()
    assert "reported_again" in kinds
    change_status(session, request, "fixed", actor="crew", note="Painted over")
    sent = session.scalars(
        select(Notification).where(
            Notification.request_id == request.id, Notification.subject.contains(STATE_LABELS["fixed"])
        )
    ).all()
    assert sorted(n.recipient for n in sent) == ["ana@example.org", "ben@example.org"]
    assert all(request.short_ref_shown in n.subject for n in sent)


def test_a_follower_needs_the_contact_of_the_method_chosen(session, la, validator):
    request = file(session, la, validator)
    with pytest.raises(FollowerError, match="e-mail"):
        add_follower(
            session,
            request,
            first_name=None,
            last_name=None,
            email=None,
            phone="2135550100",
            response_method="email",
            channel="phone",
            actor="intake1",
        )


def test_caller_history_matches_phone_digits_and_email_case(session, la, validator):
    older = file(session, la, validator, phone="(213) 555-0177", first_name="Ana")
    other = file(session, la, validator, email="Cara@Example.org")
    assert phone_digits("213.555.0177") == "2135550177" and phone_digits("555") is None
    assert email_key(" CARA@example.ORG ") == "cara@example.org" and email_key("nobody") is None
    assert [e.short_ref for e in caller_history(session, la.key, phone="213-555-0177")] == [older.short_ref]
    assert [e.short_ref for e in caller_history(session, la.key, email="cara@EXAMPLE.org")] == [other.short_ref]
    assert caller_history(session, la.key, phone="12") == []  # still typing: nothing
    assert caller_history(session, "gardena", phone="2135550177") == []  # another city's callers
