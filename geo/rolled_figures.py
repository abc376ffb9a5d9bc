"""The summary figures read from the request rollup and the live requests together (:mod:`service_requests.rollups`).

The same figures as :func:`geo.reports._compute_figures` counts from the requests, exactly:
counts and sums are added up cell by cell; the median days to close is found by adding up
the cells' bucket counts (:data:`~service_requests.rollups.THRESHOLDS`) to the bucket holding
the middle value, then sorting the values of that bucket only.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import text
from sqlalchemy.orm import Session

from service_requests import rules
from service_requests.rollups import THRESHOLDS, Plan

_DISTINCT = rules.distinct_problem("r")
_CLOSED = rules.closed("r")
_DAYS = rules.days_to_close("r")
#: The key of a row as text, for matching the median's buckets to it (NULL is a key too).
#: The figures, in the order of :func:`geo.reports._compute_figures`.
FIGURES = (
    "requests",
    "distinct_problems",
    "open",
    "closed",
    "cancelled",
    "mean_days_to_close",
    "mean_days_open",
    "closed_with_date",
    "closed_with_due",
    "closed_on_time",
    "overdue",
)
_KEY_TEXT = "coalesce(CAST(({key}) AS text), chr(1))"


def _sources(plan: Plan, key: str, join: str, where: str) -> tuple[str, str, dict[str, Any]]:
    """The WHERE of the rollup's cells and of the live requests, and their parameters."""
    live, params = plan.live_sql("r")
    rolled = f"{where} AND r.set_id = :rollup_set AND r.requested_at = ANY(CAST(:rolled AS timestamptz[]))"
    params.update({"rollup_set": plan.rollup_set.id, "rolled": plan.rolled})
    return rolled, f"{where} AND {live}", params


def rolled_figures(
    session: Session, plan: Plan, key: str | None, join: str, where: str, params: dict[str, Any], medians: bool
) -> pd.DataFrame:
    """The figures per ``key`` (or in all) of the requests under ``where``, read as ``plan`` says."""
    group = key or "NULL::text"
    rolled, live, extra = _sources(plan, group, join, where)
    values = {**params, **extra}
    parts = f"""
        SELECT {group} AS key, sum(r.n) AS requests, sum(r.n) FILTER (WHERE {_DISTINCT}) AS distinct_problems,
               sum(r.n) FILTER (WHERE r.is_open) AS open, sum(r.n) FILTER (WHERE {_CLOSED}) AS closed,
               sum(r.n) FILTER (WHERE r.status = 'cancelled') AS cancelled,
               sum(r.days_sum) FILTER (WHERE {_CLOSED}) AS days_sum, NULL::float8 AS open_days_sum,
               sum(r.closed_with_date) AS closed_with_date, sum(r.closed_with_due) AS closed_with_due,
               sum(r.closed_on_time) AS closed_on_time, 0 AS overdue
        FROM request_rollup r {join} WHERE {rolled} GROUP BY 1
        UNION ALL
        SELECT {group} AS key, count(*), count(*) FILTER (WHERE {_DISTINCT}), count(*) FILTER (WHERE r.is_open),
               count(*) FILTER (WHERE {_CLOSED}), count(*) FILTER (WHERE r.status = 'cancelled'),
               sum({_DAYS}) FILTER (WHERE {_CLOSED}),
               sum(date_part('epoch', :now - r.requested_at) / 86400.0) FILTER (WHERE r.is_open),
               count(r.closed_at) FILTER (WHERE {_CLOSED}),
               count(*) FILTER (WHERE {_CLOSED} AND r.due_at IS NOT NULL AND r.closed_at IS NOT NULL),
               count(*) FILTER (WHERE {_CLOSED} AND r.closed_at <= r.due_at),
               count(*) FILTER (WHERE r.is_open AND r.due_at < :now)
        FROM service_request r {join} WHERE {live} GROUP BY 1
    """
    rows = (
        session.execute(
            text(
                f"""
        SELECT key, sum(requests)::bigint AS requests, coalesce(sum(distinct_problems), 0)::bigint AS distinct_problems,
               coalesce(sum(open), 0)::bigint AS open, coalesce(sum(closed), 0)::bigint AS closed,
               coalesce(sum(cancelled), 0)::bigint AS cancelled,
               sum(days_sum) / nullif(sum(closed_with_date), 0) AS mean_days_to_close,
               sum(open_days_sum) / nullif(sum(open), 0) AS mean_days_open,
               sum(closed_with_date)::bigint AS closed_with_date, sum(closed_with_due)::bigint AS closed_with_due,
               sum(closed_on_time)::bigint AS closed_on_time, sum(overdue)::bigint AS overdue
        FROM ({parts}) p GROUP BY key
        """
            ),
            values,
        )
        .mappings()
        .all()
    )
    frame = pd.DataFrame([dict(r) for r in rows])
    if key is None:
        if frame.empty:
            frame = pd.DataFrame(
                [
                    {
                        "key": None,
                        "requests": 0,
                        "distinct_problems": 0,
                        "open": 0,
                        "closed": 0,
                        "cancelled": 0,
                        "mean_days_to_close": None,
                        "mean_days_open": None,
                        "closed_with_date": 0,
                        "closed_with_due": 0,
                        "closed_on_time": 0,
                        "overdue": 0,
                    }
                ]
            )
        frame = frame.drop(columns=["key"])
    if frame.empty:
        return pd.DataFrame(columns=["key", *FIGURES, "median_days_to_close"])
    frame["median_days_to_close"] = None
    if medians:
        found = _medians(session, group, join, rolled, live, values)
        texts = [_as_key_text(k) for k in (frame["key"] if key is not None else [None])]
        frame["median_days_to_close"] = [found.get(t) for t in texts]
    return frame


def _as_key_text(value: Any) -> str:
    """A key as PostgreSQL writes it as text (the match of :data:`_KEY_TEXT`)."""
    return "\x01" if value is None or pd.isna(value) else str(value)


def _medians(
    session: Session, group: str, join: str, rolled: str, live: str, params: dict[str, Any]
) -> dict[str, float]:
    """The median days to close of each key (as text): buckets first, then one bucket's values."""
    key_text = _KEY_TEXT.format(key=group)
    thresholds = {"thresholds": list(THRESHOLDS)}
    counts = session.execute(
        text(
            f"""
        SELECT key, b, sum(c)::bigint FROM (
            SELECT {key_text} AS key, u.b, u.c FROM request_rollup r {join}
            CROSS JOIN LATERAL unnest(r.buckets, r.counts) u(b, c)
            WHERE {rolled} AND {_CLOSED}
            UNION ALL
            SELECT {key_text}, width_bucket({_DAYS}, CAST(:thresholds AS float8[])), 1
            FROM service_request r {join} WHERE {live} AND {_CLOSED} AND r.closed_at IS NOT NULL
        ) x GROUP BY 1, 2 ORDER BY 1, 2
        """
        ),
        {**params, **thresholds},
    ).all()
    by_key: dict[str, list[tuple[int, int]]] = {}
    for k, b, c in counts:
        by_key.setdefault(k, []).append((int(b), int(c)))
    # percentile_cont(0.5): the value of rank (n+1)//2 and of rank n//2 + 1 (the same when n is odd), averaged.
    wanted: list[tuple[str, int, int]] = []  # (key, bucket, rank within the bucket)
    for k, buckets in by_key.items():
        n = sum(c for _, c in buckets)
        for rank in sorted({(n + 1) // 2, n // 2 + 1}):
            before = 0
            for b, c in buckets:
                if before + c >= rank:
                    wanted.append((k, b, rank - before))
                    break
                before += c
    if not wanted:
        return {}
    picked = session.execute(
        text(
            f"""
        WITH ranks AS (
            SELECT * FROM unnest(CAST(:w_keys AS text[]), CAST(:w_buckets AS int[]), CAST(:w_ranks AS int[])) w(key, b, rn)
        ), wanted AS (SELECT DISTINCT key, b FROM ranks), vals AS (
            SELECT w.key, w.b, v.d FROM request_rollup r {join}
            JOIN wanted w ON w.key = {key_text}
            CROSS JOIN LATERAL (SELECT array_position(r.buckets, CAST(w.b AS smallint)) AS i) p
            CROSS JOIN LATERAL (SELECT coalesce((SELECT sum(c) FROM unnest(r.counts[1:p.i - 1]) c), 0)::int AS before) q
            CROSS JOIN LATERAL unnest(r.days[q.before + 1 : q.before + r.counts[p.i]]) v(d)
            WHERE {rolled} AND {_CLOSED} AND p.i IS NOT NULL
            UNION ALL
            SELECT w.key, w.b, {_DAYS} FROM service_request r {join}
            JOIN wanted w ON w.key = {key_text} AND w.b = width_bucket({_DAYS}, CAST(:thresholds AS float8[]))
            WHERE {live} AND {_CLOSED} AND r.closed_at IS NOT NULL
        )
        SELECT s.key, s.b, s.rn, s.d FROM (
            SELECT key, b, d, row_number() OVER (PARTITION BY key, b ORDER BY d) AS rn FROM vals
        ) s JOIN ranks q ON q.key = s.key AND q.b = s.b AND q.rn = s.rn
        """
        ),
        {
            **params,
            **thresholds,
            "w_keys": [w[0] for w in wanted],
            "w_buckets": [w[1] for w in wanted],
            "w_ranks": [w[2] for w in wanted],
        },
    ).all()
    at: dict[tuple[str, int, int], float] = {(k, int(b), int(rn)): float(d) for k, b, rn, d in picked}
    medians: dict[str, float] = {}
    for k, buckets in by_key.items():
        n = sum(c for _, c in buckets)
        values = []
        for rank in ((n + 1) // 2, n // 2 + 1):
            before = 0
            for b, c in buckets:
                if before + c >= rank:
                    values.append(at[(k, b, rank - before)])
                    break
                before += c
        low, high = values
        medians[k] = low + (high - low) * 0.5
    return medians


__all__ = ["rolled_figures"]
