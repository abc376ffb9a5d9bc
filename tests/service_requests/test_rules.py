"""The SQL rules (service_requests/rules.py) are the text the queries and the models' indexes use. No database."""

from __future__ import annotations

from sqlalchemy.sql.elements import TextClause

from core.database import Base
from geo import reports
from service_requests import (
    models,  # noqa: F401 (the tables)
    rules,
    selection,
)
from service_requests.selection import RequestFilter


def test_each_rule_says_what_it_always_said():
    """The meaning must not move: the migrations' indexes (0006, 0010) were written with this text."""
    assert rules.closed("r") == "NOT r.is_open AND r.status <> 'cancelled'"
    assert rules.closed(None) == "NOT is_open AND status <> 'cancelled'"
    assert rules.days_to_close("r") == "date_part('epoch', r.closed_at - r.requested_at) / 86400.0"
    assert rules.in_city("t") == "t.in_jurisdiction IS NOT FALSE"
    assert rules.distinct_problem("r") == "r.duplicate_of IS NULL AND r.status <> 'duplicate'"
    assert rules.mapped(None) == "geom IS NOT NULL AND location_quality <> 'placeholder' AND in_jurisdiction"
    assert rules.current_layers("v", ("wards", "districts")) == (
        "v.city = :city AND v.is_current AND v.role IN ('wards', 'districts')"
    )
    assert rules.current_layers() == "v.city = :city AND v.is_current"


def test_the_selection_and_the_reports_use_the_rules(la):
    assert selection.MAPPED.format(a="q") == rules.mapped("q")
    assert selection.IN_CITY.format(a="q") == rules.in_city("q")
    where, _ = RequestFilter(status="closed", scope="city").sql(la, "q")
    assert rules.closed("q") in where and rules.in_city("q") in where
    assert rules.distinct_problem("r") == reports.DISTINCT


def _index(name: str):  # noqa: ANN202
    return next(i for i in Base.metadata.tables["service_request"].indexes if i.name == name)


def test_the_indexes_encode_the_rules_the_queries_use():
    close_days = _index("service_request_close_days")
    where = close_days.dialect_options["postgresql"]["where"]
    assert isinstance(where, TextClause) and where.text == f"{rules.closed(None)} AND closed_at IS NOT NULL"
    expression = next(e for e in close_days.expressions if isinstance(e, TextClause))
    assert expression.text == f"({rules.days_to_close(None)})"
    mapped = _index("service_request_mapped_areas").dialect_options["postgresql"]["where"]
    assert mapped.text == rules.mapped(None)
