"""Formula injection: no CSV or XLSX cell the app writes can start a formula (OWASP's rule).

Requests whose addresses are attacks, of a service whose name starts with ``=``, are read
back through the real export routes as each role that may export, with the csv module
and openpyxl: every such text cell begins with a single quote, no .xlsx cell is a
formula, and numbers (negative longitudes among them) stay numbers.
"""

from __future__ import annotations

import csv
import io

import openpyxl
import pandas as pd
import pytest
from sqlalchemy import text

from core.spreadsheets import safe_cell, safe_frame, write_csv

ATTACKS = ['=HYPERLINK("http://x","y")', "+1+cmd|' /C calc'!A0", "@SUM(1+1)", "-2+3", "\t=1", "\r=1"]
SERVICE_NAME = '=HYPERLINK("http://evil.example","Pothole")'
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture
def attacked(session):
    """Six requests of one service (renamed to a formula) with the attack addresses: (service, department, refs)."""
    code, department = session.execute(
        text(
            """
        SELECT r.service_code, min(r.department_code) FROM service_request r
        WHERE r.city = 'la' AND r.in_jurisdiction AND r.department_code IS NOT NULL
        GROUP BY 1 HAVING count(*) >= 6 AND count(DISTINCT r.department_code) = 1 ORDER BY count(*), 1 LIMIT 1
        """
        )
    ).one()
    refs = (
        session.execute(
            text(
                """
        SELECT public_ref FROM service_request WHERE city = 'la' AND service_code = :code AND in_jurisdiction
        ORDER BY requested_at DESC LIMIT 6
        """
            ),
            {"code": code},
        )
        .scalars()
        .all()
    )
    for ref, address in zip(refs, ATTACKS):
        session.execute(
            text("UPDATE service_request SET address = :a WHERE city = 'la' AND public_ref = :r"),
            {"a": address, "r": ref},
        )
    session.execute(
        text("UPDATE service SET name = :n WHERE city = 'la' AND code = :c"), {"n": SERVICE_NAME, "c": code}
    )
    session.execute(
        text("UPDATE service_request SET service_name = :n WHERE city = 'la' AND service_code = :c"),
        {"n": SERVICE_NAME, "c": code},
    )
    session.commit()
    return code, department, dict(zip(refs, ATTACKS))


def exporter(client_as, role: str, department: str):
    return client_as(role, department_code=department) if role == "supervisor" else client_as(role)


def assert_text_safe(value: object) -> None:
    if isinstance(value, str) and value:
        assert not value.startswith(TRIGGERS), repr(value)


@pytest.mark.parametrize("role", ["admin", "analyst", "planner", "supervisor"])
def test_the_csv_of_requests_writes_attacks_as_text(client_as, attacked, role):
    code, department, addresses = attacked
    response = exporter(client_as, role, department).get(f"/reports/requests.csv?service={code}")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True), newline="")))
    by_ref = {row["public_ref"]: row for row in rows}
    for ref, address in addresses.items():
        assert by_ref[ref]["address"] == "'" + address
    assert {row["service_name"] for row in rows} == {"'" + SERVICE_NAME}
    for row in rows:
        for column, value in row.items():
            if column not in ("lon", "lat"):
                assert_text_safe(value)
        if row["lon"]:  # Los Angeles is west of Greenwich: a negative number, written as one
            assert float(row["lon"]) < 0 and row["lon"].startswith("-")


@pytest.mark.parametrize("role", ["admin", "analyst", "supervisor"])
@pytest.mark.parametrize(
    "what", ["breakout.xlsx?by=service", "top.xlsx", "top.xlsx?by=department", "compliance-service.xlsx?by=service"]
)
def test_xlsx_tables_hold_no_formula(client_as, attacked, role, what):
    code, department, _ = attacked
    response = exporter(client_as, role, department).get(
        f"/reports/export/{what}{'&' if '?' in what else '?'}service={code}"
    )
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    values = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                assert_text_safe(cell.value)
                values.append(cell.value)
    assert "'" + SERVICE_NAME in values
    assert any(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)  # counts stay numbers


def test_csv_tables_hold_the_quoted_name(client_as, attacked):
    code, _, _ = attacked
    response = client_as("analyst").get(f"/reports/export/breakout.csv?by=service&service={code}")
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True), newline="")))
    assert [row["label"] for row in rows] == ["'" + SERVICE_NAME]
    assert int(rows[0]["requests"]) >= 6


def test_only_text_is_escaped():
    frame = pd.DataFrame(
        {"text": ["-2+3", "plain", None, "@x"], "number": [-2.5, 1.0, 3.0, -7.0], "mixed": [-3, "=1", 2.5, "\r=1"]}
    )
    out = safe_frame(frame)
    assert out["text"].tolist()[:2] == ["'-2+3", "plain"] and pd.isna(out["text"][2]) and out["text"][3] == "'@x"
    assert out["number"].tolist() == [-2.5, 1.0, 3.0, -7.0] and out["number"].dtype == float
    assert out["mixed"].tolist() == [-3, "'=1", 2.5, "'\r=1"]
    assert frame["text"][0] == "-2+3"  # the caller's frame is not changed
    assert [safe_cell(v) for v in ("\t=1", "", "a=b", 5)] == ["'\t=1", "", "a=b", 5]


def test_rejected_row_reports_are_safe(tmp_path):
    path = write_csv(tmp_path / "rejected.csv", ["source", "row", "address"], [["a.csv", 2, a] for a in ATTACKS])
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["address"] for r in rows] == ["'" + a for a in ATTACKS]
