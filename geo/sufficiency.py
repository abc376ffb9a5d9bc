"""What the data can carry: the thresholds below which no hot spot statistic is computed,
and the warnings for sparse windows.

Gi* on a handful of requests spread over hundreds of cells finds "hot spots" that are a
few requests each (172 requests in 283 cells gave 31 hot and 14 cold cells); emerging hot
spots over a window whose slices are empty label cells "new" from one day's requests.
So, before computing, the counts are checked against these constants (change them here;
the README lists them), and the page says why it shows no result:

- :data:`MIN_REQUESTS`: requests (mapped, in tested cells) a Gi* run needs;
- :data:`MIN_NONEMPTY_CELLS`: cells holding at least one request;
- :data:`MIN_SLICE_REQUESTS`: requests a time slice needs for Gi* to be computed in it
  (thinner slices count as not significant, and the page says how many there were);
- :data:`MIN_SLICES` of those tested slices for emerging hot spots;
- :data:`SPARSE_SHARE`: more than this share of the months (or slices) of a window
  empty gives a warning.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import text
from sqlalchemy.orm import Session

from core.city import CityConfig
from geo.periods import PERIODS
from service_requests.selection import RequestFilter

MIN_REQUESTS = 200
MIN_NONEMPTY_CELLS = 30
MIN_SLICE_REQUESTS = 30
MIN_SLICES = 4
SPARSE_SHARE = 0.5


def shortfall(requests: int, nonempty_cells: int, what: str = "Hot spots") -> str | None:
    """The sentence saying why ``what`` are not computed on these counts, or None when they can be."""
    if requests < MIN_REQUESTS:
        return (
            f"{what} were not computed: the cells tested hold {requests:,} mapped requests, and Getis-Ord Gi* "
            f"needs at least {MIN_REQUESTS:,} to tell a concentration from chance. Widen the date range or "
            f"the services."
        )
    if nonempty_cells < MIN_NONEMPTY_CELLS:
        return (
            f"{what} were not computed: the requests fall in only {nonempty_cells:,} cells, and Getis-Ord Gi* "
            f"needs at least {MIN_NONEMPTY_CELLS:,} cells holding requests. Use a smaller cell or widen "
            f"the selection."
        )
    return None


@dataclass(frozen=True)
class MonthCoverage:
    """The local months from the first to the last of a window, and those holding requests."""

    first: date | None
    last: date | None
    months: int
    with_requests: list[date]

    @property
    def empty(self) -> int:
        return self.months - len(self.with_requests)

    def warning(self) -> str | None:
        """A sentence when most months of the window hold no request, else None."""
        if self.months < 3 or self.empty <= SPARSE_SHARE * self.months:
            return None
        held = ", ".join(m.strftime("%Y-%m") for m in self.with_requests[:6])
        more = f" and {len(self.with_requests) - 6} more" if len(self.with_requests) > 6 else ""
        return (
            f"Sparse window: only {len(self.with_requests)} of the {self.months} months from "
            f"{self.first:%Y-%m} to {self.last:%Y-%m} hold requests ({held}{more}); {self.empty} are empty. "
            f"The map pools a few short periods, not a steady picture of the whole window."
        )


def _month(d: date) -> date:
    return date(d.year, d.month, 1)


def months_between(first: date, last: date) -> int:
    """How many calendar months ``first`` to ``last`` touch (both included)."""
    return (last.year - first.year) * 12 + last.month - first.month + 1


def month_coverage(session: Session, city: CityConfig, flt: RequestFilter) -> MonthCoverage:
    """The months of ``flt``'s window (its dates, or else its first and last request) and those
    holding a mapped request of it. One pass over the requests."""
    where, params = flt.sql(city)
    params["tz"] = city.timezone
    held = [
        r[0]
        for r in session.execute(
            text(
                f"SELECT DISTINCT {PERIODS['month'].sql('r.requested_at')} FROM service_request r "
                f"WHERE {where} ORDER BY 1"
            ),
            params,
        )
    ]
    first = _month(flt.date_from) if flt.date_from else (held[0] if held else None)
    last = _month(flt.date_to) if flt.date_to else (held[-1] if held else None)
    if first is None or last is None:
        return MonthCoverage(first, last, 0, [])
    return MonthCoverage(first, last, months_between(first, last), held)
