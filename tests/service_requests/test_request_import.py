"""Importing request history: the real LA files, bad rows, idempotence, placeholders, areas."""

from __future__ import annotations

import csv
import dataclasses
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from core.errors import DataFileError
from service_requests.importer import assign_areas, import_history


def count(session, where: str = "true") -> int:
    return session.execute(text(f"SELECT count(*) FROM service_request WHERE city = 'la' AND {where}")).scalar()


def test_the_los_angeles_history(session):
    assert count(session, "source = 'import'") == 19_999
    assert count(session, "status = 'fixed'") == 19_462
    assert count(session, "status = 'cancelled'") == 490
    assert count(session, "geom IS NULL") == 1_764
    assert count(session, "in_jurisdiction") > 18_000
    assert count(session, "in_jurisdiction AND ward_key IS NOT NULL") >= count(session, "in_jurisdiction") - 5
    row = session.execute(
        text(
            "SELECT requested_at, service_code, department_code, channel, address, ward_key FROM service_request "
            "WHERE city = 'la' AND source_id = '1-870704831'"
        )
    ).one()
    # 12/31/2017 11:59:58 PM, Los Angeles time
    assert row.requested_at == datetime(2018, 1, 1, 7, 59, 58, tzinfo=UTC)
    assert (row.service_code, row.department_code, row.channel) == ("homeless-encampment", "BOS", "phone")
    assert row.address == "2111 W BELLEVUE AVE, 90026" and row.ward_key == "13"
    events = session.execute(
        text(
            "SELECT count(*) FROM request_event e JOIN service_request r ON r.id = e.request_id "
            "WHERE r.city = 'la' AND e.kind = 'imported'"
        )
    ).scalar()
    assert events == 19_999


def test_importing_again_updates_and_adds_nothing(session, la, tmp_path):
    report = import_history(session, la, report_dir=tmp_path)
    assert (report.inserted, report.updated) == (0, 19_999)
    assert count(session, "source = 'import'") == 19_999


def write_csv(path, rows):
    header = [
        "SRNumber",
        "CreatedDate",
        "UpdatedDate",
        "ClosedDate",
        "RequestType",
        "Owner",
        "Status",
        "RequestSource",
        "Address",
        "ZipCode",
        "Latitude",
        "Longitude",
    ]
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def test_bad_rows_are_reported_with_reasons(session, la, tmp_path):
    source = tmp_path / "history.csv"
    good = [
        "X-1",
        "2020-01-02 10:00:00",
        "2020-01-03 10:00:00",
        "2020-01-03 10:00:00",
        "Graffiti Removal",
        "OCB",
        "Closed",
        "Call",
        "2111 W BELLEVUE AVE, 90026",
        "90026",
        "34.073216645",
        "-118.266861909",
    ]
    write_csv(
        source,
        [
            good,
            ["", *good[1:]],
            ["X-3", "yesterday", *good[2:]],
            ["X-4", *good[1:4], "Alien Abduction", *good[5:]],
            ["X-5", *good[1:6], "Maybe", *good[7:]],
            ["X-6", *good[1:7], "Carrier Pigeon", *good[8:]],
            ["X-7", *good[1:10], "", ""],  # no location: imported, left off maps
        ],
    )
    mapping = dataclasses.replace(la.requests, paths=(source,))
    report = import_history(session, la, mapping, report_dir=tmp_path)
    assert (report.rows_read, report.inserted, len(report.rejected), report.without_location) == (7, 2, 5, 1)
    with open(report.report_path) as handle:
        reasons = [row["reason"] for row in csv.DictReader(handle)]
    assert reasons == [
        "no request number",
        "no readable creation date",
        "a service that is not in the catalogue",
        "a status the city file does not map ([requests.status_map])",
        "a channel the city file does not map ([requests.channel_map])",
    ]


def test_a_history_read_in_chunks_is_imported_as_if_read_at_once(session, la, tmp_path):
    """Rows checked and staged three at a time, over two files: a number repeated in another chunk
    or file keeps its last row, a bad row in a later chunk is reported by its own file and row."""
    row = [
        "2020-01-02 10:00:00",
        "2020-01-03 10:00:00",
        "2020-01-03 10:00:00",
        "Graffiti Removal",
        "OCB",
        "Closed",
        "Call",
        "2111 W BELLEVUE AVE, 90026",
        "90026",
        "34.073216645",
        "-118.266861909",
    ]
    first, second = tmp_path / "2019.csv", tmp_path / "2020.csv"
    write_csv(first, [[f"C-{n}", *row] for n in range(1, 8)])  # rows 2 to 8 of the file
    write_csv(
        second,
        [
            ["C-2", *row[:6], "Mobile App", *row[7:]],  # C-2 again: this later row is the one kept
            ["C-9", "not a date", *row[1:]],
            ["C-5", *row],
            ["C-10", *row],
        ],
    )
    mapping = dataclasses.replace(la.requests, paths=(first, second))
    before = count(session)
    report = import_history(session, la, mapping, report_dir=tmp_path, chunk_rows=3)
    assert (report.rows_read, report.inserted, report.updated) == (11, 8, 0)
    assert report.rejected == [
        ("2019.csv", 3, "the same request number appears again later in the files (the later row is imported)"),
        ("2019.csv", 6, "the same request number appears again later in the files (the later row is imported)"),
        ("2020.csv", 3, "no readable creation date"),
    ]
    assert count(session) == before + 8
    channel = session.execute(text("SELECT channel FROM service_request WHERE source_id = 'C-2'")).scalar()
    assert channel == "mobile_app"


def test_a_broken_source_imports_nothing(session, la, tmp_path):
    before = count(session)
    missing = dataclasses.replace(la.requests, paths=(tmp_path / "gone.csv",))
    with pytest.raises(DataFileError, match="does not exist"):
        import_history(session, la, missing, report_dir=tmp_path)
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("a,b\n1,2\n")
    with pytest.raises(DataFileError, match="has no column 'SRNumber'"):
        import_history(session, la, dataclasses.replace(la.requests, paths=(wrong,)), report_dir=tmp_path)
    assert count(session) == before


def test_placeholder_points_are_fixed_or_flagged(session, la, tmp_path):
    """Twelve requests on 'city hall' with different addresses: known ones move, the rest are flagged."""
    city_hall = ("34.0537", "-118.2427")
    known = [
        "2111 W BELLEVUE AVE, 90026",
        "986 E 51ST ST, 90011",
        "700 N FAIRFAX AVE, 90036",
        "4926 S COOLIDGE AVE, 90230",
    ]
    unknown = [f"{100 + i} NOWHERE LN" for i in range(8)]
    rows = [
        [
            f"P-{i}",
            "2020-01-02 10:00:00",
            "",
            "",
            "Illegal Dumping Pickup",
            "BOS",
            "Open",
            "Call",
            address,
            "",
            *city_hall,
        ]
        for i, address in enumerate(known + unknown)
    ]
    source = tmp_path / "placeholders.csv"
    write_csv(source, rows)
    report = import_history(session, la, dataclasses.replace(la.requests, paths=(source,)), report_dir=tmp_path)
    assert report.placeholders.points == 1
    assert (report.placeholders.relocated, report.placeholders.flagged) == (4, 8)
    moved = session.execute(text("SELECT address, ward_key FROM service_request WHERE source_id = 'P-0'")).one()
    assert moved.ward_key == "13"  # at 2111 W Bellevue Ave now, not at city hall
    assert count(session, "location_quality = 'placeholder'") == 8


def test_repeated_reports_at_one_address_are_not_placeholders(session):
    """The real data has 38 requests at 5550 N Winnetka Ave: one address, so a real hot spot."""
    assert count(session, "location_quality = 'placeholder'") == 0
    assert count(session, "address = '5550 N WINNETKA AVE, 91364' AND location_quality = 'source'") == 38


def test_areas_follow_the_boundaries(session):
    session.execute(text("UPDATE service_request SET ward_key = 'stale' WHERE city = 'la'"))
    changed = assign_areas(session, "la")
    assert changed >= 18_000
    assert count(session, "ward_key = 'stale'") == 0


def test_local_times_around_the_clock_changes(session, la, tmp_path):
    """01:30 happens twice on 3 November 2024 in Los Angeles; 02:30 never happens on 10 March 2024."""
    source = tmp_path / "dst.csv"
    row = ["Graffiti Removal", "OCB", "Open", "Call", "2111 W BELLEVUE AVE, 90026", "90026", "34.0732", "-118.2668"]
    write_csv(
        source, [["D-1", "11/03/2024 01:30:00 AM", "", "", *row], ["D-2", "03/10/2024 02:30:00 AM", "", "", *row]]
    )
    report = import_history(session, la, dataclasses.replace(la.requests, paths=(source,)), report_dir=tmp_path)
    assert (report.inserted, len(report.rejected)) == (2, 0)
    times = dict(
        session.execute(text("SELECT source_id, requested_at FROM service_request WHERE source_id LIKE 'D-%'")).all()
    )
    assert times["D-1"] == datetime(2024, 11, 3, 8, 30, tzinfo=UTC)  # 01:30 daylight time, the first one
    assert times["D-2"] == datetime(2024, 3, 10, 10, 30, tzinfo=UTC)  # 02:30 does not exist: read as 03:30 PDT


def test_a_large_first_load_rebuilds_the_secondary_indexes(session):
    from service_requests.importer import _secondary_indexes_rebuilt

    def indexes() -> set[tuple[str, str]]:
        return set(
            session.execute(
                text(
                    "SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN ('service_request', 'request_event')"
                )
            ).all()
        )

    before = indexes()
    with _secondary_indexes_rebuilt(session, "la", incoming=10**9) as rebuilt:
        assert rebuilt
        during = {name for name, _ in indexes()}
        assert "service_request_geom_idx" not in during and "service_request_ward" not in during
        assert "service_request_source" in during  # unique indexes stay: the upsert needs them
    assert indexes() == before
    with _secondary_indexes_rebuilt(session, "la", incoming=10) as rebuilt:  # a small load keeps them
        assert not rebuilt and indexes() == before


def test_bulk_references_encode_128_bits_like_single_ones(monkeypatch):
    import secrets

    import numpy as np

    from service_requests import references

    raw = secrets.token_bytes(16 * 500)
    monkeypatch.setattr(references.secrets, "token_bytes", lambda n: raw)
    bulk = references.new_references(500)
    words = np.frombuffer(raw, dtype=np.uint64).reshape(500, 2)
    for k, ref in enumerate(bulk):
        number = int(words[k, 0]) | (int(words[k, 1]) << 64)
        assert ref == references._grouped("".join(references.ALPHABET[(number >> (5 * i)) & 31] for i in range(26)))
        assert references.normalize_reference(ref) == ref


def test_a_large_import_is_followed_by_a_vacuum(database):
    import time as _time

    from service_requests.importer import ImportReport, tidy_after_import

    small = ImportReport(city="la", rows_read=10, inserted=10, updated=0)
    assert tidy_after_import(database.engine, small) is False

    def vacuums() -> int:
        with database.engine.connect() as conn:
            return conn.execute(
                text("SELECT vacuum_count FROM pg_stat_user_tables WHERE relname = 'service_request'")
            ).scalar()

    before = vacuums()
    assert tidy_after_import(database.engine, small, min_rows=10) is True
    deadline = _time.monotonic() + 10
    while vacuums() == before and _time.monotonic() < deadline:  # statistics arrive a moment later
        _time.sleep(0.2)
    assert vacuums() == before + 1


def test_imported_short_references_taken_by_the_city_or_another_row_are_drawn_again(session, la, tmp_path, monkeypatch):
    held = session.execute(text("SELECT short_ref FROM service_request WHERE city = 'la' LIMIT 1")).scalar_one()
    draws = iter([[held, "AAAAAAAAAA", "AAAAAAAAAA", "BBBBBBBBBB"], ["CCCCCCCCCC", "DDDDDDDDDD"]])
    monkeypatch.setattr("service_requests.importer.new_short_references", lambda count: next(draws)[:count])
    source = tmp_path / "clash.csv"
    row = ["Graffiti Removal", "OCB", "Open", "Call", "2111 W BELLEVUE AVE, 90026", "90026", "34.0732", "-118.2668"]
    write_csv(source, [[f"S-{i}", "01/05/2024 09:00:00 AM", "", "", *row] for i in range(4)])
    report = import_history(session, la, dataclasses.replace(la.requests, paths=(source,)), report_dir=tmp_path)
    assert report.inserted == 4
    refs = session.execute(text("SELECT short_ref FROM service_request WHERE source_id LIKE 'S-%'")).scalars().all()
    # the one the city held and the second of the two alike were drawn again; the others kept theirs
    assert sorted(refs) == ["AAAAAAAAAA", "BBBBBBBBBB", "CCCCCCCCCC", "DDDDDDDDDD"]
