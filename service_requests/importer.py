"""Importing a city's request history from CSV, in bulk.

Rows are read through the city file's ``[requests]`` mapping (column names match
case-insensitively; datetimes are local time in the formats given), checked in pandas,
streamed with COPY into a staging table, and moved with one set-based upsert keyed on the
source's request number: importing the same file again updates instead of duplicating.
Wards, districts and jurisdiction are looked up in the same statement, from the points. Rows that cannot
be imported go to a rejected-rows report with the reason.

Many systems put requests of unknown location on one default point (city hall).
:func:`fix_placeholders` finds a coordinate shared by many requests with different
addresses, moves those requests to their address where the address database knows it,
and flags the rest so that maps and hot spots leave them out (and say how many).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from address_db.normalize import InvalidAddress, parse_address, standardize_zipcode
from boundaries.queries import areas_at, stage_current_pieces
from boundaries.rules import current_layers
from core.catalogue_file import Service
from core.city import (
    PLACEHOLDER_MIN_ADDRESSES,
    PLACEHOLDER_MIN_REQUESTS,
    CityConfig,
    SourceMapping,
    file_names,
    requests_option,
)
from core.csv_files import read_csv_chunks
from core.database import driver_connection, rows_affected
from core.errors import DataFileError, UserError
from core.settings import PROJECT_ROOT
from core.spreadsheets import write_csv
from core.states import MAX_DESCRIPTION, STATES
from core.text import normalise_newlines
from service_requests import rollups
from service_requests.catalogue_db import active_services
from service_requests.references import new_references, new_short_references
from service_requests.service_levels import due_at_many

DEFAULT_REPORT_DIR = PROJECT_ROOT / "var" / "reports"
#: An address point this close to a placeholder point (metres) is taken to be on it: no request moves there.
PLACEHOLDER_NEAR_M = 10.0
#: Imported requests at most this far (metres) outside the city, and not deeper inside a neighbour, are the city's.
SNAP_WITHIN_M = 150.0

_STAGE = (
    "source_id",
    "public_ref",
    "short_ref",
    "service_code",
    "service_name",
    "department_code",
    "status",
    "channel",
    "description",
    "address",
    "zipcode",
    "lon",
    "lat",
    "requested_at",
    "updated_at",
    "closed_at",
    "due_at",
    "due_source",
    "service_level",
)


#: The longest request number imported (the unique index on it holds at most a few kilobytes).
MAX_SOURCE_ID = 200
_TIMES = ("requested_at", "updated_at", "closed_at", "due_at")


def _epoch_microseconds(values: pd.Series) -> pd.Series:
    """UTC datetimes as integer microseconds since 1970 (missing stays missing)."""
    values = pd.to_datetime(values, utc=True)
    micros = values.dt.tz_convert(None).to_numpy(dtype="datetime64[us]").view("int64")
    return pd.Series(micros, index=values.index).astype("Int64").where(values.notna())


def _from_epoch(column: str) -> str:
    return f"(timestamptz 'epoch' + {column} * interval '1 microsecond')"


@dataclass
class ImportReport:
    city: str
    rows_read: int
    inserted: int
    updated: int
    rejected: list[tuple[str, int, str]] = field(default_factory=list)
    without_location: int = 0
    report_path: Path | None = None
    placeholders: PlaceholderReport | None = None
    due_from_source: int = 0
    due_from_catalogue: int = 0
    snapped: SnapReport | None = None

    def summary(self) -> str:
        text_ = (
            f"{self.city}: {self.rows_read} rows read, {self.inserted} requests added, {self.updated} updated, "
            f"{len(self.rejected)} rejected, {self.without_location} without a location"
        )
        if self.due_from_source:
            text_ += (
                f"; due dates: {self.due_from_source} from the city's data, "
                f"{self.due_from_catalogue} from service levels"
            )
        if self.placeholders and self.placeholders.points:
            text_ += f"; {self.placeholders.summary()}"
        if self.snapped and self.snapped.requests:
            text_ += f"; {self.snapped.summary()}"
        if self.report_path:
            text_ += f"; rejected rows with reasons: {self.report_path}"
        return text_


@dataclass
class PlaceholderReport:
    points: int = 0
    relocated: int = 0
    flagged: int = 0

    def summary(self) -> str:
        return (
            f"{self.points} placeholder point(s): {self.relocated} request(s) moved to their address, "
            f"{self.flagged} flagged and left off maps"
        )


@dataclass
class SnapReport:
    """Requests just outside the generalised city limit counted as the city's (:func:`snap_to_city`)."""

    requests: int = 0
    largest_m: float = 0.0
    within_m: float = SNAP_WITHIN_M

    def summary(self) -> str:
        return (
            f"{self.requests} request(s) up to {self.within_m:g} m outside the city limit counted as the city's "
            f"and given the nearest ward (largest distance {self.largest_m:.0f} m)"
        )


#: Rows read, checked and staged at a time: a history of ten million rows is imported in the memory of one chunk.
CHUNK_ROWS = 250_000


def history_chunks(mapping: SourceMapping, chunk_rows: int | None = CHUNK_ROWS) -> Iterator[pd.DataFrame]:
    """Every source of ``mapping``, ``chunk_rows`` at a time, with our field names (and its file and row).

    The chunks' indexes count on across the files, so a label names one row of the history.
    """
    read = 0
    for path in mapping.paths:
        if not path.is_file():
            raise DataFileError(
                f"The request history file {path} does not exist; check GEO311_DATA_DIR and [requests]."
            )
        chunks = read_csv_chunks(
            path, mapping.options.get("encoding"), chunk_rows, rows_required=len(mapping.paths) == 1
        )
        for frame in chunks:
            by_lower = {str(c).lower(): c for c in frame.columns}
            columns = {}
            for ours, theirs in mapping.fields.items():
                if theirs.lower() not in by_lower:
                    raise DataFileError(
                        f"{path.name} has no column {theirs!r} (mapped to {ours}); fix [requests.fields]."
                    )
                columns[ours] = by_lower[theirs.lower()]
            part = pd.DataFrame({ours: frame[col] for ours, col in columns.items()})
            part["_file"] = path.name
            part["_row"] = frame.index.to_numpy() + 2  # header is row 1
            part.index = pd.RangeIndex(read, read + len(part))
            read += len(part)
            yield part
    if not read:
        raise DataFileError(
            f"{file_names(mapping.paths)} hold a header but no rows: export them again with their "
            "rows, or fix [requests] sources."
        )


def read_history(mapping: SourceMapping) -> pd.DataFrame:
    """Every source of ``mapping`` as one frame with our field names (and its file and row)."""
    return pd.concat(list(history_chunks(mapping, None)))


def datetime_formats(mapping: SourceMapping) -> list[str]:
    """The history's datetime formats ([requests] datetime_formats), ISO without a zone by default."""
    return list(mapping.options.get("datetime_formats", ["%Y-%m-%d %H:%M:%S"]))


#: The dates a history may hold: those of pandas' nanosecond timestamps (1677-09-21 to 2262-04-11), a day inside.
EARLIEST_DATE = pd.Timestamp.min.ceil("D") + pd.Timedelta(days=1)
LATEST_DATE = pd.Timestamp.max.floor("D") - pd.Timedelta(days=1)


class DateOutOfRange(DataFileError):
    """A readable date the import cannot hold (before 1677 or after 2262); ``index`` is its row's label."""

    def __init__(self, index: object, value: str, where: str = "A date") -> None:
        self.index, self.value = index, value
        super().__init__(
            f"{where}: the date {value!r} is outside what the import can hold ({EARLIEST_DATE:%Y-%m-%d} "
            f"to {LATEST_DATE:%Y-%m-%d}); correct it, or empty the cell, and import again."
        )


def local_datetimes(values: pd.Series, formats: list[str], tz: str) -> pd.Series:
    """Local datetimes in any of ``formats`` as UTC; unparseable ones become NaT.

    Raises :class:`DateOutOfRange` for the first readable date before 1677 or after 2262.
    """
    parsed = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    for fmt in formats:
        missing = parsed.isna() & values.notna()
        if not missing.any():
            break
        found = pd.to_datetime(values[missing], format=fmt, errors="coerce")
        outside = found.notna() & ((found < EARLIEST_DATE) | (found > LATEST_DATE))
        if outside.any():
            index = outside.idxmax()
            raise DateOutOfRange(index, str(values[index]))
        parsed.loc[missing] = found.astype("datetime64[ns]")
    # The hour repeated when clocks fall back is read as its first occurrence (daylight time);
    # a time skipped when they spring forward is read with the offset before the change
    # (02:30 -> 03:30 daylight time), as Python's zoneinfo reads it at intake.
    first_occurrence = np.ones(len(parsed), dtype=bool)
    return parsed.dt.tz_localize(tz, ambiguous=first_occurrence, nonexistent=pd.Timedelta(hours=1)).dt.tz_convert("UTC")


def coordinates(
    raw: pd.Series, name: str, limit: float, reject: Callable[[pd.Series, str | pd.Series], None]
) -> pd.Series:
    """The numbers of one coordinate column (missing where empty); a value that is not a number,
    or outside -``limit`` to ``limit``, is rejected with its reason, never changed."""
    given = raw.notna() & (raw.str.strip() != "")
    numbers = pd.to_numeric(raw.where(given), errors="coerce")
    typed = f"{name} " + raw.str.strip().str.slice(0, 40)
    reject(given & numbers.isna(), typed + " is not a number of decimal degrees")
    reject(
        numbers.notna() & ~numbers.between(-limit, limit),
        typed + f" is outside -{limit:g} to {limit:g} (WGS 84 decimal degrees)",
    )
    return numbers.where(numbers.between(-limit, limit))


def prepare_rows(frame: pd.DataFrame, city: CityConfig, services: dict[str, Service]) -> tuple[pd.DataFrame, list]:
    """The rows ready to stage, and the rejected ones as (file, row, reason).

    A request number that appears again later in the history is found once every chunk is
    staged (:func:`drop_earlier_duplicates`).
    """
    mapping = city.requests
    assert mapping is not None
    formats = datetime_formats(mapping)
    status_map = dict(mapping.options.get("status_map", {}))
    channel_map = dict(mapping.options.get("channel_map", {}))
    if city.channels.own:  # a city listing its channels may also give their codes or names as they are
        channel_map = {
            **{c.name: c.code for c in city.channels.channels.values()},
            **{code: code for code in city.channels.codes},
            **channel_map,
        }
    by_source_name = {(s.source_name or s.name): s for s in services.values()}

    reasons = pd.Series("", index=frame.index, dtype=object)

    def reject(mask: pd.Series, reason: str | pd.Series) -> None:  # a Series: each row's own reason
        chosen = mask & (reasons == "")
        reasons[chosen] = reason[chosen] if isinstance(reason, pd.Series) else reason

    def dates(column: str, values: pd.Series | None = None) -> pd.Series:
        try:
            return local_datetimes(frame[column] if values is None else values, formats, city.timezone)
        except DateOutOfRange as exc:
            where = f"{frame.at[exc.index, '_file']} row {frame.at[exc.index, '_row']}, column {mapping.fields[column]}"
            raise DateOutOfRange(exc.index, exc.value, where) from None

    frame = frame.copy()
    frame["source_id"] = frame["source_id"].str.strip()
    reject(frame["source_id"].isna() | (frame["source_id"] == ""), "no request number")
    reject(
        frame["source_id"].str.len().fillna(0) > MAX_SOURCE_ID,
        f"a request number longer than {MAX_SOURCE_ID} characters",
    )
    frame["requested_at"] = dates("requested_at")
    reject(frame["requested_at"].isna(), "no readable creation date")
    for column in ("updated_at", "closed_at"):
        frame[column] = (
            dates(column) if column in frame else pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns, UTC]")
        )

    service = frame["service_name"].map(lambda name: by_source_name.get(name))
    reject(service.isna(), "a service that is not in the catalogue")
    frame["service_code"] = service.map(lambda s: s.code if s else None)
    frame["service_name"] = service.map(lambda s: s.name if s else None)
    frame["service_level"] = service.map(lambda s: s.service_level.describe() if s else None)
    hours = service.map(lambda s: s.service_level.hours if s else None)
    days = service.map(lambda s: s.service_level.business_days if s else None)
    catalogue_due = due_at_many(frame["requested_at"], hours.fillna(0), days, city.tz)
    if "due_at" in frame:  # the date the city set itself, where it gave one; the service level elsewhere
        given = frame["due_at"].notna() & (frame["due_at"].astype("string").str.strip() != "")
        source_due = dates("due_at", frame["due_at"].where(given))
        reject(given & source_due.isna(), "a due date that cannot be read (see datetime_formats)")
        reject(source_due < frame["requested_at"], "a due date before the request was made")
        frame["due_at"] = source_due.where(source_due.notna(), catalogue_due)
        frame["due_source"] = np.where(source_due.notna(), "source", "catalogue")
    else:
        frame["due_at"] = catalogue_due
        frame["due_source"] = "catalogue"
    frame.loc[frame["due_at"].isna(), "due_source"] = None

    frame["status"] = frame["status"].map(status_map)
    reject(~frame["status"].isin(STATES), "a status the city file does not map ([requests.status_map])")
    frame["channel"] = frame["channel"].map(channel_map)
    reject(frame["channel"].isna(), "a channel the city file does not map ([requests.channel_map])")
    reject(~frame["channel"].isin(city.channels.codes), "a channel that is not one of the city's channels ([channels])")
    closed = frame["status"].isin(["fixed", "duplicate", "not_our_responsibility", "referred_out", "cancelled"])
    frame.loc[closed & frame["closed_at"].isna(), "closed_at"] = frame["updated_at"]
    frame.loc[~closed, "closed_at"] = pd.NaT
    frame["updated_at"] = frame["updated_at"].fillna(frame["requested_at"])

    def optional(column: str) -> pd.Series:  # a field the mapping may leave out
        return (
            frame[column].astype("string") if column in frame else pd.Series(pd.NA, index=frame.index, dtype="string")
        )

    lon = coordinates(optional("longitude"), "longitude", 180, reject)
    lat = coordinates(optional("latitude"), "latitude", 90, reject)
    usable = lon.notna() & lat.notna() & (lon != 0) & (lat != 0)  # 0 is how many systems write "no location"
    frame["lon"], frame["lat"] = lon.where(usable), lat.where(usable)
    frame["department_code"] = optional("department").str.strip()
    reject(frame["department_code"].str.len().fillna(0) > 32, "a department code longer than 32 characters")
    frame["description"] = optional("description").fillna("").map(normalise_newlines).str.slice(0, MAX_DESCRIPTION)
    frame["address"] = optional("address").str.slice(0, 500)
    zipcodes = optional("zipcode")
    frame["zipcode"] = zipcodes.map({z: standardize_zipcode(z) for z in zipcodes.dropna().unique()})

    bad = reasons != ""
    rejected = [(f, int(r), why) for f, r, why in zip(frame.loc[bad, "_file"], frame.loc[bad, "_row"], reasons[bad])]
    good = frame.loc[~bad].copy()
    good["public_ref"] = new_references(len(good))
    good["short_ref"] = new_short_references(len(good))
    return good, rejected


def create_stage(session: Session) -> None:
    """The staging table of an import (dropped at commit): every checked row, in the order of the files."""
    session.execute(
        text("DROP TABLE IF EXISTS request_stage, request_stage_areas")
    )  # a second import in one transaction
    session.execute(
        text(
            """
        CREATE TEMP TABLE request_stage (
            seq bigint, file_name text, file_row integer,
            source_id text, public_ref text, short_ref text, service_code text, service_name text, department_code text, status text,
            channel text, description text, address text, zipcode text, lon float8, lat float8,
            requested_at bigint, updated_at bigint, closed_at bigint, due_at bigint, due_source text,
            service_level text
        ) ON COMMIT DROP
        """
        )
    )


def copy_to_stage(session: Session, rows: pd.DataFrame) -> None:
    """COPY checked ``rows`` (one chunk, from :func:`prepare_rows`) into the staging table."""
    staged = rows[list(_STAGE)].copy()
    staged.insert(0, "file_row", rows["_row"])
    staged.insert(0, "file_name", rows["_file"])
    staged.insert(0, "seq", rows.index)
    for column in ("description", "address", "department_code"):
        staged[column] = staged[column].str.replace("\x00", "", regex=False)
    for column in _TIMES:  # epoch microseconds: formatting datetimes as text costs more than the COPY
        staged[column] = _epoch_microseconds(staged[column])
    buffer = io.StringIO()
    staged.to_csv(buffer, index=False, header=False, lineterminator="\r\n")  # a bare CR in a value is quoted
    raw = driver_connection(session)
    with raw.cursor() as cursor:
        with cursor.copy(
            f"COPY request_stage (seq, file_name, file_row, {', '.join(_STAGE)}) FROM STDIN WITH (FORMAT csv)"
        ) as copy:
            copy.write(buffer.getvalue())


#: Why a staged row was not imported: its request number comes again later.
REPEATED = "the same request number appears again later in the files (the later row is imported)"


def drop_earlier_duplicates(session: Session) -> list[tuple[str, int, str]]:
    """Remove the staged rows whose request number a later staged row has; return them as rejected rows."""
    dropped = session.execute(
        text(
            """
        WITH repeated AS (
            SELECT source_id, max(seq) AS last FROM request_stage GROUP BY source_id HAVING count(*) > 1
        )
        DELETE FROM request_stage s USING repeated r
        WHERE s.source_id = r.source_id AND s.seq < r.last
        RETURNING s.file_name, s.file_row
        """
        )
    ).all()
    return [(name, int(row), REPEATED) for name, row in dropped]


@dataclass(frozen=True)
class StagedRows:
    """What the staged rows hold, counted in the database."""

    rows: int
    without_location: int
    due_from_source: int
    due_from_catalogue: int
    one_point: tuple[float, float] | None  # (lon, lat) when every located row is at it


def staged_rows(session: Session) -> StagedRows:
    """Counts of the staging table (after :func:`drop_earlier_duplicates`), in one pass."""
    row = (
        session.execute(
            text(
                """
        SELECT count(*) AS rows, count(*) FILTER (WHERE lon IS NULL) AS without_location,
               count(*) FILTER (WHERE due_source = 'source') AS due_from_source,
               count(*) FILTER (WHERE due_source = 'catalogue') AS due_from_catalogue,
               min(lon) AS lon, max(lon) AS lon_max, min(lat) AS lat, max(lat) AS lat_max
        FROM request_stage
        """
            )
        )
        .mappings()
        .one()
    )
    one_point = (
        (float(row["lon"]), float(row["lat"]))
        if row["lon"] is not None and row["lon"] == row["lon_max"] and row["lat"] == row["lat_max"]
        else None
    )
    return StagedRows(
        int(row["rows"]),
        int(row["without_location"]),
        int(row["due_from_source"]),
        int(row["due_from_catalogue"]),
        one_point,
    )


def upsert_stage(session: Session, city: str, staged: int) -> tuple[int, int]:
    """Upsert the ``staged`` rows with their areas; returns (inserted, updated).

    Each staged point is looked up once (a lateral GiST probe over the current boundary
    pieces) as the rows are inserted, so the big table is written once.
    """
    session.execute(text("ANALYZE request_stage"))
    _stage_point_areas(session, city)
    _redraw_taken_short_refs(session, city)
    with _secondary_indexes_rebuilt(session, city, staged):
        return _upsert_staged(session, city)


def _stage_point_areas(session: Session, city: str) -> None:
    """Look up the areas of each distinct staged point once (requests repeat at the same addresses)."""
    stage_current_pieces(session, city)
    session.execute(
        text(
            f"""
        CREATE TEMP TABLE request_stage_areas ON COMMIT DROP AS
        SELECT p.lon, p.lat, a.inside, a.agency, a.ward, a.district
        FROM (SELECT DISTINCT lon, lat FROM request_stage WHERE lon IS NOT NULL) p
        CROSS JOIN LATERAL ({areas_at("ST_SetSRID(ST_MakePoint(p.lon, p.lat), 4326)")}) a
        """
        )
    )
    session.execute(text("ANALYZE request_stage_areas"))


#: A re-imported row whose source point moved (and that was not relocated off a placeholder here).
_SOURCE_MOVED = (
    "(service_request.location_quality <> 'relocated' AND EXCLUDED.geom IS DISTINCT FROM service_request.geom)"
)
#: The columns of a request's location, and what a moved source point sets them to.
_LOCATION_COLUMNS = (
    ("geom", "EXCLUDED.geom"),
    ("location_quality", "EXCLUDED.location_quality"),
    ("in_jurisdiction", "EXCLUDED.in_jurisdiction"),
    ("agency_key", "EXCLUDED.agency_key"),
    ("ward_key", "EXCLUDED.ward_key"),
    ("district_key", "EXCLUDED.district_key"),
    ("address_id", "NULL"),
)


#: Staged rows whose short reference the city holds already (its unique index answers) or an earlier
#: staged row has (numbered within each reference: a sort, where comparing the rows pairwise took
#: minutes at 50,000 rows).
_SHORT_REF_TAKEN = """
    SELECT s.ctid FROM (
        SELECT ctid, short_ref, row_number() OVER (PARTITION BY short_ref ORDER BY ctid) AS nth FROM request_stage
    ) s
    WHERE s.nth > 1
       OR EXISTS (SELECT 1 FROM service_request r WHERE r.city = :city AND r.short_ref = s.short_ref)
"""


def _redraw_taken_short_refs(session: Session, city: str) -> None:
    """Give a new short reference to each staged row whose one is taken (by the city or an earlier staged row).

    Rows already imported keep theirs (the upsert does not touch it), so a clash there costs nothing.
    """
    while True:
        taken = session.execute(text(_SHORT_REF_TAKEN), {"city": city}).scalars().all()
        if not taken:
            return
        for ctid, short_ref in zip(taken, new_short_references(len(taken)), strict=True):
            session.execute(
                text("UPDATE request_stage SET short_ref = :short_ref WHERE ctid = CAST(:ctid AS tid)"),
                {"short_ref": short_ref, "ctid": str(ctid)},
            )


def _upsert_staged(session: Session, city: str) -> tuple[int, int]:
    counts = session.execute(
        text(
            f"""
        WITH upserted AS (
            INSERT INTO service_request (
                city, source_id, public_ref, short_ref, service_code, service_name, department_code, status,
                channel, response_method, description, attributes, address, zipcode, location_quality, geom,
                in_jurisdiction, agency_key, ward_key, district_key,
                requested_at, updated_at, closed_at, due_at, due_source, service_level, source)
            SELECT :city, s.source_id, s.public_ref, s.short_ref, s.service_code, s.service_name,
                   s.department_code, s.status, s.channel, 'none', coalesce(s.description, ''), '{{}}'::jsonb, s.address, s.zipcode,
                   CASE WHEN s.lon IS NULL THEN 'none' ELSE 'source' END,
                   CASE WHEN s.lon IS NULL THEN NULL ELSE ST_SetSRID(ST_MakePoint(s.lon, s.lat), 4326) END,
                   CASE WHEN s.lon IS NULL THEN NULL ELSE coalesce(a.inside, false) END,
                   CASE WHEN coalesce(a.inside, false) THEN NULL ELSE a.agency END, a.ward, a.district,
                   {_from_epoch("s.requested_at")}, {_from_epoch("s.updated_at")}, {_from_epoch("s.closed_at")},
                   {_from_epoch("s.due_at")}, s.due_source, s.service_level, 'import'
            FROM request_stage s
            LEFT JOIN request_stage_areas a ON a.lon = s.lon AND a.lat = s.lat
            -- a re-import brings the source's state up to date; routing done here (reassignments) stays
            ON CONFLICT (city, source_id) WHERE source_id IS NOT NULL DO UPDATE SET
                status = EXCLUDED.status, updated_at = EXCLUDED.updated_at, closed_at = EXCLUDED.closed_at,
                description = EXCLUDED.description,
                -- the city's own due date is the source's state too; a computed one stays as first promised
                due_at = CASE WHEN EXCLUDED.due_source = 'source' THEN EXCLUDED.due_at ELSE service_request.due_at END,
                due_source = CASE WHEN EXCLUDED.due_source = 'source' THEN 'source'
                                  ELSE service_request.due_source END,
                -- a location the source corrected is taken with its areas; a request moved off a
                -- placeholder here keeps its address point (fix_placeholders runs again after this)
                {
                ", ".join(
                    f"{column} = CASE WHEN {_SOURCE_MOVED} THEN {value} ELSE service_request.{column} END"
                    for column, value in _LOCATION_COLUMNS
                )
            }
            RETURNING id, (xmax = 0) AS inserted
        ), events AS (
            INSERT INTO request_event (request_id, actor, kind, to_status, note, public, data)
            SELECT id, 'import', 'imported', NULL, 'Imported from the request history.', false, '{{}}'::jsonb
            FROM upserted WHERE inserted
        )
        SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM upserted
        """
        ),
        {"city": city},
    ).one()
    return int(counts[0]), int(counts[1])


#: A bulk import at least this large that at least doubles the table rebuilds its secondary indexes.
BULK_REBUILD_MIN_ROWS = 50_000
_REBUILT_TABLES = ("service_request", "request_event")


#: The statement triggers marking the rollup's changed days as rows are written (migration 0026).
_ROLLUP_TRIGGERS = ("request_rollup_inserted", "request_rollup_updated")


@contextmanager
def _secondary_indexes_rebuilt(session: Session, city: str, incoming: int) -> Iterator[bool]:
    """Drop the non-unique indexes for a large bulk load and build them again afterwards.

    Building an index once over sorted data is many times faster than a million single
    inserts into it (above all the GiST index of the points). The drop and the rebuild
    are part of the import's transaction, so a failed import leaves the indexes as they
    were; while it runs the table is locked, which is why only a load that at least
    doubles the table does this (a first history load, not a monthly update).
    """
    existing = session.execute(text("SELECT count(*) FROM service_request")).scalar_one()
    if incoming < BULK_REBUILD_MIN_ROWS or incoming < existing:
        yield False
        return
    definitions = session.execute(
        text(
            """
        SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
        FROM pg_index i
        WHERE i.indrelid = ANY(CAST(:tables AS regclass[])) AND NOT i.indisunique AND NOT i.indisprimary
        """
        ),
        {"tables": list(_REBUILT_TABLES)},
    ).all()
    for name, _ in definitions:
        session.execute(text(f"DROP INDEX {name}"))  # regclass text: already quoted where needed
    # Nor are the changed days marked one statement at a time: the city's rollup is dropped,
    # and counted again after the import (tidy_after_import), all at once.
    session.execute(text("DELETE FROM request_rollup_state WHERE city = :city"), {"city": city})
    for trigger in _ROLLUP_TRIGGERS:
        session.execute(text(f"ALTER TABLE service_request DISABLE TRIGGER {trigger}"))
    yield True
    for trigger in _ROLLUP_TRIGGERS:
        session.execute(text(f"ALTER TABLE service_request ENABLE TRIGGER {trigger}"))
    if session.execute(
        text("SELECT pg_size_bytes(current_setting('maintenance_work_mem')) < 256 * 1024 * 1024")
    ).scalar():
        session.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))  # raise a small default, never lower
    for _, definition in definitions:
        session.execute(text(definition))


def assign_areas(session: Session, city: str, only_stale: bool = False, snap_within_m: float | None = None) -> int:
    """Set jurisdiction, agency, ward and district of requests from their points (set-based).

    Run for the requests not assigned yet (``only_stale``, after relocating placeholders)
    and, for all requests, after boundaries change: areas are never frozen at creation.
    With ``snap_within_m``, imported requests just outside the city limit are then
    counted as the city's again (:func:`snap_to_city`).
    """
    stale = "AND t.in_jurisdiction IS NULL" if only_stale else ""
    stage_current_pieces(session, city)
    result = session.execute(
        text(
            f"""
        UPDATE service_request r SET
            in_jurisdiction = coalesce(a.inside, false),
            agency_key = CASE WHEN coalesce(a.inside, false) THEN NULL ELSE a.agency END,
            ward_key = a.ward, district_key = a.district
        FROM service_request t CROSS JOIN LATERAL ({areas_at("t.geom")}) a
        WHERE r.id = t.id AND t.city = :city AND t.geom IS NOT NULL {stale}
        """
        ),
        {"city": city},
    )
    session.execute(
        text(
            "UPDATE service_request SET in_jurisdiction = NULL, agency_key = NULL, ward_key = NULL, district_key = NULL "
            "WHERE city = :city AND geom IS NULL AND (ward_key IS NOT NULL OR district_key IS NOT NULL "
            "OR agency_key IS NOT NULL OR in_jurisdiction IS NOT NULL)"
        ),
        {"city": city},
    )
    if snap_within_m:
        snap_to_city(session, city, snap_within_m, stage=False)
    return rows_affected(result)


def snap_to_city(session: Session, city: str, within_m: float = SNAP_WITHIN_M, stage: bool = True) -> SnapReport:
    """Count imported requests at most ``within_m`` metres outside the city limit as the city's.

    Ward polygons are often generalised, and the city limit is their union: a city's own
    request on a street at its edge can fall a few metres outside it, or inside the
    neighbour's polygon. Such a request (from the history import, not a placeholder, not
    more than ``within_m`` inside any agency's area) becomes in the jurisdiction and takes
    the nearest ward and district where its point is in none. Intake keeps the strict
    test. ``stage``: build the current pieces table first (:func:`assign_areas` has).
    """
    report = SnapReport(within_m=within_m)
    if within_m <= 0:
        return report
    if stage:
        stage_current_pieces(session, city)
    # A bounding box of within_m in degrees, wide enough for longitudes up to 60 degrees from the equator.
    params = {"city": city, "m": within_m, "deg": within_m / 111_320 * 2.0}
    nearest = """(SELECT c.key FROM current_pieces c
                  WHERE c.role = '{role}' AND c.geom && ST_Expand(s.geom, :deg)
                    AND ST_DWithin(c.geom::geography, s.geom::geography, :m)
                  ORDER BY ST_Distance(c.geom::geography, s.geom::geography), c.key LIMIT 1)"""
    row = session.execute(
        text(
            f"""
        WITH candidates AS (
            SELECT r.id, r.geom, r.ward_key, r.district_key,
                   (SELECT min(ST_Distance(c.geom::geography, r.geom::geography)) FROM current_pieces c
                    WHERE c.role = 'jurisdiction' AND c.geom && ST_Expand(r.geom, :deg)) AS distance
            FROM service_request r
            WHERE r.city = :city AND r.source = 'import' AND r.geom IS NOT NULL AND r.in_jurisdiction = false
              AND r.location_quality <> 'placeholder'
        ), snapped AS (
            SELECT s.id, s.distance,
                   coalesce(s.ward_key, {nearest.format(role="wards")}) AS ward,
                   coalesce(s.district_key, {nearest.format(role="districts")}) AS district
            FROM candidates s
            WHERE s.distance <= :m
              AND NOT EXISTS (  -- deeper than within_m inside a neighbour: the neighbour's
                  SELECT 1 FROM boundary_feature f
                  JOIN boundary_layer_version v ON v.id = f.version_id
                  WHERE {current_layers("v", ("agencies",))} AND ST_Intersects(f.geom, s.geom)
                    AND NOT ST_DWithin(ST_Boundary(f.geom)::geography, s.geom::geography, :m))
        ), updated AS (
            UPDATE service_request r SET in_jurisdiction = true, agency_key = NULL,
                   ward_key = n.ward, district_key = n.district
            FROM snapped n WHERE r.id = n.id
            RETURNING n.distance
        )
        SELECT count(*), coalesce(max(distance), 0) FROM updated
        """
        ),
        params,
    ).one()
    report.requests, report.largest_m = int(row[0]), float(row[1])
    return report


def fix_placeholders(
    session: Session,
    city: str,
    min_requests: int = PLACEHOLDER_MIN_REQUESTS,
    min_addresses: int = PLACEHOLDER_MIN_ADDRESSES,
    near_m: float = PLACEHOLDER_NEAR_M,
) -> PlaceholderReport:
    """Find placeholder points; move their requests to their address where known, flag the rest.

    A placeholder point is one shared by at least ``min_requests`` requests with at least
    ``min_addresses`` different addresses (any number of such points). A request moves
    only to an address point that is not itself within ``near_m`` metres of a placeholder
    point: an address database built from the same history holds addresses seen only on
    placeholder rows, at the placeholder, and moving a request there would move it nowhere.
    """
    session.execute(text("DROP TABLE IF EXISTS placeholder_point, placeholder_fix"))
    session.execute(
        text(
            """
        CREATE TEMP TABLE placeholder_point ON COMMIT DROP AS
        SELECT geom FROM service_request
        WHERE city = :city AND geom IS NOT NULL AND location_quality IN ('source', 'placeholder')
        GROUP BY geom HAVING count(*) >= :n AND count(DISTINCT address) >= :a
        """
        ),
        {"city": city, "n": min_requests, "a": min_addresses},
    )
    report = PlaceholderReport(points=session.execute(text("SELECT count(*) FROM placeholder_point")).scalar_one())
    if not report.points:
        return report
    on_placeholder = "r.geom && p.geom AND r.geom = p.geom"
    rows = session.execute(
        text(
            f"SELECT r.id, r.address, r.zipcode FROM service_request r JOIN placeholder_point p ON {on_placeholder} "
            "WHERE r.city = :city"
        ),
        {"city": city},
    ).all()
    standardized = {}
    for request_id, address, zipcode in rows:
        try:
            parsed = parse_address(address or "")
        except InvalidAddress:
            continue
        if not parsed.zipcode and zipcode:  # the ZIP code in a column of its own, as the address database has it
            parsed = replace(parsed, zipcode=zipcode)
        standardized[request_id] = parsed.text()
    session.execute(text("CREATE TEMP TABLE placeholder_fix (id bigint, standardized text) ON COMMIT DROP"))
    if standardized:
        session.execute(
            text("INSERT INTO placeholder_fix VALUES (:id, :s)"), [{"id": k, "s": v} for k, v in standardized.items()]
        )
    moved = rows_affected(
        session.execute(
            text(
                """
        UPDATE service_request r SET geom = a.geom, location_quality = 'relocated', address_id = a.address_id,
               in_jurisdiction = NULL
        FROM placeholder_fix f
        JOIN LATERAL (
            SELECT a.geom, a.address_id FROM address_point a
            WHERE a.city = :city AND a.standardized = f.standardized
              AND NOT EXISTS (SELECT 1 FROM placeholder_point p
                              WHERE ST_DWithin(p.geom::geography, a.geom::geography, :near))
            ORDER BY a.id LIMIT 1
        ) a ON true
        WHERE r.id = f.id
        """
            ),
            {"city": city, "near": near_m},
        )
    )
    flagged = rows_affected(
        session.execute(
            text(
                f"UPDATE service_request r SET location_quality = 'placeholder' FROM placeholder_point p "
                f"WHERE r.city = :city AND {on_placeholder} AND r.location_quality <> 'relocated'"
            ),
            {"city": city},
        )
    )
    report.relocated, report.flagged = moved, flagged
    if moved:
        assign_areas(session, city, only_stale=True)
    return report


def refuse_one_point_history(
    session: Session, city: str, staged: StagedRows, mapping: SourceMapping, min_requests: int
) -> None:
    """Refuse a history whose every located request would be at one point: its coordinates are not locations.

    Placeholder detection would flag them all and leave the maps empty without a word;
    the mapping (or the export) is wrong, and the person loading it must hear so. A file
    of requests at one point added to a history located elsewhere is not refused: its
    rows are placeholders among real locations, and are flagged as such.
    """
    located = staged.rows - staged.without_location
    if located < max(2, min_requests) or staged.one_point is None:
        return
    lon, lat = staged.one_point
    elsewhere = session.execute(
        text(
            "SELECT EXISTS (SELECT 1 FROM service_request r WHERE r.city = :city AND r.geom IS NOT NULL "
            "AND NOT ST_DWithin(r.geom::geography, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography, 1) "
            "AND NOT EXISTS (SELECT 1 FROM request_stage s WHERE s.source_id = r.source_id))"
        ),
        {"city": city, "lon": lon, "lat": lat},
    ).scalar()
    if elsewhere:
        return
    fields = dict(mapping.fields)
    raise UserError(
        f"Every one of the {located:,} located rows of {file_names(mapping.paths)} is at the same point "
        f"(latitude {lat:.5f}, longitude {lon:.5f}), so the columns mapped as latitude ({fields.get('latitude')!r}) and longitude "
        f"({fields.get('longitude')!r}) in [requests.fields] do not hold the requests' locations. Map the columns "
        "that do, or remove latitude and longitude from [requests.fields] to import the requests without points. "
        "Nothing was imported."
    )


def import_history(
    session: Session,
    city: CityConfig,
    mapping: SourceMapping | None = None,
    report_dir: Path = DEFAULT_REPORT_DIR,
    chunk_rows: int = CHUNK_ROWS,
) -> ImportReport:
    """Import the request history of ``city`` (its configured sources, or ``mapping``); commits once.

    The files are read, checked and staged ``chunk_rows`` rows at a time (the memory of one
    chunk, whatever the history's length); the upsert of everything staged is one statement.

    After the upsert, placeholder points are fixed (:func:`fix_placeholders`, thresholds
    ``placeholder_min_requests`` and ``placeholder_min_addresses`` of ``[requests]``) and
    requests just outside the city limit are counted as the city's (:func:`snap_to_city`,
    ``snap_within_m``).
    """
    mapping = mapping or city.requests
    if mapping is None:
        raise UserError(f"The city {city.key} configures no request history; add [requests] to {city.path.name}.")
    if mapping is not city.requests:
        city = replace(city, requests=mapping)
    min_requests = int(requests_option(mapping, "placeholder_min_requests", PLACEHOLDER_MIN_REQUESTS, whole=True))
    min_addresses = int(requests_option(mapping, "placeholder_min_addresses", PLACEHOLDER_MIN_ADDRESSES, whole=True))
    snap_within_m = requests_option(mapping, "snap_within_m", SNAP_WITHIN_M)
    services = {s.code: s for s in active_services(session, city.key)}
    if not services:
        raise UserError("The service catalogue is empty: run `flask services sync` first.")
    report = ImportReport(city.key, 0, 0, 0)
    try:
        create_stage(session)
        for chunk in history_chunks(mapping, chunk_rows):
            rows, rejected = prepare_rows(chunk, city, services)
            report.rows_read += len(chunk)
            report.rejected += rejected
            copy_to_stage(session, rows)
        report.rejected += drop_earlier_duplicates(session)
        file_order = {path.name: i for i, path in enumerate(mapping.paths)}
        report.rejected.sort(key=lambda rejected: (file_order.get(rejected[0], 0), rejected[1]))
        staged = staged_rows(session)
        refuse_one_point_history(session, city.key, staged, mapping, min_requests)
        report.without_location = staged.without_location
        report.due_from_source, report.due_from_catalogue = staged.due_from_source, staged.due_from_catalogue
        report.inserted, report.updated = upsert_stage(session, city.key, staged.rows)
        report.placeholders = fix_placeholders(session, city.key, min_requests, min_addresses)
        report.snapped = snap_to_city(session, city.key, snap_within_m, stage=False)  # staged by the upsert
        session.commit()
    except BaseException:
        session.rollback()
        raise
    report.report_path = _write_rejected(report.rejected, city.key, report_dir)
    return report


#: An import writing at least this many rows tidies the table afterwards (:func:`tidy_after_import`).
TIDY_AFTER_ROWS = 10_000


def tidy_after_import(
    engine: Engine, report: ImportReport, min_rows: int = TIDY_AFTER_ROWS, city: CityConfig | None = None
) -> bool:
    """After a large import (committed), ``VACUUM (ANALYZE)`` the request table and count the
    request rollup of ``city`` again (:mod:`service_requests.rollups`); True when it ran.

    Reports and maps read the rows through index-only scans, which must read the table
    itself for every page not yet marked all-visible; a vacuum marks them at once instead
    of whenever autovacuum comes by. It cannot run inside the import's transaction.
    """
    if report.inserted + report.updated < min_rows:
        return False
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM (ANALYZE) service_request"))
    if city is not None:
        with Session(engine) as session:
            rollups.refresh(session, city)
            session.commit()
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM (ANALYZE) request_rollup"))
    return True


def _write_rejected(rejected: list[tuple[str, int, str]], city: str, report_dir: Path) -> Path | None:
    if not rejected:
        return None
    report_dir.mkdir(parents=True, exist_ok=True)
    path = report_dir / f"requests-{city}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}-rejected.csv"
    return write_csv(path, ["source", "row", "reason"], rejected)


__all__ = [
    "ImportReport",
    "PlaceholderReport",
    "SnapReport",
    "assign_areas",
    "fix_placeholders",
    "import_history",
    "snap_to_city",
]
