"""The tables of the request rollup (:mod:`service_requests.rollups`), migration 0026.

``request_rollup``: the closed requests of each day or month, counted per combination of a
few columns (a *set*), with their days to close sorted, so that reports over millions of
requests read thousands of rows. ``request_rollup_state``: per city, what the rollup covers
and the time zone its periods are in. ``request_rollup_stale``: the local days whose requests
changed since their cells were counted (written by statement triggers on ``service_request``):
those days are read from the requests themselves until the rollup is refreshed.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Date, DateTime, Float, Index, Integer, SmallInteger, String, Text, func
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.database import Base


class RequestRollup(Base):
    """One cell: the closed requests of one period and one combination of the set's columns."""

    __tablename__ = "request_rollup"
    __table_args__ = (Index("request_rollup_cells", "city", "set_id", "requested_at"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    set_id: Mapped[int] = mapped_column(SmallInteger)
    city: Mapped[str] = mapped_column(String(64))
    #: the period's first instant (local midnight) and the next period's
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    period_end: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The columns a set groups by (NULL in the sets that do not), named as in service_request
    # so that a request filter's SQL reads a cell as it reads a request.
    service_code: Mapped[str | None] = mapped_column(String(64))
    department_code: Mapped[str | None] = mapped_column(String(32))
    ward_key: Mapped[str | None] = mapped_column(Text)
    district_key: Mapped[str | None] = mapped_column(Text)
    channel: Mapped[str | None] = mapped_column(String(32))
    # Grouped by in every set.
    status: Mapped[str] = mapped_column(String(32))
    is_open: Mapped[bool] = mapped_column(Boolean)
    in_jurisdiction: Mapped[bool | None] = mapped_column(Boolean)
    #: NULL for requests that are no duplicate (as service_request.duplicate_of), 0 for duplicates
    duplicate_of: Mapped[int | None] = mapped_column(BigInteger)
    n: Mapped[int] = mapped_column(Integer)
    closed_with_date: Mapped[int] = mapped_column(Integer)
    closed_with_due: Mapped[int] = mapped_column(Integer)
    closed_on_time: Mapped[int] = mapped_column(Integer)
    days_sum: Mapped[float | None] = mapped_column(Float)
    #: days to close of the closed requests with a closing time, ascending
    days: Mapped[list[float] | None] = mapped_column(ARRAY(Float))
    #: how many of ``days`` fall in each non-empty bucket of :data:`service_requests.rollups.THRESHOLDS`
    buckets: Mapped[list[int] | None] = mapped_column(ARRAY(SmallInteger))
    counts: Mapped[list[int] | None] = mapped_column(ARRAY(Integer))


class RequestRollupState(Base):
    """What the rollup of a city covers: local days ``first_day`` to ``last_day``, in ``timezone``."""

    __tablename__ = "request_rollup_state"

    city: Mapped[str] = mapped_column(String(64), primary_key=True)
    timezone: Mapped[str] = mapped_column(Text)
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    #: the rollup's definition (sets, thresholds, rules) it was counted with: another is rebuilt
    fingerprint: Mapped[str] = mapped_column(Text)
    #: cells per set, for choosing the smallest set that can answer
    cells: Mapped[dict[str, Any]] = mapped_column(JSONB)
    built_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    refreshed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class RequestRollupStale(Base):
    """A local day whose requests changed after the rollup counted them."""

    __tablename__ = "request_rollup_stale"

    city: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    marked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


__all__ = ["RequestRollup", "RequestRollupStale", "RequestRollupState"]
