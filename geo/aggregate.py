"""Requests counted by ward or district, and the figures of one area: aggregation in SQL.

Areas come from ``service_request.ward_key`` / ``district_key`` (assigned by a spatial
join when requests are stored or boundaries change); only requests a map can show
are counted (see :data:`service_requests.selection.MAPPED`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from sqlalchemy import text
from sqlalchemy.orm import Session

from core.city import CityConfig
from geo import reports
from geo.layers import area_spec, areas
from service_requests.selection import FilterError, RequestFilter

#: The request column holding each layer's area key (never user input).
AREA_COLUMNS = {"wards": "ward_key", "districts": "district_key"}
#: What a choropleth can show, and how it is labelled.
MEASURES = {
    "requests": "Requests",
    "per_1000": "Requests per 1,000 residents",
    "per_km2": "Requests per km²",
    "open": "Open requests",
}
PERIODS = ("week", "month")


def area_summary(session: Session, city: CityConfig, layer: str, flt: RequestFilter) -> gpd.GeoDataFrame:
    """Every area of ``layer`` with its requests under ``flt``.

    Columns: ``key``, ``name``, ``requests``, ``open``, ``closed``, ``area_km2``,
    ``population``, ``per_1000`` (NaN without population), ``per_km2`` and the outline
    (EPSG:4326). Areas without requests are there with zeros. A ``ward`` or
    ``district`` in ``flt`` restricts the counts as it would anywhere else.
    """
    area_spec(city, layer)
    column = AREA_COLUMNS[layer]
    where, params = flt.sql(city)
    counts = pd.DataFrame(
        session.execute(
            text(
                f"""
        SELECT r.{column} AS key, count(*) AS requests, count(*) FILTER (WHERE r.is_open) AS open
        FROM service_request r WHERE {where} AND r.{column} IS NOT NULL GROUP BY r.{column}
        """
            ),
            params,
        ).all(),
        columns=["key", "requests", "open"],
    )
    frame = areas(session, city, layer).merge(counts, on="key", how="left")
    frame[["requests", "open"]] = frame[["requests", "open"]].fillna(0).astype(int)
    frame["closed"] = frame["requests"] - frame["open"]
    frame["per_1000"] = np.where(frame["population"] > 0, frame["requests"] * 1000 / frame["population"], np.nan)
    frame["per_km2"] = frame["requests"] / frame["area_km2"]
    columns = ["key", "name", "requests", "open", "closed", "area_km2", "population", "per_1000", "per_km2"]
    return gpd.GeoDataFrame(frame[columns + ["geometry"]], geometry="geometry", crs="EPSG:4326")


@dataclass(frozen=True)
class AreaFacts:
    """The headline figures of a selection (usually one area): ``closed`` is closed and not
    cancelled, as on the reports."""

    requests: int
    open: int
    overdue: int
    closed: int
    closed_with_date: int
    median_days_to_close: float | None
    mean_days_to_close: float | None


def area_facts(session: Session, city: CityConfig, flt: RequestFilter, now: datetime | None = None) -> AreaFacts:
    """Requests, open backlog, overdue, closed and days to close (median and mean) under ``flt``,
    in the filter's own scope (a map's area counts the requests the map shows).

    The figures and their definitions are the Summary of Performance's
    (:func:`geo.reports.summary`): closed means closed and not cancelled, and days to
    close count the closed requests that have a closing time.
    """
    row = reports.summary(session, city, flt, now=now, keep_scope=True)

    def days(value: Any) -> float | None:
        return None if pd.isna(value) else round(float(value), 1)

    return AreaFacts(
        requests=int(row["requests"]),
        open=int(row["open"]),
        overdue=int(row["overdue"]),
        closed=int(row["closed"]),
        closed_with_date=int(row["closed_with_date"]),
        median_days_to_close=days(row["median_days_to_close"]),
        mean_days_to_close=days(row["mean_days_to_close"]),
    )


def top_services(session: Session, city: CityConfig, flt: RequestFilter, limit: int = 10) -> pd.DataFrame:
    """The ``limit`` services with most requests under ``flt`` in its own scope (a map's area):
    ``service_code``, ``service_name``, ``requests``, ``open``, ``share`` (of all requests
    under ``flt``). The reports' ranking (:func:`geo.reports.top_services`)."""
    frame = reports.top_services(session, city, flt, n=limit, keep_scope=True)
    return frame[["service_code", "service_name", "requests", "open", "share"]]


def trend(session: Session, city: CityConfig, flt: RequestFilter, period: str | None = None) -> pd.DataFrame:
    """Requests created per week or month (local time) under ``flt``, empty periods included.

    Columns: ``start`` and ``end`` (local dates, the end included), ``requests``, ``open``.
    Without ``period``: weeks for spans up to half a year, else months. The periods are the
    reports' (:func:`geo.reports.breakout`), in the filter's own scope.
    """
    if period is None:
        where, params = flt.sql(city)
        params["tz"] = city.timezone
        span = session.execute(
            text(
                f"SELECT min(r.requested_at AT TIME ZONE :tz), max(r.requested_at AT TIME ZONE :tz) "
                f"FROM service_request r WHERE {where}"
            ),
            params,
        ).one()
        if span[0] is None:
            return pd.DataFrame(columns=["start", "end", "requests", "open"])
        period = "week" if span[1] - span[0] <= timedelta(days=183) else "month"
    if period not in PERIODS:
        raise FilterError(f"period must be week or month, not {period!r}.")
    frame = reports.breakout(session, city, flt, period, medians=False, keep_scope=True)
    if frame.empty:
        return pd.DataFrame(columns=["start", "end", "requests", "open"])
    ends = [reports.next_period_start(start, period) - timedelta(days=1) for start in frame["key"]]
    return pd.DataFrame({"start": frame["key"], "end": ends, "requests": frame["requests"], "open": frame["open"]})
