"""Street centerlines and address points for the tile tests, inserted in the test's transaction.

The centerlines are Santa Monica's real ones (``santa_monica/Centerlines.geojson`` in the data folder of Los Angeles);
the house-number points are made up along one real block and marked synthetic.
"""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

#: The Santa Monica spot the tests look at (Colorado Avenue at 6th Street, lon/lat).
SPOT = (-118.4905, 34.0152)
#: The made-up house numbers, placed along the Colorado Avenue block nearest :data:`SPOT`.
NUMBERS = (1501, 1507, 1513, 1519, 1525)


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    """The XYZ tile column and row holding ``lon``/``lat`` at zoom ``z``."""
    n = 1 << z
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return x, y


def _load(session: Session, city: str, source: str) -> int:
    return session.execute(
        text(
            "INSERT INTO address_load (city, sources, rows_read, addresses, rejected, synthetic, counts) "
            "VALUES (:city, ARRAY[:source], 0, 0, 0, false, '{}') RETURNING id"
        ),
        {"city": city, "source": source},
    ).scalar_one()


def load_santa_monica(session: Session, data_dir: Path, city: str = "la") -> gpd.GeoDataFrame:
    """Insert Santa Monica's centerlines and a few synthetic address points for ``city``; the centerlines."""
    frame = gpd.read_file(data_dir / "santa_monica" / "Centerlines.geojson")
    # the tests look at known data only: the city's loaded streets and points are set aside (rolled back after)
    session.execute(text("DELETE FROM street_segment WHERE city = :city"), {"city": city})
    session.execute(text("DELETE FROM address_point WHERE city = :city"), {"city": city})
    load_id = _load(session, city, "santa_monica_centerlines_test")
    rows = [
        {
            "city": city,
            "load": load_id,
            "ref": str(int(r.CNTRLN0_ID)),
            "name": r.STNAME or None,
            "suffix": r.SUFTYPE or None,
            "postdir": r.SUFDIR if isinstance(r.SUFDIR, str) and len(r.SUFDIR) <= 2 else None,
            "full": r.FULLNAME or None,
            "class": (r.TYPE or "").lower() or None,
            "wkt": r.geometry.wkt,
        }
        for r in frame.itertuples()
    ]
    session.execute(
        text(
            "INSERT INTO street_segment (city, load_id, source_key, source_ref, rank, name, suffix, postdir, full_name, "
            "road_class, geom) VALUES (:city, :load, 'test_centerlines', :ref, 10, :name, :suffix, :postdir, :full, "
            ":class, ST_GeomFromText(:wkt, 4326))"
        ),
        rows,
    )
    colorado = frame[frame.FULLNAME == "COLORADO AVE"]
    block = colorado.geometry.iloc[int(shapely.distance(colorado.geometry.to_numpy(), shapely.Point(SPOT)).argmin())]
    points_load = _load(session, city, "synthetic_points_test")
    points = []
    for i, number in enumerate(NUMBERS):
        point = block.interpolate((i + 1) / (len(NUMBERS) + 1), normalized=True)
        points.append(
            {
                "city": city,
                "id": f"test-{number}",
                "load": points_load,
                "kind": "address",
                "number": number,
                "street": "COLORADO",
                "suffix": "AVE",
                "std": f"{number} COLORADO AVE",
                "wkt": point.wkt,
            }
        )
    points.append(
        {
            "city": city,
            "id": "test-x",
            "load": points_load,
            "kind": "intersection",
            "number": None,
            "street": "COLORADO",
            "suffix": "AVE",
            "std": "COLORADO AVE & 6TH ST",
            "wkt": block.interpolate(0.5, normalized=True).wkt,
        }
    )
    session.execute(
        text(
            "INSERT INTO address_point (city, address_id, load_id, kind, house_number, street_name, suffix, standardized, "
            "source, source_kind, source_key, rank, synthetic, geom) VALUES (:city, :id, :load, :kind, :number, :street, "
            ":suffix, :std, 'test', 'points', 'test_points', 10, true, ST_GeomFromText(:wkt, 4326))"
        ),
        points,
    )
    session.flush()
    return frame
