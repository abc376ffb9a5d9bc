"""The requests behind a figure: a page of them for people, or their points for a map."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import pandas as pd
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from core.city import CityConfig
from service_requests.selection import FilterError, RequestFilter

LIST_COLUMNS = [
    "public_ref",
    "service_code",
    "service_name",
    "status",
    "is_open",
    "requested_at",
    "closed_at",
    "due_at",
    "address",
    "ward_key",
    "district_key",
]
MAX_PAGE_SIZE = 500


@dataclass(frozen=True)
class RequestPage:
    """One page of a selection, newest first."""

    rows: pd.DataFrame
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def request_page(
    session: Session, city: CityConfig, flt: RequestFilter, page: int = 1, page_size: int = 50
) -> RequestPage:
    """Page ``page`` (from 1) of the requests under ``flt``, newest first, and how many there are."""
    if page < 1 or not 1 <= page_size <= MAX_PAGE_SIZE:
        raise FilterError(f"page must be 1 or more and page_size between 1 and {MAX_PAGE_SIZE}.")
    where, params = flt.sql(city)
    total = session.execute(text(f"SELECT count(*) FROM service_request r WHERE {where}"), params).scalar_one()
    params.update(limit=page_size, offset=(page - 1) * page_size)
    rows = session.execute(
        text(
            f"""
        SELECT {", ".join("r." + c for c in LIST_COLUMNS)} FROM service_request r WHERE {where}
        ORDER BY r.requested_at DESC, r.id DESC LIMIT :limit OFFSET :offset
        """
        ),
        params,
    ).all()
    return RequestPage(pd.DataFrame(rows, columns=LIST_COLUMNS), int(total), page, page_size)


def request_points(
    session: Session, city: CityConfig, flt: RequestFilter, limit: int | None = 10_000
) -> tuple[gpd.GeoDataFrame, int]:
    """The mapped requests under ``flt`` as points (newest first, at most ``limit``), and how many match.

    Columns: those of a list page plus the point (EPSG:4326).
    """
    flt = flt.replace(scope="mapped")
    where, params = flt.sql(city)
    total = session.execute(text(f"SELECT count(*) FROM service_request r WHERE {where}"), params).scalar_one()
    params["limit"] = limit
    rows = session.execute(
        text(
            f"""
        SELECT {", ".join("r." + c for c in LIST_COLUMNS)}, ST_X(r.geom) AS lon, ST_Y(r.geom) AS lat
        FROM service_request r WHERE {where}
        ORDER BY r.requested_at DESC, r.id DESC LIMIT :limit
        """
        ),
        params,
    ).all()
    frame = pd.DataFrame(rows, columns=[*LIST_COLUMNS, "lon", "lat"])
    points = gpd.GeoDataFrame(
        frame.drop(columns=["lon", "lat"]),
        geometry=shapely.points(frame["lon"].to_numpy(float), frame["lat"].to_numpy(float)),
        crs="EPSG:4326",
    )
    return points, int(total)
