"""Rate limits kept in PostgreSQL, so that every worker process counts the same hits.

A fixed window per (limit, client): one ``INSERT ... ON CONFLICT DO UPDATE`` per hit, on
its own short transaction so that a refused or failed request still counts.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import DateTime, Integer, Text, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.database import Base, rows_affected


class RateCounter(Base):
    """Hits of one client on one limit in one time window."""

    __tablename__ = "rate_counter"
    __table_args__ = {"prefixes": ["UNLOGGED"]}  # counters need no crash safety

    bucket: Mapped[str] = mapped_column(Text, primary_key=True)
    window_start: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    hits: Mapped[int] = mapped_column(Integer, default=0)


@dataclass(frozen=True)
class Limit:
    """At most ``hits`` in ``seconds``."""

    name: str
    hits: int
    seconds: int

    @classmethod
    def parse(cls, name: str, spec: str) -> Limit:
        """``"30/minute"``, ``"5/second"``, ``"1000/hour"`` or ``"20/300"`` (hits per seconds)."""
        units = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
        try:
            hits, per = spec.split("/")
            seconds = units.get(per.strip()) or int(per)
            limit = cls(name, int(hits), seconds)
        except ValueError:
            raise ValueError(f"A rate limit reads like 30/minute or 20/300, not {spec!r}.") from None
        if limit.hits <= 0 or limit.seconds <= 0:
            raise ValueError(f"A rate limit needs positive numbers, not {spec!r}.")
        return limit


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    hits: int
    retry_after: int  # seconds until the window ends


def hit(session: Session, limit: Limit, client: str) -> Verdict:
    """Count one hit of ``client`` on ``limit`` and say whether it is within the limit; commits."""
    row = session.execute(
        text(
            """
        WITH w AS (SELECT to_timestamp(floor(extract(epoch FROM now()) / :seconds) * :seconds) AS start)
        INSERT INTO rate_counter (bucket, window_start, hits)
        SELECT :bucket, w.start, 1 FROM w
        ON CONFLICT (bucket, window_start) DO UPDATE SET hits = rate_counter.hits + 1
        RETURNING hits, ceil(extract(epoch FROM window_start + make_interval(secs => :seconds) - now()))::int
        """
        ),
        {"bucket": f"{limit.name}:{client}"[:300], "seconds": limit.seconds},
    ).one()
    if row[0] == 1 and secrets.randbelow(200) == 0:  # a new window now and then sweeps away old ones
        session.execute(text("DELETE FROM rate_counter WHERE window_start < now() - interval '1 day'"))
    session.commit()
    return Verdict(allowed=row[0] <= limit.hits, hits=row[0], retry_after=max(1, row[1]))


def forget_old_windows(session: Session, older_than_seconds: int = 86400) -> int:
    """Delete counters of windows that ended long ago; returns how many (run now and then)."""
    result = session.execute(
        text("DELETE FROM rate_counter WHERE window_start < now() - make_interval(secs => :s)"),
        {"s": older_than_seconds},
    )
    session.commit()
    return rows_affected(result)
