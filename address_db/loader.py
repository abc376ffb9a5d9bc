"""Loading a city's address database from its configured sources.

Sources are CSV (with latitude/longitude columns), GeoJSON, Shapefile or GeoPackage
(points, or parcel polygons located at a point on their surface), read through the city
configuration's field mapping. Every row goes through the one normalizer
(:mod:`address_db.normalize`); rows that cannot be used are written, with the reason,
to a rejected-rows report. The new address set replaces the previous one in a single
transaction (bulk COPY, then set-based SQL): a failed load leaves the old set intact.

Each point's jurisdiction is taken from the point and the current boundaries
(:func:`assign_jurisdiction`), never from its ZIP code or postal city.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import warnings
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyogrio
from shapely.geometry import LineString, MultiPolygon
from sqlalchemy import text
from sqlalchemy.orm import Session

from address_db.normalize import (
    InvalidAddress,
    ParsedAddress,
    Street,
    parse_address,
    standardize_components,
    standardize_zipcode,
)
from boundaries.queries import areas_at, stage_current_pieces
from boundaries.sources import with_crs
from core.city import (
    PLACEHOLDER_MIN_ADDRESSES,
    AddressSettings,
    AddressSource,
    CityConfig,
    SourceMapping,
    file_names,
    requests_option,
)
from core.csv_files import read_csv_file
from core.database import driver_connection, rows_affected
from core.errors import DataFileError, UserError
from core.settings import PROJECT_ROOT
from core.spreadsheets import write_csv

GEO_SUFFIXES = {".geojson", ".json", ".shp", ".gpkg"}
_DEFAULT_SOURCE = AddressSource("addresses", "points", 10, SourceMapping((), {}))
DEFAULT_REPORT_DIR = PROJECT_ROOT / "var" / "reports"


@dataclass
class AddressRecord:
    """One address ready to store."""

    address_id: str
    parsed: ParsedAddress
    lon: float
    lat: float
    source: str
    parcel_number: str | None = None
    parcel_wkb: bytes | None = None
    synthetic: bool = False
    source_kind: str = "history"
    source_key: str = "history"
    rank: int = 100
    owner_agency: str | None = None
    location_key: str | None = None
    source_ref: str | None = None
    legal_city: str | None = None
    postal_cities: list[str] | None = None
    placed_by: str | None = None


@dataclass(frozen=True)
class RejectedRow:
    """A source row that did not become an address, and why."""

    source: str
    row: int
    reason: str
    text: str


@dataclass
class AddressLoadReport:
    """What one load of the address database did."""

    city: str
    load_id: int
    rows_read: int
    addresses: int
    duplicates: int
    rejected: list[RejectedRow] = field(default_factory=list)
    report_path: Path | None = None
    counts: dict[str, dict[str, Any]] = field(default_factory=dict)

    def summary(self) -> str:
        text = (
            f"{self.city}: {self.addresses} addresses from {self.rows_read} rows "
            f"({self.duplicates} duplicate rows merged, {len(self.rejected)} rejected)"
        )
        for key, c in self.counts.items():
            owner = f" of {c['agency']}" if c.get("agency") else ""
            parts = [f"{c.get('rows', 0)} rows"]
            if "segments" in c:
                parts.append(f"{c['segments']} segments ({c.get('ranged', 0)} with address ranges)")
            if c.get("addresses"):
                parts.append(f"{c['addresses']} addresses")
            if c.get("intersections"):
                parts.append(f"{c['intersections']} intersections")
            parts.append(f"{c.get('rejected', 0)} rejected")
            text += f"\n  {key} ({c.get('kind')}{owner}, rank {c.get('rank')}): " + ", ".join(parts)
        if self.report_path:
            text += f"\nRejected rows with reasons: {self.report_path}"
        return text


# -- reading sources ----------------------------------------------------------------------


@dataclass
class _SourceRow:
    source: str
    row: int
    values: dict[str, object]
    lon: object
    lat: object
    parcel: MultiPolygon | None = None
    lines: list[LineString] | None = None


def read_rows(mapping: SourceMapping, coordinates: bool = True) -> Iterator[_SourceRow]:
    """The rows of every source of ``mapping``, with our field names as keys
    (a CSV without coordinates only where ``coordinates`` is False)."""
    for path in mapping.paths:
        if not path.is_file():
            raise DataFileError(
                f"The address source {path} does not exist; check the data folder (GEO311_DATA_DIR) "
                "and the [addresses] sources in the city file."
            )
        if path.suffix.lower() in GEO_SUFFIXES:
            yield from _read_geo(path, mapping)
        else:
            yield from _read_csv(path, mapping, coordinates)


def _columns(frame: pd.DataFrame, mapping: SourceMapping, path: Path) -> dict[str, Any]:
    """Our field name -> the frame's column (or columns, for a list such as PCITY1,PCITY2),
    matching column names case-insensitively."""
    by_lower = {str(c).lower(): c for c in frame.columns}
    columns: dict[str, Any] = {}
    for ours, theirs in mapping.fields.items():
        found = []
        for name in theirs.split(","):
            column = by_lower.get(name.strip().lower())
            if column is None:
                available = ", ".join(str(c) for c in frame.columns if c != "geometry")
                raise DataFileError(
                    f"{path.name} has no column {name.strip()!r} (mapped to {ours}); its columns: {available}. "
                    "Fix the source's fields in the city file."
                )
            found.append(column)
        columns[ours] = found if "," in theirs else found[0]
    return columns


def _value(record: Any, column: Any) -> Any:
    """A row's value of one mapped column, or its values of a list of columns (a dict or a frame row)."""
    if isinstance(column, list):
        return [record[c] for c in column]
    return record[column]


def _filtered(frame: pd.DataFrame, mapping: SourceMapping, path: Path) -> pd.DataFrame:
    if mapping.where is None:
        return frame
    by_lower = {str(c).lower(): c for c in frame.columns}
    column = by_lower.get(mapping.where.field.lower())
    if column is None:
        raise DataFileError(f"{path.name} has no column {mapping.where.field!r} to filter on; fix the where filter.")
    return frame[frame[column].fillna("").astype(str).isin(mapping.where.values)]


def _read_csv(path: Path, mapping: SourceMapping, coordinates: bool = True) -> Iterator[_SourceRow]:
    frame = read_csv_file(path, mapping.options.get("encoding"), rows_required=len(mapping.paths) == 1)
    columns = _columns(frame, mapping, path)
    if coordinates and ("latitude" not in columns or "longitude" not in columns):
        raise DataFileError(f"{path.name} is a CSV: map latitude and longitude in [addresses.fields] to its columns.")
    frame = _filtered(frame, mapping, path)
    for row_number, row in zip(frame.index, frame.itertuples(index=False)):
        record = dict(zip(frame.columns, row))
        values = {ours: _value(record, col) for ours, col in columns.items()}
        yield _SourceRow(path.name, int(row_number) + 2, values, values.get("longitude"), values.get("latitude"))


def _read_geo(path: Path, mapping: SourceMapping) -> Iterator[_SourceRow]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            frame = pyogrio.read_dataframe(path, layer=mapping.options.get("layer"))
    except Exception as exc:
        raise DataFileError(f"{path.name} cannot be read ({str(exc).splitlines()[0]}); check the file.") from exc
    if frame.crs is None and not mapping.options.get("crs"):
        raise DataFileError(
            f"{path.name} does not say which coordinate reference system it uses; add a .prj "
            'or crs = "EPSG:...." to the source in the city file.'
        )
    frame = with_crs(frame, mapping.options.get("crs"), path, what="address source")
    frame = _filtered(frame.to_crs("EPSG:4326"), mapping, path)
    columns = _columns(frame, mapping, path)
    for i, (row_number, geometry) in enumerate(zip(frame.index, frame.geometry)):
        record = frame.iloc[i]
        values = {ours: _value(record, col) for ours, col in columns.items()}
        parcel = None
        lines = None
        lon = lat = None
        if geometry is not None and not geometry.is_empty:
            if geometry.geom_type == "LineString":
                lines = [geometry]
            elif geometry.geom_type == "MultiLineString":
                lines = list(geometry.geoms)
            if geometry.geom_type in ("Polygon", "MultiPolygon"):
                geometry = geometry if geometry.is_valid else geometry.buffer(0)
                parcel = geometry if geometry.geom_type == "MultiPolygon" else MultiPolygon([geometry])
                point = geometry.representative_point()
            else:
                point = geometry.centroid
            lon, lat = point.x, point.y
        yield _SourceRow(path.name, int(row_number) + 1, values, lon, lat, parcel, lines)


# -- normalizing ----------------------------------------------------------------------------

_PARENTHESES = re.compile(r"\s*\([^)]*\)\s*")


def normalize_row(values: dict[str, object]) -> ParsedAddress:
    """The standardized address of a source row: its full text, else its columns.

    A street name may come in parts, as in the county's CAMS schema: a pre-type
    (HIGHWAY, VIA) and an article (DEL) before the name, a number suffix (1/2) apart
    from the number. Text in parentheses ("1 SEA COLONY DR (1-43 SEA COLONY DR)") is
    a comment, not part of the address.
    """
    full = values.get("full_address")
    error: InvalidAddress | None = None
    if isinstance(full, str) and full.strip():
        try:
            parsed = parse_address(_PARENTHESES.sub(" ", full).strip())
        except InvalidAddress as exc:
            error = exc
        else:
            if parsed.zipcode is None and _str(values.get("zipcode")):
                parsed = replace(parsed, zipcode=standardize_zipcode(values["zipcode"]))
            return parsed
    name = " ".join(
        p
        for p in (
            _str(values.get("street_pretype")),
            _str(values.get("street_article")),
            _str(values.get("street_name")),
        )
        if p and p.strip()
    )
    if name and _str(values.get("house_number")) is not None:
        parsed = standardize_components(
            number=values.get("house_number"),
            predir=_str(values.get("predirectional")),
            street_name=name,
            suffix=_str(values.get("suffix")),
            postdir=_str(values.get("postdirectional")),
            unit_type=_str(values.get("unit_type")),
            unit=_str(values.get("unit")),
            city=_first(values.get("postal_cities")) or _str(values.get("postal_city")),
            zipcode=values.get("zipcode"),
        )
        fraction = _str(values.get("number_suffix"))
        if fraction and fraction.strip():
            parsed = replace(parsed, number_suffix=fraction.strip().upper())
        return parsed
    if name and "house_number" in values:
        raise InvalidAddress("The row has a street but no house number.")
    raise error or InvalidAddress("The row has neither a full address nor a house number and street name.")


def _first(value: object) -> str | None:
    names = _names(value)
    return names[0] if names else None


def _names(value: object) -> list[str]:
    """Distinct non-empty upper-case names from a value or a list of values, in order."""
    values = value if isinstance(value, list) else [value]
    found: list[str] = []
    for item in values:
        text_ = _str(item)
        if text_ and text_.strip() and text_.strip().upper() not in found:
            found.append(text_.strip().upper())
    return found


def address_id_for(parsed: ParsedAddress, owner: str | None = None) -> str:
    """A stable id from the standardized address (and the neighbour it belongs to, if any):
    the same address keeps its id across loads."""
    key = parsed.text() if owner is None else f"{owner}|{parsed.text()}"
    return hashlib.sha1(key.encode()).hexdigest()[:16]


def _str(value: object) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _coordinate(value: object, name: str, limit: float) -> tuple[float | None, str | None]:
    """A coordinate of a row and, where it cannot be used, why (out of range is refused, never clamped)."""
    typed = _str(value)
    if typed is None or not typed.strip():
        return None, f"no {name}"
    try:
        number = float(typed)
    except ValueError:
        return None, f"{name} {typed.strip()[:40]!r} is not a number of decimal degrees"
    if not math.isfinite(number) or not -limit <= number <= limit:
        return None, f"{name} {typed.strip()[:40]} is outside -{limit:g} to {limit:g} (WGS 84 decimal degrees)"
    if number == 0:
        return None, f"{name} 0 (how many systems write an unknown place)"
    return number, None


def records_from(
    rows: Iterable[_SourceRow],
    source: AddressSource | None = None,
    coordinates: bool = True,
    placeholder_min_addresses: int = PLACEHOLDER_MIN_ADDRESSES,
) -> tuple[list[AddressRecord], list[RejectedRow], int, int]:
    """Normalize and deduplicate rows: (records, rejected rows, rows read, duplicates).

    With ``coordinates`` False (a list source) the records have no point yet
    (lon and lat are NaN) until :func:`place_list_records` puts them on a range.
    """
    source = source or _DEFAULT_SOURCE
    records: dict[str, AddressRecord] = {}
    rejected: list[RejectedRow] = []
    read = duplicates = 0
    for row in rows:
        read += 1
        shown = str(
            row.values.get("full_address")
            or " ".join(
                str(_str(row.values.get(k)) or "")
                for k in ("house_number", "predirectional", "street_pretype", "street_name", "suffix")
            )
        ).strip()
        shown = re.sub(r"\s+", " ", shown)
        if coordinates:
            (lon, lon_problem), (lat, lat_problem) = (
                _coordinate(row.lon, "longitude", 180),
                _coordinate(row.lat, "latitude", 90),
            )
            if lon is None or lat is None:
                why = "; ".join(p for p in (lat_problem, lon_problem) if p)
                rejected.append(RejectedRow(row.source, row.row, f"no usable coordinates: {why}", shown))
                continue
        else:
            lon = lat = math.nan
        try:
            parsed = normalize_row(row.values)
        except InvalidAddress as exc:
            rejected.append(RejectedRow(row.source, row.row, str(exc), shown))
            continue
        if parsed.kind != "intersection" and parsed.number is None:
            rejected.append(RejectedRow(row.source, row.row, "no house number", shown))
            continue
        parsed = parsed.without_unit()
        source_id = _str(row.values.get("address_id"))
        address_id = source_id.strip() if source_id else address_id_for(parsed, source.agency)
        if address_id in records:
            duplicates += 1
            continue
        location_key = _str(row.values.get("location_key"))
        records[address_id] = AddressRecord(
            address_id=address_id,
            parsed=parsed,
            lon=lon,
            lat=lat,
            source=row.source,
            parcel_number=_str(row.values.get("parcel_number")),
            parcel_wkb=row.parcel.wkb if row.parcel is not None else None,
            source_kind=source.kind,
            source_key=source.key,
            rank=source.rank,
            owner_agency=source.agency,
            location_key=f"{source.key}:{location_key}" if location_key else None,
            source_ref=f"{row.source}:{_str(row.values.get('source_ref')) or row.row}",
            legal_city=_first(row.values.get("legal_city")),
            postal_cities=_names(row.values.get("postal_cities")) or None,
        )
    found = list(records.values())
    if source.kind == "history":
        found, placeholders = _without_placeholders(found, placeholder_min_addresses)
        rejected.extend(placeholders)
    return found, rejected, read, duplicates


def _without_placeholders(
    records: list[AddressRecord], min_addresses: int = PLACEHOLDER_MIN_ADDRESSES
) -> tuple[list[AddressRecord], list[RejectedRow]]:
    """History addresses that do not sit on a placeholder point, and the rejected ones."""
    by_point: dict[tuple[float, float], list[AddressRecord]] = {}
    for record in records:
        by_point.setdefault((round(record.lon, 6), round(record.lat, 6)), []).append(record)
    kept: list[AddressRecord] = []
    rejected: list[RejectedRow] = []
    for point, group in by_point.items():
        streets = {r.parsed.text(zipcode=False) for r in group}
        if len(streets) >= min_addresses:
            rejected.extend(
                RejectedRow(
                    r.source,
                    0,
                    f"on a placeholder point shared by {len(streets)} different "
                    f"addresses ({point[1]}, {point[0]}): not where the address is",
                    r.parsed.text(),
                )
                for r in group
            )
        else:
            kept.extend(group)
    return kept, rejected


def merge_by_rank(batches: list[list[AddressRecord]]) -> tuple[list[AddressRecord], int]:
    """One record per address and owner, the best ranked source's: (records, dropped)."""
    kept: dict[tuple[str | None, str], AddressRecord] = {}
    ids: set[str] = set()
    dropped = 0
    for record in sorted((r for batch in batches for r in batch), key=lambda r: r.rank):
        key = (record.owner_agency, record.parsed.text())
        if key in kept or record.address_id in ids:
            dropped += 1
            continue
        kept[key] = record
        ids.add(record.address_id)
    return list(kept.values()), dropped


@dataclass
class SegmentRecord:
    """A street centerline segment ready to store."""

    street: Street | None
    full_name: str | None
    left: tuple[int, int] | None
    right: tuple[int, int] | None
    road_class: str | None
    wkb: bytes
    source_key: str
    rank: int
    owner_agency: str | None
    source_ref: str
    synthetic: bool = False


def segments_from(
    rows: Iterable[_SourceRow], source: AddressSource
) -> tuple[list[SegmentRecord], list[RejectedRow], int]:
    """Street segments of a centerlines source: (segments, rejected rows or ranges, rows read).

    A range of 0 or none is no range; a range whose ends differ in parity (one odd,
    one even) cannot say which side a number is on: it is dropped, and reported, but
    the segment is kept for the map and for intersections. Reversed ranges (from >
    to: numbers falling along the line) are kept as they are. Unnamed segments are kept
    for the map and never matched.
    """
    segments: list[SegmentRecord] = []
    rejected: list[RejectedRow] = []
    read = 0
    for row in rows:
        read += 1
        name: str | None = _str(row.values.get("full_name")) or " ".join(
            p
            for p in (_str(row.values.get(k)) for k in ("predirectional", "street_name", "suffix", "postdirectional"))
            if p and p.strip()
        )
        name = re.sub(r"\s+", " ", name or "").strip() or None
        if not row.lines:
            rejected.append(RejectedRow(row.source, row.row, "no line geometry", name or ""))
            continue
        street = None
        if name:
            try:
                street = parse_address(f"1 {name}").street
            except InvalidAddress as exc:
                rejected.append(RejectedRow(row.source, row.row, f"street name not usable ({exc}); kept unnamed", name))
        sides: list[tuple[int, int] | None] = []
        for side, ends in (("left", ("left_from", "left_to")), ("right", ("right_from", "right_to"))):
            low, high = (_house(row.values.get(k)) for k in ends)
            if not low and not high:
                sides.append(None)
            elif not low or not high:
                number = max(low or 0, high or 0)  # one end given (numbers are positive): a single number
                sides.append((number, number))
            elif low % 2 != high % 2:
                rejected.append(
                    RejectedRow(
                        row.source,
                        row.row,
                        f"mixed parity on the {side} side ({low}-{high}): that range is not used",
                        name or "",
                    )
                )
                sides.append(None)
            else:
                sides.append((low, high))
        for part, line in enumerate(row.lines):
            if line.is_empty or line.length == 0:
                continue
            segments.append(
                SegmentRecord(
                    street=street,
                    full_name=name,
                    left=sides[0],
                    right=sides[1],
                    road_class=_str(row.values.get("road_class")),
                    wkb=LineString(line.coords).wkb,
                    source_key=source.key,
                    rank=source.rank,
                    owner_agency=source.agency,
                    source_ref=f"{row.source}:{row.row}" + (f".{part}" if len(row.lines) > 1 else ""),
                )
            )
    return segments, rejected, read


def _house(value: object) -> int | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return int(number) if math.isfinite(number) and number > 0 else None


# -- storing ----------------------------------------------------------------------------------

_STAGE_COLUMNS = (
    "address_id",
    "kind",
    "house_number",
    "number_suffix",
    "predir",
    "street_name",
    "suffix",
    "postdir",
    "cross_predir",
    "cross_name",
    "cross_suffix",
    "cross_postdir",
    "unit_type",
    "unit",
    "postal_city",
    "zipcode",
    "standardized",
    "parcel_number",
    "source",
    "synthetic",
    "source_kind",
    "source_key",
    "rank",
    "owner_agency",
    "location_key",
    "source_ref",
    "legal_city",
    "postal_cities",
    "placed_by",
    "lon",
    "lat",
    "parcel_wkb",
)
_STORED = _STAGE_COLUMNS[:-3]


def _stage_row(record: AddressRecord) -> tuple[object, ...]:
    p = record.parsed
    cross = p.cross_street
    kind = "intersection" if p.kind == "intersection" else ("parcel" if record.parcel_wkb else "address")
    return (
        record.address_id,
        kind,
        p.number,
        p.number_suffix,
        p.street.predir,
        p.street.name,
        p.street.suffix,
        p.street.postdir,
        cross.predir if cross else None,
        cross.name if cross else None,
        cross.suffix if cross else None,
        cross.postdir if cross else None,
        p.unit_type,
        p.unit,
        p.city,
        p.zipcode,
        p.text(),
        record.parcel_number,
        record.source,
        record.synthetic,
        record.source_kind,
        record.source_key,
        record.rank,
        record.owner_agency,
        record.location_key,
        record.source_ref,
        record.legal_city,
        record.postal_cities,
        record.placed_by,
        record.lon,
        record.lat,
        record.parcel_wkb,
    )


def store_addresses(
    session: Session,
    city: str,
    records: Iterable[AddressRecord],
    *,
    sources: list[str],
    rows_read: int,
    rejected: int,
    report_path: Path | None = None,
    synthetic: bool = False,
    digest: str | None = None,
    segments: Iterable[SegmentRecord] | None = None,
    lists: Iterable[tuple[AddressSource, list[AddressRecord]]] = (),
    home_name: str = "city",
    refused: list[RejectedRow] | None = None,
) -> tuple[int, int]:
    """Replace the address set of ``city`` with ``records`` (the caller commits).

    With ``segments`` the street centerlines are replaced too, their crossings become
    intersections, and the ``lists`` (addresses without coordinates) are placed on their
    ranges. A neighbour's address or segment inside the city is removed and added to
    ``refused``, as is a list address no range holds. Returns (load id, number of
    addresses). Rows are streamed with COPY into a temporary table, then moved with
    set-based SQL.
    """
    refused = refused if refused is not None else []
    session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": f"addresses:{city}"})
    load_id = session.execute(
        text(
            """
            INSERT INTO address_load (city, sources, rows_read, addresses, rejected, report_path, synthetic, digest)
            VALUES (:city, :sources, :rows_read, 0, :rejected, :report, :synthetic, :digest)
            RETURNING id
            """
        ),
        {
            "city": city,
            "sources": sources,
            "rows_read": rows_read,
            "rejected": rejected,
            "report": str(report_path) if report_path else None,
            "synthetic": synthetic,
            "digest": digest,
        },
    ).scalar_one()
    session.execute(text("DELETE FROM address_point WHERE city = :city"), {"city": city})
    _copy_points(session, city, load_id, records)
    if segments is not None:
        store_segments(session, city, load_id, segments)
        assign_segment_jurisdiction(session, city)
        add_centerline_intersections(session, city, load_id)
        for source, batch in lists:
            placed, unplaced = place_list_records(session, city, source, batch)
            refused.extend(unplaced)
            _copy_points(session, city, load_id, placed)
    assign_jurisdiction(session, city)
    refused.extend(reject_neighbours_inside(session, city, home_name))
    rebuild_streets(session, city)
    count = session.execute(
        text(
            "UPDATE address_load SET addresses = (SELECT count(*) FROM address_point WHERE city = :city), "
            "rejected = rejected + :more WHERE id = :id RETURNING addresses"
        ),
        {"city": city, "id": load_id, "more": len(refused)},
    ).scalar_one()
    return load_id, count


def _copy_points(session: Session, city: str, load_id: int, records: Iterable[AddressRecord]) -> int:
    """Add ``records`` to the address points of ``city`` (skipping an address already stored
    for the same owner: the better ranked source was stored first)."""
    session.execute(
        text(
            """
        CREATE TEMP TABLE IF NOT EXISTS address_stage (
            address_id text, kind text, house_number int, number_suffix text, predir text, street_name text,
            suffix text, postdir text, cross_predir text, cross_name text, cross_suffix text, cross_postdir text,
            unit_type text, unit text, postal_city text, zipcode text, standardized text, parcel_number text,
            source text, synthetic boolean, source_kind text, source_key text, rank smallint, owner_agency text,
            location_key text, source_ref text, legal_city text, postal_cities text[], placed_by text,
            lon float8, lat float8, parcel_wkb bytea
        ) ON COMMIT DROP
        """
        )
    )
    session.execute(text("TRUNCATE address_stage"))
    raw = driver_connection(session)
    with raw.cursor() as cursor:
        with cursor.copy(f"COPY address_stage ({', '.join(_STAGE_COLUMNS)}) FROM STDIN") as copy:
            for record in records:
                copy.write_row(_stage_row(record))
    session.execute(text("ANALYZE address_stage"))  # so that the duplicate check below is a hash anti-join
    return rows_affected(
        session.execute(
            text(
                f"""
            INSERT INTO address_point (city, load_id, {", ".join(_STORED)}, geom, parcel_geom)
            SELECT CAST(:city AS varchar), :load_id, {", ".join(_STORED)},
                   ST_SetSRID(ST_MakePoint(lon, lat), 4326),
                   CASE WHEN parcel_wkb IS NULL THEN NULL ELSE ST_Multi(ST_GeomFromWKB(parcel_wkb, 4326)) END
            FROM address_stage s
            WHERE NOT EXISTS (SELECT 1 FROM address_point p WHERE p.city = CAST(:city AS varchar) AND p.standardized = s.standardized
                              AND p.owner_agency IS NOT DISTINCT FROM s.owner_agency AND p.kind <> 'intersection')
            ON CONFLICT (city, address_id) DO NOTHING
            """
            ),
            {"city": city, "load_id": load_id},
        )
    )


def place_list_records(
    session: Session, city: str, source: AddressSource, records: list[AddressRecord]
) -> tuple[list[AddressRecord], list[RejectedRow]]:
    """Put the addresses of a list source on the address ranges of its centerline source:
    (placed records, rejected rows)."""
    from address_db.interpolation import on_ranges  # the interpolation reads the segments stored above

    placed, rejected = [], []
    for record in records:
        p = record.parsed
        if p.kind == "intersection" or p.number is None:
            rejected.append(RejectedRow(record.source, _row_number(record.source_ref), "not a house address", p.text()))
            continue
        found = [
            f
            for f in on_ranges(session, city, [p.street.name], p.number, owner=source.agency)
            if (not p.street.suffix or not f.suffix or f.suffix == p.street.suffix)
            and (
                not (p.street.predir or p.street.postdir)
                or {p.street.predir, p.street.postdir} - {None} <= {f.predir, f.postdir}
            )
        ]
        if not found:
            rejected.append(
                RejectedRow(
                    record.source,
                    _row_number(record.source_ref),
                    f"no address range of {p.street.text} on the {source.place_on} centerlines "
                    f"holds number {p.number}: not placed",
                    p.text(),
                )
            )
            continue
        best = found[0]
        placed.append(replace(record, lon=best.lon, lat=best.lat, placed_by=best.basis))
    return placed, rejected


def assign_jurisdiction(session: Session, city: str) -> None:
    """Set each address's jurisdiction (and, outside it, agency) from its point and the current boundaries."""
    stage_current_pieces(session, city)
    session.execute(
        text(
            f"""
            UPDATE address_point p SET
                in_jurisdiction = coalesce(a.inside, false),
                agency_key = CASE WHEN coalesce(a.inside, false) THEN NULL ELSE a.agency END
            FROM address_point t CROSS JOIN LATERAL ({areas_at("t.geom")}) a
            WHERE p.id = t.id AND t.city = :city
            """
        ),
        {"city": city},
    )


def rebuild_streets(session: Session, city: str) -> None:
    """Recompute the distinct streets of ``city`` from its addresses, intersections and centerlines."""
    session.execute(text("DELETE FROM address_street WHERE city = :city"), {"city": city})
    session.execute(
        text(
            """
            INSERT INTO address_street (city, predir, name, suffix, postdir, zipcodes, min_number, max_number, addresses)
            SELECT :city, predir, name, suffix, postdir,
                   coalesce(array_agg(DISTINCT zipcode) FILTER (WHERE zipcode IS NOT NULL), '{}'),
                   min(house_number), max(house_number), count(house_number)
            FROM (
                SELECT predir, street_name AS name, suffix, postdir, zipcode, house_number
                FROM address_point WHERE city = :city
                UNION ALL
                SELECT cross_predir, cross_name, cross_suffix, cross_postdir, zipcode, NULL
                FROM address_point WHERE city = :city AND kind = 'intersection'
                UNION ALL
                SELECT predir, name, suffix, postdir, NULL, NULL
                FROM street_segment WHERE city = :city AND name IS NOT NULL
            ) streets
            GROUP BY predir, name, suffix, postdir
            """
        ),
        {"city": city},
    )


_SEGMENT_COLUMNS = (
    "source_key",
    "source_ref",
    "rank",
    "owner_agency",
    "predir",
    "name",
    "suffix",
    "postdir",
    "full_name",
    "left_from",
    "left_to",
    "right_from",
    "right_to",
    "road_class",
    "synthetic",
    "wkb",
)


def store_segments(session: Session, city: str, load_id: int, segments: Iterable[SegmentRecord]) -> int:
    """Replace the street segments of ``city`` with ``segments`` (COPY; the caller commits)."""
    session.execute(text("DELETE FROM street_segment WHERE city = :city"), {"city": city})
    session.execute(
        text(
            "CREATE TEMP TABLE segment_stage (source_key text, source_ref text, rank smallint, owner_agency text, "
            "predir text, name text, suffix text, postdir text, full_name text, left_from int, left_to int, "
            "right_from int, right_to int, road_class text, synthetic boolean, wkb bytea) ON COMMIT DROP"
        )
    )
    raw = driver_connection(session)
    with raw.cursor() as cursor:
        with cursor.copy(f"COPY segment_stage ({', '.join(_SEGMENT_COLUMNS)}) FROM STDIN") as copy:
            for g in segments:
                st = g.street
                copy.write_row(
                    (
                        g.source_key,
                        g.source_ref,
                        g.rank,
                        g.owner_agency,
                        st.predir if st else None,
                        st.name if st else None,
                        st.suffix if st else None,
                        st.postdir if st else None,
                        g.full_name,
                        g.left[0] if g.left else None,
                        g.left[1] if g.left else None,
                        g.right[0] if g.right else None,
                        g.right[1] if g.right else None,
                        g.road_class,
                        g.synthetic,
                        g.wkb,
                    )
                )
    count = rows_affected(
        session.execute(
            text(
                f"""
        INSERT INTO street_segment (city, load_id, {", ".join(_SEGMENT_COLUMNS[:-1])}, geom)
        SELECT :city, :load_id, {", ".join(_SEGMENT_COLUMNS[:-1])}, ST_GeomFromWKB(wkb, 4326) FROM segment_stage
        """
            ),
            {"city": city, "load_id": load_id},
        )
    )
    session.execute(text("DROP TABLE segment_stage"))
    return count


def assign_segment_jurisdiction(session: Session, city: str) -> None:
    """Each segment's jurisdiction and agency, from its middle point and the current boundaries."""
    stage_current_pieces(session, city)
    session.execute(
        text(
            f"""
        UPDATE street_segment s SET in_jurisdiction = coalesce(a.inside, false),
               agency_key = CASE WHEN coalesce(a.inside, false) THEN NULL ELSE a.agency END
        FROM street_segment t CROSS JOIN LATERAL ({areas_at("ST_LineInterpolatePoint(t.geom, 0.5)")}) a
        WHERE s.id = t.id AND t.city = :city
        """
        ),
        {"city": city},
    )


def reject_neighbours_inside(session: Session, city: str, home_name: str) -> list[RejectedRow]:
    """Remove a neighbour's addresses and segments that lie inside the city: they cannot be
    the neighbour's. Returned as rejected rows, with the reason."""
    rows = session.execute(
        text(
            "DELETE FROM address_point WHERE city = :city AND owner_agency IS NOT NULL AND in_jurisdiction "
            "RETURNING source_key, source_ref, standardized, owner_agency"
        ),
        {"city": city},
    ).all()
    segments = session.execute(
        text(
            "DELETE FROM street_segment WHERE city = :city AND owner_agency IS NOT NULL AND in_jurisdiction "
            "RETURNING source_key, source_ref, coalesce(full_name, '(unnamed)'), owner_agency"
        ),
        {"city": city},
    ).all()
    return [
        RejectedRow(
            ref.rsplit(":", 1)[0] if ref else key,
            _row_number(ref),
            f"a source of {owner} but the point lies inside the {home_name}: not loaded as {owner}'s",
            shown,
        )
        for key, ref, shown, owner in [*rows, *segments]
    ]


def _row_number(ref: str | None) -> int:
    try:
        return int(str(ref).rsplit(":", 1)[1].split(".")[0])
    except (IndexError, ValueError):
        return 0


def add_centerline_intersections(session: Session, city: str, load_id: int) -> int:
    """Intersections where two differently named centerlines meet or cross, one per crossing
    (points of the same two streets within about 30 m are one crossing)."""
    return rows_affected(
        session.execute(
            text(
                """
        INSERT INTO address_point (city, address_id, load_id, kind, predir, street_name, suffix, postdir,
                                   cross_predir, cross_name, cross_suffix, cross_postdir, standardized, source,
                                   source_kind, source_key, rank, owner_agency, source_ref, synthetic, geom)
        SELECT :city, left(md5(coalesce(owner_agency, '') || standardized || ST_AsText(cell)), 16), :load_id,
               'intersection', a_predir, a_name, a_suffix, a_postdir, b_predir, b_name, b_suffix, b_postdir,
               standardized, 'centerlines', 'centerlines', source_key, rank, owner_agency, source_key, false, point
        FROM (
            SELECT DISTINCT ON (standardized, owner_agency, cell) *
            FROM (
                SELECT a.predir AS a_predir, a.name AS a_name, a.suffix AS a_suffix, a.postdir AS a_postdir,
                       b.predir AS b_predir, b.name AS b_name, b.suffix AS b_suffix, b.postdir AS b_postdir,
                       concat_ws(' ', a.predir, a.name, a.suffix, a.postdir) || ' AT '
                           || concat_ws(' ', b.predir, b.name, b.suffix, b.postdir) AS standardized,
                       a.owner_agency, least(a.rank, b.rank) AS rank, a.source_key, p.point,
                       ST_SnapToGrid(p.point, 0.0004) AS cell
                FROM street_segment a
                JOIN street_segment b ON b.city = a.city AND a.id <> b.id AND ST_Intersects(a.geom, b.geom)
                     AND (a.name, coalesce(a.suffix, '')) < (b.name, coalesce(b.suffix, ''))
                     AND a.owner_agency IS NOT DISTINCT FROM b.owner_agency
                CROSS JOIN LATERAL (SELECT ST_PointOnSurface(ST_Intersection(a.geom, b.geom)) AS point) p
                WHERE a.city = :city AND a.load_id = :load_id AND a.name IS NOT NULL AND b.name IS NOT NULL
                  AND a.name <> b.name
            ) crossings
            ORDER BY standardized, owner_agency, cell
        ) one_per_crossing
        ON CONFLICT (city, address_id) DO NOTHING
        """
            ),
            {"city": city, "load_id": load_id},
        )
    )


def write_rejected_report(rejected: list[RejectedRow], city: str, report_dir: Path) -> Path | None:
    """A CSV of the rejected rows with their reasons, or None when there are none."""
    if not rejected:
        return None
    report_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = report_dir / f"addresses-{city}-{stamp}-rejected.csv"
    return write_csv(
        path, ["source", "row", "reason", "address"], ([row.source, row.row, row.reason, row.text] for row in rejected)
    )


def source_digest(settings: AddressSettings | SourceMapping) -> str:
    """A fingerprint of the sources' contents and their configuration: same digest, same address set."""
    digest = hashlib.sha256(repr(settings).encode())
    paths = settings.paths
    for path in paths:
        if path.is_file():
            with open(path, "rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
    return digest.hexdigest()


def is_up_to_date(session: Session, city: str, digest: str) -> bool:
    """Whether the last address load of ``city`` came from the same sources and mapping."""
    last = session.execute(
        text("SELECT digest FROM address_load WHERE city = :city ORDER BY id DESC LIMIT 1"), {"city": city}
    ).scalar()
    return last == digest


def load_addresses(
    session: Session,
    city: CityConfig,
    mapping: SourceMapping | None = None,
    report_dir: Path = DEFAULT_REPORT_DIR,
    force: bool = True,
    allow_shrink: bool = False,
) -> AddressLoadReport | None:
    """Load the address database of ``city`` from all its configured sources (or the one
    source ``mapping``), together, in one transaction.

    With ``force=False`` nothing is done (and None returned) when the sources and the
    mapping are those of the last load. A load that would leave fewer than half the
    addresses of the last one is refused unless ``allow_shrink``: a truncated or wrong
    file must not silently replace the address database.
    """
    settings = AddressSettings.single(mapping) if mapping is not None else city.addresses
    if settings is None:
        raise UserError(f"The city {city.key} configures no address source; add [addresses] to {city.path.name}.")
    digest = source_digest(settings)
    if not force and is_up_to_date(session, city.key, digest):
        return None
    batches: list[list[AddressRecord]] = []
    lists: list[tuple[AddressSource, list[AddressRecord]]] = []
    segments: list[SegmentRecord] = []
    rejected: list[RejectedRow] = []
    counts: dict[str, dict[str, Any]] = {}
    read = duplicates = 0
    # the history's placeholder points are what the city says makes one ([requests] placeholder_min_addresses)
    placeholder_min = (
        int(requests_option(city.requests, "placeholder_min_addresses", PLACEHOLDER_MIN_ADDRESSES, whole=True))
        if city.requests
        else PLACEHOLDER_MIN_ADDRESSES
    )
    for source in settings.sources:
        if source.kind == "centerlines":
            found, refused, n = segments_from(read_rows(source.mapping, coordinates=False), source)
            segments.extend(found)
            counts[source.key] = {
                "kind": source.kind,
                "rows": n,
                "segments": len(found),
                "ranged": sum(1 for g in found if g.left or g.right),
            }
        else:
            recs, refused, n, dup = records_from(
                read_rows(source.mapping, coordinates=source.kind != "list"),
                source,
                coordinates=source.kind != "list",
                placeholder_min_addresses=placeholder_min,
            )
            (lists.append((source, recs)) if source.kind == "list" else batches.append(recs))
            duplicates += dup
            counts[source.key] = {"kind": source.kind, "rows": n}
        counts[source.key].update(rejected=len(refused), agency=source.agency, rank=source.rank)
        rejected.extend(refused)
        read += n
    records, merged = merge_by_rank(batches)
    duplicates += merged
    offered = len(records) + sum(len(batch) for _, batch in lists)
    if not offered and not segments:
        reasons = Counter(r.reason for r in rejected).most_common(1)
        why = f", most for {reasons[0][0]!r} ({reasons[0][1]:,})" if reasons else ""
        raise DataFileError(
            f"No usable address in {file_names(settings.paths)} ({len(rejected):,} rows rejected{why}); "
            "check the field mapping and the where filter. The address database was not changed."
        )
    previous = session.execute(
        text("SELECT addresses FROM address_load WHERE city = :city ORDER BY id DESC LIMIT 1"), {"city": city.key}
    ).scalar()
    if previous and offered < previous / 2 and not allow_shrink:
        raise DataFileError(
            f"The new sources give {offered:,} addresses where the address database holds {previous:,}: "
            "less than half. The address database was not changed. If this is intended, load again with "
            "--allow-shrink; otherwise check the files and the field mapping."
        )
    refused = []
    try:
        load_id, count = store_addresses(
            session,
            city.key,
            records,
            sources=[str(p) for p in settings.paths],
            rows_read=read,
            rejected=len(rejected),
            digest=digest,
            segments=segments,
            lists=lists,
            home_name=city.name,
            refused=refused,
        )
        rejected.extend(refused)
        for key, found in session.execute(
            text(
                "SELECT source_key, count(*) FROM address_point WHERE city = :city AND kind <> 'intersection' "
                "GROUP BY source_key"
            ),
            {"city": city.key},
        ):
            counts.setdefault(key, {})["addresses"] = found
        for key, found in session.execute(
            text(
                "SELECT source_key, count(*) FROM address_point WHERE city = :city AND kind = 'intersection' "
                "GROUP BY source_key"
            ),
            {"city": city.key},
        ):
            counts.setdefault(key, {})["intersections"] = found
        for row in refused:
            key = next((s.key for s in settings.sources if row.source in {p.name for p in s.mapping.paths}), None)
            if key:
                counts[key]["rejected"] = counts[key].get("rejected", 0) + 1
        report_path = write_rejected_report(rejected, city.key, report_dir)
        session.execute(
            text("UPDATE address_load SET counts = CAST(:counts AS jsonb), report_path = :report WHERE id = :id"),
            {"counts": json.dumps(counts), "report": str(report_path) if report_path else None, "id": load_id},
        )
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return AddressLoadReport(city.key, load_id, read, count, duplicates, rejected, report_path, counts)
