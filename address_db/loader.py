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

import csv
import hashlib
import math
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
import pyogrio
from shapely.geometry import MultiPolygon
from sqlalchemy import text
from sqlalchemy.orm import Session

from address_db.normalize import (
    InvalidAddress, ParsedAddress, parse_address, standardize_components, standardize_zipcode,
)
from app.city import CityConfig, SourceMapping
from app.errors import DataFileError, UserError
from app.settings import PROJECT_ROOT
from boundaries.queries import areas_at, stage_current_pieces

GEO_SUFFIXES = {".geojson", ".json", ".shp", ".gpkg"}
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

    def summary(self) -> str:
        text = (f"{self.city}: {self.addresses} addresses from {self.rows_read} rows "
                f"({self.duplicates} duplicate rows merged, {len(self.rejected)} rejected)")
        if self.report_path:
            text += f"; rejected rows with reasons: {self.report_path}"
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


def read_rows(mapping: SourceMapping) -> Iterator[_SourceRow]:
    """The rows of every source of ``mapping``, with our field names as keys."""
    for path in mapping.paths:
        if not path.is_file():
            raise DataFileError(
                f"The address source {path} does not exist; check the data folder (GEO311_DATA_DIR) "
                "and the [addresses] sources in the city file."
            )
        if path.suffix.lower() in GEO_SUFFIXES:
            yield from _read_geo(path, mapping)
        else:
            yield from _read_csv(path, mapping)


def _columns(frame: pd.DataFrame, mapping: SourceMapping, path: Path) -> dict[str, str]:
    """Our field name -> the frame's column, matching column names case-insensitively."""
    by_lower = {str(c).lower(): c for c in frame.columns}
    columns = {}
    for ours, theirs in mapping.fields.items():
        column = by_lower.get(theirs.lower())
        if column is None:
            available = ", ".join(str(c) for c in frame.columns if c != "geometry")
            raise DataFileError(
                f"{path.name} has no column {theirs!r} (mapped to {ours}); its columns: {available}. "
                "Fix [addresses.fields] in the city file."
            )
        columns[ours] = column
    return columns


def _filtered(frame: pd.DataFrame, mapping: SourceMapping, path: Path) -> pd.DataFrame:
    if mapping.where is None:
        return frame
    by_lower = {str(c).lower(): c for c in frame.columns}
    column = by_lower.get(mapping.where.field.lower())
    if column is None:
        raise DataFileError(f"{path.name} has no column {mapping.where.field!r} to filter on; fix the where filter.")
    return frame[frame[column].fillna("").astype(str).isin(mapping.where.values)]


def _read_csv(path: Path, mapping: SourceMapping) -> Iterator[_SourceRow]:
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], encoding_errors="replace")
    except (pd.errors.ParserError, UnicodeError, OSError) as exc:
        raise DataFileError(f"{path.name} cannot be read as CSV ({str(exc).splitlines()[0]}); check the file.") from exc
    columns = _columns(frame, mapping, path)
    if "latitude" not in columns or "longitude" not in columns:
        raise DataFileError(f"{path.name} is a CSV: map latitude and longitude in [addresses.fields] to its columns.")
    frame = _filtered(frame, mapping, path)
    for row_number, row in zip(frame.index, frame.itertuples(index=False)):
        record = dict(zip(frame.columns, row))
        values = {ours: record[col] for ours, col in columns.items()}
        yield _SourceRow(path.name, int(row_number) + 2, values, values.get("longitude"), values.get("latitude"))


def _read_geo(path: Path, mapping: SourceMapping) -> Iterator[_SourceRow]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            frame = pyogrio.read_dataframe(path, layer=mapping.options.get("layer"))
    except Exception as exc:
        raise DataFileError(f"{path.name} cannot be read ({str(exc).splitlines()[0]}); check the file.") from exc
    if frame.crs is None:
        raise DataFileError(f"{path.name} does not say which coordinate reference system it uses; add a .prj or fix the file.")
    frame = _filtered(frame.to_crs("EPSG:4326"), mapping, path)
    columns = _columns(frame, mapping, path)
    for i, (row_number, geometry) in enumerate(zip(frame.index, frame.geometry)):
        values = {ours: frame[col].iloc[i] for ours, col in columns.items()}
        parcel = None
        lon = lat = None
        if geometry is not None and not geometry.is_empty:
            if geometry.geom_type in ("Polygon", "MultiPolygon"):
                geometry = geometry if geometry.is_valid else geometry.buffer(0)
                parcel = geometry if geometry.geom_type == "MultiPolygon" else MultiPolygon([geometry])
                point = geometry.representative_point()
            else:
                point = geometry.centroid
            lon, lat = point.x, point.y
        yield _SourceRow(path.name, int(row_number) + 1, values, lon, lat, parcel)


# -- normalizing ----------------------------------------------------------------------------

def normalize_row(values: dict[str, object]) -> ParsedAddress:
    """The standardized address of a source row: its full text, else its columns."""
    full = values.get("full_address")
    error: InvalidAddress | None = None
    if isinstance(full, str) and full.strip():
        try:
            parsed = parse_address(full)
        except InvalidAddress as exc:
            error = exc
        else:
            if parsed.zipcode is None and values.get("zipcode"):
                parsed = replace(parsed, zipcode=standardize_zipcode(values["zipcode"]))
            return parsed
    if values.get("street_name") is not None and values.get("house_number") is not None:
        return standardize_components(
            number=values.get("house_number"), predir=_str(values.get("predirectional")),
            street_name=_str(values.get("street_name")), suffix=_str(values.get("suffix")),
            postdir=_str(values.get("postdirectional")), unit=_str(values.get("unit")),
            city=_str(values.get("postal_city")), zipcode=values.get("zipcode"),
        )
    raise error or InvalidAddress("The row has neither a full address nor a house number and street name.")


def address_id_for(parsed: ParsedAddress) -> str:
    """A stable id from the standardized address: the same address keeps its id across loads."""
    return hashlib.sha1(parsed.text().encode()).hexdigest()[:16]


def _str(value: object) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return str(value)


def _coordinate(value: object, low: float, high: float) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) and low <= number <= high and number != 0 else None


def records_from(rows: Iterable[_SourceRow]) -> tuple[list[AddressRecord], list[RejectedRow], int, int]:
    """Normalize and deduplicate rows: (records, rejected rows, rows read, duplicates)."""
    records: dict[str, AddressRecord] = {}
    rejected: list[RejectedRow] = []
    read = duplicates = 0
    for row in rows:
        read += 1
        shown = str(row.values.get("full_address") or " ".join(
            str(row.values.get(k) or "") for k in ("house_number", "predirectional", "street_name", "suffix")
        )).strip()
        lon, lat = _coordinate(row.lon, -180, 180), _coordinate(row.lat, -90, 90)
        if lon is None or lat is None:
            rejected.append(RejectedRow(row.source, row.row, "no usable coordinates (missing, zero or out of range)", shown))
            continue
        try:
            parsed = normalize_row(row.values).without_unit()
        except InvalidAddress as exc:
            rejected.append(RejectedRow(row.source, row.row, str(exc), shown))
            continue
        source_id = _str(row.values.get("address_id"))
        address_id = source_id.strip() if source_id else address_id_for(parsed)
        if address_id in records:
            duplicates += 1
            continue
        records[address_id] = AddressRecord(
            address_id=address_id, parsed=parsed, lon=lon, lat=lat, source=row.source,
            parcel_number=_str(row.values.get("parcel_number")),
            parcel_wkb=row.parcel.wkb if row.parcel is not None else None,
        )
    return list(records.values()), rejected, read, duplicates


# -- storing ----------------------------------------------------------------------------------

_STAGE_COLUMNS = (
    "address_id", "kind", "house_number", "number_suffix", "predir", "street_name", "suffix", "postdir",
    "cross_predir", "cross_name", "cross_suffix", "cross_postdir", "unit_type", "unit", "postal_city", "zipcode",
    "standardized", "parcel_number", "source", "synthetic", "source_kind", "source_key", "rank", "owner_agency",
    "location_key", "source_ref", "legal_city", "postal_cities", "placed_by", "lon", "lat", "parcel_wkb",
)
_STORED = _STAGE_COLUMNS[:-3]


def _stage_row(record: AddressRecord) -> tuple[object, ...]:
    p = record.parsed
    cross = p.cross_street
    kind = "intersection" if p.kind == "intersection" else ("parcel" if record.parcel_wkb else "address")
    return (
        record.address_id, kind, p.number, p.number_suffix, p.street.predir, p.street.name, p.street.suffix,
        p.street.postdir, cross.predir if cross else None, cross.name if cross else None,
        cross.suffix if cross else None, cross.postdir if cross else None, p.unit_type, p.unit, p.city, p.zipcode,
        p.text(), record.parcel_number, record.source, record.synthetic, record.source_kind, record.source_key,
        record.rank, record.owner_agency, record.location_key, record.source_ref, record.legal_city,
        record.postal_cities, record.placed_by, record.lon, record.lat, record.parcel_wkb,
    )


def store_addresses(session: Session, city: str, records: Iterable[AddressRecord], *, sources: list[str],
                    rows_read: int, rejected: int, report_path: Path | None = None,
                    synthetic: bool = False, digest: str | None = None) -> tuple[int, int]:
    """Replace the address set of ``city`` with ``records`` (the caller commits).

    Returns (load id, number of addresses). Rows are streamed with COPY into a
    temporary table, then moved with set-based SQL.
    """
    session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": f"addresses:{city}"})
    session.execute(text(
        """
        CREATE TEMP TABLE address_stage (
            address_id text, kind text, house_number int, number_suffix text, predir text, street_name text,
            suffix text, postdir text, cross_predir text, cross_name text, cross_suffix text, cross_postdir text,
            unit_type text, unit text, postal_city text, zipcode text, standardized text, parcel_number text,
            source text, synthetic boolean, source_kind text, source_key text, rank smallint, owner_agency text,
            location_key text, source_ref text, legal_city text, postal_cities text[], placed_by text,
            lon float8, lat float8, parcel_wkb bytea
        ) ON COMMIT DROP
        """
    ))
    raw = session.connection().connection.driver_connection
    with raw.cursor() as cursor:
        with cursor.copy(f"COPY address_stage ({', '.join(_STAGE_COLUMNS)}) FROM STDIN") as copy:
            for record in records:
                copy.write_row(_stage_row(record))
    load_id = session.execute(
        text(
            """
            INSERT INTO address_load (city, sources, rows_read, addresses, rejected, report_path, synthetic, digest)
            VALUES (:city, :sources, :rows_read, (SELECT count(*) FROM address_stage), :rejected, :report,
                    :synthetic, :digest)
            RETURNING id
            """
        ),
        {"city": city, "sources": sources, "rows_read": rows_read, "rejected": rejected,
         "report": str(report_path) if report_path else None, "synthetic": synthetic, "digest": digest},
    ).scalar_one()
    session.execute(text("DELETE FROM address_point WHERE city = :city"), {"city": city})
    count = session.execute(
        text(
            f"""
            INSERT INTO address_point (city, load_id, {', '.join(_STORED)}, geom, parcel_geom)
            SELECT :city, :load_id, {', '.join(_STORED)},
                   ST_SetSRID(ST_MakePoint(lon, lat), 4326),
                   CASE WHEN parcel_wkb IS NULL THEN NULL ELSE ST_Multi(ST_GeomFromWKB(parcel_wkb, 4326)) END
            FROM address_stage
            """
        ),
        {"city": city, "load_id": load_id},
    ).rowcount
    assign_jurisdiction(session, city)
    rebuild_streets(session, city)
    return load_id, count


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
    """Recompute the distinct streets of ``city`` from its addresses and intersections."""
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
            ) streets
            GROUP BY predir, name, suffix, postdir
            """
        ),
        {"city": city},
    )


def write_rejected_report(rejected: list[RejectedRow], city: str, report_dir: Path) -> Path | None:
    """A CSV of the rejected rows with their reasons, or None when there are none."""
    if not rejected:
        return None
    report_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    path = report_dir / f"addresses-{city}-{stamp}-rejected.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["source", "row", "reason", "address"])
        for row in rejected:
            writer.writerow([row.source, row.row, row.reason, row.text])
    return path


def source_digest(mapping: SourceMapping) -> str:
    """A fingerprint of the sources' contents and the mapping: same digest, same address set."""
    digest = hashlib.sha256(repr(mapping).encode())
    for path in mapping.paths:
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


def load_addresses(session: Session, city: CityConfig, mapping: SourceMapping | None = None,
                   report_dir: Path = DEFAULT_REPORT_DIR, force: bool = True) -> AddressLoadReport | None:
    """Load the address database of ``city`` from its configured sources (or ``mapping``).

    With ``force=False`` nothing is done (and None returned) when the sources and the
    mapping are those of the last load.
    """
    mapping = mapping or city.addresses
    if mapping is None:
        raise UserError(f"The city {city.key} configures no address source; add [addresses] to {city.path.name}.")
    digest = source_digest(mapping)
    if not force and is_up_to_date(session, city.key, digest):
        return None
    records, rejected, read, duplicates = records_from(read_rows(mapping))
    if not records:
        raise DataFileError(
            f"No usable address in {', '.join(p.name for p in mapping.paths)} ({len(rejected)} rows rejected); "
            "check the field mapping and the where filter."
        )
    report_path = write_rejected_report(rejected, city.key, report_dir)
    try:
        load_id, count = store_addresses(
            session, city.key, records, sources=[str(p) for p in mapping.paths], rows_read=read,
            rejected=len(rejected), report_path=report_path, digest=digest,
        )
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return AddressLoadReport(city.key, load_id, read, count, duplicates, rejected, report_path)
