"""Synthetic data on real geography, for benchmarks (never for the demo).

:func:`synthetic_addresses` grows a city-sized address database from the real Los Angeles
address points: every real street keeps its name, directional, suffix and ZIP code, and
gets house numbers across (and a little beyond) its real range, placed by interpolating
between the street's real points (or along a bearing where a street has one point).
Every record is marked ``synthetic``.
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
from shapely.geometry import LineString
from sqlalchemy import text
from sqlalchemy.orm import Session

from address_db.loader import AddressRecord, SegmentRecord, address_id_for, read_rows, records_from
from address_db.normalize import ParsedAddress
from core.city import CityConfig

METRES_PER_DEGREE = 111_320.0


def real_addresses(city: CityConfig) -> list[AddressRecord]:
    """The city's own real address records with coordinates, read from its configured sources (not stored)."""
    assert city.addresses is not None
    records: list[AddressRecord] = []
    for source in city.addresses.sources:
        if source.kind in ("points", "parcels", "history") and source.agency is None:
            found, _, _, _ = records_from(read_rows(source.mapping), source)
            records.extend(found)
    return records


def synthetic_addresses(
    city: CityConfig, total: int, seed: int = 311, segments: int = 0
) -> tuple[list[AddressRecord], list[SegmentRecord]]:
    """About ``total`` synthetic addresses on the real streets of ``city`` (plus its real intersections).

    Returned as (addresses, segments): with ``segments``, also about that many synthetic
    centerline blocks along the same streets, each with its odd (left) and even (right)
    address range (none without).
    """
    rng = np.random.default_rng(seed)
    real = real_addresses(city)
    streets: dict[tuple, list[AddressRecord]] = defaultdict(list)
    intersections = []
    for record in real:
        p = record.parsed
        if p.kind == "intersection":
            intersections.append(record)
        elif p.number is not None:
            streets[(p.street, p.zipcode)].append(record)

    ranges = {
        key: (max(1, min(_number(r) for r in rows) - 200), max(_number(r) for r in rows) + 200)
        for key, rows in streets.items()
    }
    sizes = {key: high - low + 1 for key, (low, high) in ranges.items()}
    # Addresses per unit of house number, such that the streets (each holding at most one
    # address per number) add up to the total.
    wanted = total - len(intersections)
    per_number = wanted / sum(sizes.values())
    for _ in range(20):
        made = sum(min(size, round(size * per_number)) for size in sizes.values())
        per_number *= wanted / max(made, 1)
    records: list[AddressRecord] = []
    blocks: list[SegmentRecord] = []
    block = _block_size(ranges.values(), segments) if segments else 0
    seen: set[str] = set()
    for key, rows in streets.items():
        street, zipcode = key
        rows.sort(key=_number)
        numbers = np.array([_number(r) for r in rows], dtype=float)
        lons = np.array([r.lon for r in rows])
        lats = np.array([r.lat for r in rows])
        low, high = ranges[key]
        count = max(1, min(sizes[key], round(sizes[key] * per_number)))
        generated = np.sort(rng.choice(np.arange(low, high + 1), size=count, replace=False))
        if len(rows) >= 2 and numbers[-1] > numbers[0]:
            lon = np.interp(generated, numbers, lons)
            lat = np.interp(generated, numbers, lats)
        bearing = rng.uniform(0, 2 * math.pi)
        if not (len(rows) >= 2 and numbers[-1] > numbers[0]):  # one known point: numbers along a bearing, ~1.5 m each
            offset = (generated - numbers[0]) * 1.5 / METRES_PER_DEGREE
            lon = lons[0] + offset * math.cos(bearing) / math.cos(math.radians(lats[0]))
            lat = lats[0] + offset * math.sin(bearing)
        if block:
            starts = np.arange(low - low % block, high + 1, block)
            ends = starts + block
            if len(rows) >= 2 and numbers[-1] > numbers[0]:
                xs = _along(np.concatenate([starts, ends]), numbers, lons)
                ys = _along(np.concatenate([starts, ends]), numbers, lats)
            else:
                off = (np.concatenate([starts, ends]) - numbers[0]) * 1.5 / METRES_PER_DEGREE
                xs = lons[0] + off * math.cos(bearing) / math.cos(math.radians(lats[0]))
                ys = lats[0] + off * math.sin(bearing)
            n = len(starts)
            for i, start in enumerate(starts):
                a, b = (xs[i], ys[i]), (xs[n + i], ys[n + i])
                if a == b:
                    continue
                blocks.append(
                    SegmentRecord(
                        street,
                        street.text,
                        (int(start) + 1, int(start) + block - 1),
                        (int(start), int(start) + block - 2),
                        "street",
                        LineString([a, b]).wkb,
                        "synthetic",
                        30,
                        None,
                        f"synthetic:{len(blocks)}",
                        synthetic=True,
                    )
                )
        jitter = rng.normal(0, 8 / METRES_PER_DEGREE, size=(2, len(generated)))  # ~8 m off the centre line
        for number, x, y, dx, dy in zip(generated, lon, lat, jitter[0], jitter[1]):
            parsed = ParsedAddress(kind="address", street=street, number=int(number), zipcode=zipcode)
            address_id = address_id_for(parsed)
            if address_id in seen:
                continue
            seen.add(address_id)
            records.append(AddressRecord(address_id, parsed, float(x + dx), float(y + dy), "synthetic", synthetic=True))
    for record in intersections:
        if record.address_id not in seen:
            seen.add(record.address_id)
            records.append(
                AddressRecord(record.address_id, record.parsed, record.lon, record.lat, "synthetic", synthetic=True)
            )
    return records, blocks


def _number(record: AddressRecord) -> int:
    """The house number of an address that has one (the streets above hold only those)."""
    if record.parsed.number is None:
        raise ValueError(f"{record.parsed.text()} has no house number")
    return record.parsed.number


def _along(values: np.ndarray, numbers: np.ndarray, coords: np.ndarray) -> np.ndarray:
    """``coords`` at house numbers ``values``: interpolated between known numbers, extrapolated
    beyond them along the street's overall direction (not held at its ends)."""
    slope = (coords[-1] - coords[0]) / (numbers[-1] - numbers[0])
    found = np.interp(values, numbers, coords)
    below, above = values < numbers[0], values > numbers[-1]
    found[below] = coords[0] + (values[below] - numbers[0]) * slope
    found[above] = coords[-1] + (values[above] - numbers[-1]) * slope
    return found


def _block_size(ranges: object, segments: int) -> int:
    """The even block length (in house numbers) that gives at least ``segments`` blocks over ``ranges``."""
    spans = list(ranges)  # type: ignore[call-overload]
    block = 1000
    while block > 4:
        made = sum((high - (low - low % block)) // block + 1 for low, high in spans)
        if made >= segments:
            return block
        block -= 2
    return block


def synthetic_address_count(session: Session, city: str) -> int:
    """How many synthetic addresses ``city`` holds in this database."""
    return session.execute(
        text("SELECT count(*) FROM address_point WHERE city = :city AND synthetic"), {"city": city}
    ).scalar_one()
