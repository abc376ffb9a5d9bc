"""The reports read the indexes made for them (migrations 0009 and 0010), as EXPLAIN shows.

The statements are the real ones: recorded as the report functions send them to the
session database, then explained with the same parameters.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.orm import Session

from geo import reports
from geo.cache import RESULTS
from service_requests.selection import RequestFilter

#: Migration 0009: the requests by (city, requested_at), carrying every column a report reads.
REPORT_INDEX = "service_request_report"
#: Migration 0010: the closed requests in order of their days to close (the median).
CLOSE_DAYS_INDEX = "service_request_close_days"


@contextmanager
def recorded_statements(session: Session) -> Iterator[list[tuple[str, Any]]]:
    """The SQL statements (with their parameters) sent through ``session`` inside the block."""
    statements: list[tuple[str, Any]] = []
    engine = session.connection().engine

    def record(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def indexes_used(session: Session, statement: str, parameters: Any) -> set[str]:
    """The names of the indexes in the plan of ``statement``."""
    plan = session.connection().exec_driver_sql(f"EXPLAIN (FORMAT JSON) {statement}", parameters).scalar_one()
    if isinstance(plan, str):
        plan = json.loads(plan)
    names: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "Index Name" in node:
                names.add(node["Index Name"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(plan)
    return names


def report_plans(session: Session, run) -> list[tuple[str, set[str]]]:  # noqa: ANN001
    """Each statement on service_request that ``run()`` sends, with the indexes its plan uses."""
    RESULTS.clear()  # the figures must be computed, not taken from the cache
    # Asked of the figures counted from the requests (a city without a rollup, or a question it
    # cannot answer): the rollup's own reads are tests/service_requests/test_rollups.py's.
    session.execute(text("DELETE FROM request_rollup_state"))
    with recorded_statements(session) as statements:
        run()
    # The demo history is a few thousand requests: so small that a sequential scan costs
    # the planner less than any index. Forbidding it asks what the planner would choose at
    # a city's volumes (bench/reports.py measures those), where the indexes pay. The other
    # indexes of the table, all but those behind a constraint, are dropped for the question
    # (the test's transaction is rolled back): on a table this small, whose statistics the
    # import tests earlier in the session change, the planner may prefer another index (the
    # unique short reference's, say, for its leading city) that no city-sized table would choose.
    # What is asked is whether the report indexes serve the statements the reports send.
    connection = session.connection()
    connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
    others = (
        connection.exec_driver_sql(
            "SELECT i.indexrelid::regclass::text FROM pg_index i WHERE i.indrelid = 'service_request'::regclass "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) "
            f"AND i.indexrelid::regclass::text NOT IN "
            f"('{REPORT_INDEX}', '{CLOSE_DAYS_INDEX}')"
        )
        .scalars()
        .all()
    )
    for name in others:
        connection.exec_driver_sql(f"DROP INDEX {name}")
    return [
        (statement, indexes_used(session, statement, parameters))
        for statement, parameters in statements
        if "service_request r" in statement
    ]


def test_the_summary_reads_the_report_index_and_the_median_the_close_days_index(session, la):
    plans = report_plans(session, lambda: reports.summary(session, la, RequestFilter()))
    assert len(plans) == 2, [statement for statement, _ in plans]  # the figures, then the median
    (figures, figures_indexes), (median, median_indexes) = plans
    assert REPORT_INDEX in figures_indexes, (figures, figures_indexes)
    assert CLOSE_DAYS_INDEX in median_indexes, (median, median_indexes)


@pytest.mark.parametrize("by", ["department", "ward", "month"])
def test_a_breakout_reads_the_report_index(session, la, by):
    plans = report_plans(session, lambda: reports.breakout(session, la, RequestFilter(), by))
    grouped = [(statement, used) for statement, used in plans if "GROUP BY" in statement]
    assert len(grouped) == 1, [statement for statement, _ in plans]
    statement, used = grouped[0]
    assert REPORT_INDEX in used, (statement, used)
