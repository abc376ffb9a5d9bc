"""The work queue's query: sorting, filters, scope, "mine", overdue, paging (against PostGIS)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from service_requests.lifecycle import change_status
from service_requests.queue import COUNT_LIMIT, QueueView, parse_view, queue_page, queue_rows
from service_requests.selection import FilterError, RequestFilter, filter_choices
from tests.helpers.requests import file_graffiti


def make(session, la, validator, **changes):
    return file_graffiti(session, la, validator, **changes)


#: Assignee values no other test uses (the database holds other tests' requests).
TEAM, ANA = f"user:team-{uuid4().hex[:8]}", f"user:ana-{uuid4().hex[:8]}"


@pytest.fixture
def three(session, la, validator):
    """Three open OCB requests: one 5 days old (late), one new, one new assigned to ana; plus a closed one."""
    now = datetime.now(UTC)
    old = make(session, la, validator, requested_at=now - timedelta(days=5))
    new = make(session, la, validator)
    mine = make(session, la, validator)
    old.assignee = new.assignee = TEAM
    mine.assignee = ANA
    closed = make(session, la, validator)
    change_status(session, closed, "fixed", "test", "done")
    session.commit()
    return old, new, mine, closed


def view(**changes):
    return QueueView(RequestFilter(department="OCB", status="open", scope="all"), **changes)


def refs(session, la, v, only=None, **kw):
    """The references of the page, in order (only those of ``only``: the database holds other tests' requests)."""
    found = [r.reference for r in queue_page(session, la, v, filter_choices(session, la), page_size=1000, **kw).rows]
    return [f for f in found if only is None or f in {r.public_ref for r in only}]


def test_open_requests_only_soonest_due_first(session, la, three):
    old, new, mine, closed = three
    found = refs(session, la, view(), three)
    assert closed.public_ref not in found
    assert found[0] == old.public_ref and set(found) == {old.public_ref, new.public_ref, mine.public_ref}


def test_sort_by_age_both_ways_ties_broken_by_id(session, la, three):
    old, new, mine, _ = three
    assert refs(session, la, view(sort="age"), three)[0] == old.public_ref
    descending = refs(session, la, view(sort="age", descending=True), three)
    assert descending[-1] == old.public_ref
    by_ref = refs(session, la, view(sort="reference"), three)  # by the short reference the page shows
    shown = {r.public_ref: r.short_ref for r in three}
    assert [shown[r] for r in by_ref] == sorted(shown[r] for r in by_ref)


def test_mine_and_assignee(session, la, three):
    _, _, mine, _ = three
    v = parse_view({"department": ["OCB"], "mine": ["1"]}, my_assignee=ANA)
    assert v.assignee == ANA and v.mine
    assert refs(session, la, v) == [mine.public_ref]
    assert refs(session, la, view(assignee="user:bob")) == []


def test_overdue_only(session, la, three):
    old, _, _, _ = three
    late = queue_page(session, la, QueueView(view().flt.replace(overdue=True), TEAM), filter_choices(session, la))
    assert [r.reference for r in late.rows] == [old.public_ref]
    assert late.rows[0].late and late.rows[0].time_left.endswith("late")


def test_paging_has_no_repeats_and_says_where_it_is(session, la, three):
    first = queue_page(session, la, view(assignee=TEAM, sort="age"), filter_choices(session, la), page_size=1)
    second = queue_page(session, la, view(assignee=TEAM, sort="age", page=2), filter_choices(session, la), page_size=1)
    assert first.count == 2 and first.has_next and not first.has_previous
    assert len(first.rows) == 1 and len(second.rows) == 1 and not second.has_next and second.has_previous
    assert not {r.reference for r in first.rows} & {r.reference for r in second.rows}
    assert COUNT_LIMIT >= 1000


def test_csv_rows_are_all_of_the_filter(session, la, three):
    rows = list(queue_rows(session, la, view(assignee=TEAM), filter_choices(session, la)))
    assert len(rows) == 2 and all(r.place for r in rows)  # both, whatever the page size


def test_names_not_keys_for_wards(session, la, three):
    row = queue_page(session, la, view(assignee=TEAM, sort="age"), filter_choices(session, la)).rows[0]
    choices = filter_choices(session, la)
    assert row.ward == choices.wards.get(three[0].ward_key, "")


def test_bad_arguments_are_refused_with_a_sentence():
    with pytest.raises(FilterError, match="sort must be one of"):
        parse_view({"sort": ["drop table"]})
    with pytest.raises(FilterError, match="dir must be"):
        parse_view({"dir": ["sideways"]})
    with pytest.raises(FilterError, match="staff account"):
        parse_view({"mine": ["1"]})
    with pytest.raises(FilterError, match="page"):
        parse_view({"page": ["-1"]})
