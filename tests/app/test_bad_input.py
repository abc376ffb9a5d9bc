"""Issue 17, items 3 and 8: the values that gave HTTP 500, and the export name a query string chose.

Each answer is a 400 with a sentence (or the default page for a login's ``next``), through the route.
"""

from __future__ import annotations

import itertools

import pytest

from service_requests.selection import EARLIEST_DATE, LATEST_DATE, FilterError, parse_day, parse_month, parse_page

VALIDATE = "/api/addresses/validate"


def description(response) -> str:
    return response.get_json()["error"]["description"]


@pytest.mark.parametrize(
    "body",
    [
        "[1, 2]",
        '"200 N Spring St"',
        "42",
        "null",
        "true",
        "[" * 10_000,
        '{"q": ' * 10_000,
        '{"q": 1',
        "\xff\xfe".encode("latin-1"),
        "1" * 5000,
    ],
)
def test_a_json_body_that_is_not_an_object_is_a_400_with_a_sentence(client, body):
    response = client.post(VALIDATE, data=body, content_type="application/json")
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    assert "JSON" in description(response)


def test_a_json_object_is_still_validated(client):
    response = client.post(VALIDATE, json={"q": "200 N Spring St"})
    assert response.status_code == 200
    assert response.get_json()["query"] == "200 N Spring St"
    assert client.post(VALIDATE, json={"q": ["a"]}).status_code == 400  # q must be text


@pytest.mark.parametrize(
    "month",
    ["9999-12", "0001-01", "1899-12", "2200-01", "2024-13", "2024-00", "٢٠٢٤-٠٣", "2024-+3", "2024", "2024-03-01"],
)
def test_a_monthly_report_of_a_month_out_of_range_is_a_400(client, month):
    response = client.get("/reports/monthly", query_string={"month": month})
    assert response.status_code == 400, month
    assert "YYYY-MM" in response.get_data(as_text=True) or "1900-01 to 2199-12" in response.get_data(as_text=True)


@pytest.mark.parametrize("month", ["1900-01", "2199-12", "2024-03"])
def test_the_months_at_the_ends_of_the_range_are_reports(client, month):
    assert client.get("/reports/monthly", query_string={"month": month}).status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/maps/wards",
        "/maps/districts",
        "/maps/hotspots",
        "/maps/emerging",
        "/maps/heat",
        "/maps/requests",
        "/maps/export/wards.geojson",
        "/reports/",
        "/reports/by/month",
        "/reports/by/department",
        "/reports/top",
        "/reports/backlog",
        "/reports/export/summary.csv",
        "/reports/requests.csv",
    ],
)
def test_filter_dates_out_of_range_are_a_400_on_maps_and_reports(admin_client, path):
    for argument in ({"to": "9999-12-31"}, {"from": "0001-01-01"}, {"to": "2200-01-01"}, {"from": "20240301"}):
        response = admin_client.get(path, query_string=argument)
        assert response.status_code == 400, (path, argument, response.status_code)
        text = response.get_data(as_text=True)
        assert "YYYY-MM-DD" in text or "1900-01-01 to 2199-12-31" in text


@pytest.mark.parametrize("page", ["1e20", "-1", "0", "99999999999999999999999", "10001", "1.5", " ", "²", "0x10"])
def test_bad_page_numbers_are_a_400(admin_client, page):
    response = admin_client.get("/maps/requests", query_string={"page": page})
    assert response.status_code == (200 if page == " " else 400), page


def test_the_last_page_allowed_is_an_empty_page(admin_client):
    assert admin_client.get("/maps/requests?page=10000").status_code == 200


@pytest.mark.parametrize("what", ["summary", "breakout", "top", "backlog", "compliance", "compliance-service"])
def test_an_export_by_no_dimension_is_a_400_and_names_no_file(admin_client, what):
    for by, fmt in itertools.product(
        ["\r\n", "evil", 'x"; filename="evil.exe', "month\r\nSet-Cookie: a=b"], ("csv", "xlsx")
    ):
        response = admin_client.get(f"/reports/export/{what}.{fmt}", query_string={"by": by})
        assert response.status_code == 400, (what, by, response.status_code)
        assert "Content-Disposition" not in response.headers


def test_the_export_name_comes_from_the_validated_dimension(admin_client):
    response = admin_client.get("/reports/export/breakout.csv?by=ward")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith('attachment; filename="la-report-breakout-ward-')
    response = admin_client.get("/reports/export/summary.csv")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith('attachment; filename="la-report-summary-2')
    response = admin_client.get("/reports/export/summary.csv?by=ward")  # the summary has no breakout
    assert response.status_code == 400 and "takes no by" in response.get_data(as_text=True)
    listing = admin_client.get("/reports/export/top.csv?by=nope").get_data(as_text=True)
    assert "department, service, ward" in listing  # the valid ones are named


@pytest.mark.parametrize(
    "targets",
    [  # (in groups below the login rate limit)
        [
            "/\r//evil.example",
            "/\n/evil.example",
            "/\t/evil.example",
            "//evil.example",
            "/\\evil.example",
            "\\\\evil.example",
        ],
        [
            "https:evil.example",
            "https://evil.example/",
            "javascript:alert(1)",
            " //evil.example",
            "evil.example",
            "/\x7f/evil.example",
        ],
    ],
)
def test_a_login_follows_only_same_site_paths(client, session, targets):
    from tests.helpers.staff import PASSWORD, make_user

    username = make_user(session, "admin")
    for target in targets:
        response = client.post(
            "/login", query_string={"next": target}, data={"username": username, "password": PASSWORD}
        )
        assert response.status_code == 303, (target, response.get_data(as_text=True)[:300])
        assert response.headers["Location"] == "/", target


def test_a_login_follows_a_same_site_path(client, session):
    from tests.helpers.staff import PASSWORD, make_user

    username = make_user(session, "admin")
    response = client.post(
        "/login", query_string={"next": "/maps/wards?status=open"}, data={"username": username, "password": PASSWORD}
    )
    assert response.headers["Location"] == "/maps/wards?status=open"


def test_the_parsers_take_the_ends_of_the_range_and_refuse_beyond():
    assert parse_day("from", "1900-01-01") == EARLIEST_DATE and parse_day("to", "2199-12-31") == LATEST_DATE
    assert parse_month("month", "2199-12").day == 1
    assert parse_page(None) == 1 and parse_page("10000") == 10_000
    for call, value in (
        (parse_day, "1899-12-31"),
        (parse_day, "2200-01-01"),
        (parse_day, "2024-02-30"),
        (parse_month, "2200-01"),
        (parse_month, "1899-12"),
        (parse_page, "10001"),
    ):
        with pytest.raises(FilterError):
            call("x", value)


def test_the_summary_of_a_selection_without_requests_is_a_page(admin_client):
    # Found by tests/app/test_route_fuzz.py: an empty month breakout has a label column of no type (.str failed).
    response = admin_client.get("/reports/?from=2199-01-01")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert "Requests per month" in response.get_data(as_text=True)


@pytest.mark.parametrize("filename", ["a" * 5000, "9" * 300 + "/x.js", "dist/" + "b" * 256 + ".js"])
def test_a_vendor_file_name_too_long_for_the_file_system_is_a_404(client, filename):
    # Found by bench/fuzz.py: the file system's "File name too long" (OSError) was a 500.
    assert client.get(f"/vendor/leaflet/{filename}").status_code == 404
