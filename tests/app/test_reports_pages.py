"""Report pages, exports and access: CSV, Excel, GeoJSON parse; the public monthly page shows no personal data."""

from __future__ import annotations

import io
import re

import openpyxl
import pandas as pd
from sqlalchemy import text

from geo import reports
from service_requests.selection import RequestFilter

PAGES = [
    "/reports/",
    "/reports/by/department",
    "/reports/by/service",
    "/reports/by/group",
    "/reports/by/ward",
    "/reports/by/district",
    "/reports/by/channel",
    "/reports/by/family",
    "/reports/by/week",
    "/reports/by/month",
    "/reports/by/quarter",
    "/reports/by/fiscal_year",
    "/reports/by/year",
    "/reports/top",
    "/reports/backlog",
]


def test_every_report_page_renders_for_an_analyst(client_as):
    analyst = client_as("analyst")
    for url in PAGES:
        response = analyst.get(url)
        assert response.status_code == 200, url
        body = response.get_data(as_text=True)
        assert "<svg" in body and "What is counted" in body, url
        # No inline style or script (the content security policy allows neither); served scripts only.
        assert " style=" not in body and not re.search(r"<script(?![^>]*\bsrc=)", body), url


def test_summary_page_shows_the_sql_figures(client_as, session, la):
    figures = reports.summary(session, la, RequestFilter(department="OCB"))
    body = client_as("analyst").get("/reports/?department=OCB").get_data(as_text=True)
    assert f"{figures['requests']:,}" in body and f"{figures['open']:,}" in body


def test_department_codes_with_spaces_and_punctuation(client_as, session):
    """A city's own department codes ("PUBLIC WORKS / ST.") work in breakouts, filters and links (issue 16)."""
    session.execute(text("SET CONSTRAINTS ALL DEFERRED"))
    for table in ("department", "service_request"):
        column = "code" if table == "department" else "department_code"
        session.execute(
            text(f"UPDATE {table} SET {column} = 'PUBLIC WORKS / ST.' WHERE city = 'la' AND {column} = 'OCB'")
        )
    analyst = client_as("analyst")
    page = analyst.get("/reports/by/department")
    assert page.status_code == 200 and "PUBLIC WORKS / ST." in page.get_data(as_text=True)
    filtered = analyst.get("/reports/", query_string={"department": "PUBLIC WORKS / ST."})
    assert filtered.status_code == 200
    injection = analyst.get("/reports/", query_string={"department": "x'; DROP TABLE service_request; --"})
    assert injection.status_code in (200, 400)  # a bound value: it matches nothing, or is not a known code
    assert session.execute(text("SELECT count(*) FROM service_request")).scalar() > 0


def test_the_backlog_page_says_which_due_dates_compliance_uses(client_as, session, la):
    """The LA history has no due dates of its own: every one is the catalogue's service level."""
    due = reports.due_date_sources(session, la, RequestFilter())
    assert due.source == 0 and due.catalogue > 18_000
    body = client_as("analyst").get("/reports/backlog").get_data(as_text=True)
    assert "compliance against due dates: 0 % from the city&#39;s data, 100 % from service levels" in body


def test_a_bad_filter_is_a_400_with_a_sentence(client_as):
    analyst = client_as("analyst")
    response = analyst.get("/reports/?from=yesterday")
    assert response.status_code == 400 and "YYYY-MM-DD" in response.get_data(as_text=True)
    assert analyst.get("/reports/?group=Nothing%20like%20it").status_code == 400
    assert analyst.get("/reports/by/colour").status_code == 404
    assert analyst.get("/reports/monthly?month=March").status_code == 400


def test_table_exports_parse(client_as, session, la):
    analyst = client_as("analyst")
    table = reports.breakout(session, la, RequestFilter(scope="city"), "department")
    csv = analyst.get("/reports/export/breakout.csv?by=department")
    assert csv.status_code == 200
    frame = pd.read_csv(io.BytesIO(csv.data))
    assert frame["requests"].sum() == table["requests"].sum()
    xlsx = analyst.get("/reports/export/breakout.xlsx?by=month")
    book = openpyxl.load_workbook(io.BytesIO(xlsx.data))
    assert book.sheetnames == ["figures", "about"]
    assert book["figures"]["A1"].value == "key"
    for what in ("summary", "top", "backlog", "compliance", "compliance-service"):
        for fmt in ("csv", "xlsx"):
            assert analyst.get(f"/reports/export/{what}.{fmt}").status_code == 200, (what, fmt)
    assert analyst.get("/reports/export/top.csv?by=ward").status_code == 200
    assert analyst.get("/reports/export/breakout.csv?by=nothing").status_code == 400


def test_request_exports_parse_and_stay_within_scope(client_as, session, la):
    analyst = client_as("analyst")
    collection = analyst.get("/reports/requests.geojson?status=open&department=OCB").get_json()
    expected = reports.summary(session, la, RequestFilter(department="OCB"))["open"]
    assert len(collection["features"]) == expected
    csv = pd.read_csv(io.BytesIO(analyst.get("/reports/requests.csv?department=OCB&status=open").data))
    assert len(csv) == expected and {"lon", "lat", "public_ref"} <= set(csv.columns)
    assert analyst.get("/reports/requests.gpkg?department=OCB&status=open").data[:15] == b"SQLite format 3"
    bss = client_as("department", department_code="BSS")
    scoped = bss.get("/reports/requests.geojson?department=OCB").get_json()
    assert {f["properties"]["department_code"] for f in scoped["features"]} <= {"BSS"}


def test_public_monthly_report(client, session, la):
    response = client.get("/reports/monthly")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert la.name in body and "What is counted" in body and "distinct problems" in body
    assert "outside the city" in body and "<svg" in body
    assert "March 2024" in client.get("/reports/monthly?month=2024-03").get_data(as_text=True)  # empty: same layout

    from sqlalchemy import text

    busiest = session.execute(
        text(
            "SELECT date_trunc('month', requested_at AT TIME ZONE 'America/Los_Angeles')::date FROM service_request "
            "WHERE city = 'la' GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
        )
    ).scalar()
    month = client.get(f"/reports/monthly?month={busiest:%Y-%m}").get_data(as_text=True)
    assert f"{busiest:%B %Y}" in month
    # Counts only: no personal data, no address, no reference, no description.
    rows = session.execute(
        text(
            "SELECT r.address, r.public_ref, c.email, c.phone, c.last_name FROM service_request r "
            "LEFT JOIN request_contact c ON c.request_id = r.id WHERE r.city = 'la' "
            "AND date_trunc('month', r.requested_at AT TIME ZONE 'America/Los_Angeles')::date = :m LIMIT 200"
        ),
        {"m": busiest},
    ).all()
    assert rows
    end = reports.next_period_start(busiest, "month") - __import__("datetime").timedelta(days=1)
    figures = reports.summary(session, la, RequestFilter(date_from=busiest, date_to=end))
    assert f"{figures['requests']:,}" in month
    for row in rows:
        for value in row:
            if value and len(value) > 5:
                assert value not in month, value
    for abbreviation in ("SLA", "YTD", "YoY", "FY"):
        assert f" {abbreviation} " not in month and f">{abbreviation}<" not in month


def test_staff_report_pages_need_reports_view(client, client_as):
    assert client.get("/reports/").status_code in (302, 401)
    assert client_as("intake").get("/reports/").status_code == 403
    assert client_as("intake").get("/reports/requests.csv").status_code == 403
    assert client_as("council", area_role="wards", area_key="13").get("/reports/by/ward").status_code == 200


def test_every_count_links_to_exactly_its_requests(session, la, client_as):
    """The list behind Open, Closed and Cancelled holds as many requests as the figure says."""
    from geo.listing import request_page

    figures = reports.summary(session, la, RequestFilter(scope="city"))
    for status in ("open", "closed", "cancelled"):
        page = request_page(session, la, RequestFilter(scope="city", status=status), page=1, page_size=1)
        assert page.total == figures[status], status
    html = client_as("analyst").get("/reports/").get_data(as_text=True)
    assert "status=cancelled" in html and "status=closed" in html


def test_channel_names_in_the_filter_and_the_family_breakout(client_as, session, la):
    """The filter lists the city's channel names; the family breakout links each family to its requests."""
    body = client_as("analyst").get("/reports/by/family").get_data(as_text=True)
    assert '<option value="council_office" >Council office</option>' in body
    staff = int(reports.summary(session, la, RequestFilter(families=("staff",), scope="city"))["requests"])
    assert staff and f"{staff:,}" in body and "family=staff" in body
    assert client_as("analyst").get("/reports/?family=fax").status_code == 400
