"""The views' filter and URL helpers (app.web.filtering), shared by the map and report pages.

No database: a bare Flask app with the request list's endpoint is enough.
"""

from __future__ import annotations

from datetime import date

import pytest
from flask import Flask
from werkzeug.exceptions import BadRequest

from app.web import filtering
from service_requests.selection import FilterChoices, RequestFilter

CHOICES = FilterChoices(services={"graffiti": "Graffiti Removal"}, wards={"01": "Ward One"})


@pytest.fixture
def app() -> Flask:
    app = Flask(__name__)
    app.add_url_rule("/maps/requests", endpoint="maps.request_list")
    return app


def test_the_filter_of_the_query_string(app):
    with app.test_request_context("/?service=graffiti&by=ward&distinct=1"):
        assert filtering.read_filter(CHOICES) == RequestFilter(services=("graffiti",))
        assert filtering.read_filter(CHOICES, default_scope="city").scope == "city"
        assert filtering.read_filter(CHOICES, ward="01").ward == "01"
        assert filtering.flag("distinct") and not filtering.flag("overdue")
    with app.test_request_context("/?scope=all"):
        assert filtering.read_filter(CHOICES, default_scope="city").scope == "all"


@pytest.mark.parametrize(
    "query, message",
    [("service=potholes", "There is no service 'potholes'"), ("from=May", "from must be a date written YYYY-MM-DD")],
)
def test_a_bad_filter_is_a_400_with_its_sentence(app, query, message):
    with app.test_request_context(f"/?{query}"), pytest.raises(BadRequest) as refused:
        filtering.read_filter(CHOICES)
    assert message in str(refused.value.description)


def test_query_strings_leave_out_the_pages_default_scope():
    flt = RequestFilter(services=("graffiti",), date_from=date(2024, 1, 1), scope="city")
    assert filtering.query(flt) == "?service=graffiti&from=2024-01-01&scope=city"
    assert filtering.query(flt, default_scope="city", distinct=1, by="ward", period=None) == (
        "?service=graffiti&from=2024-01-01&distinct=1&by=ward"
    )
    assert filtering.query(RequestFilter()) == ""


def test_list_urls_keep_the_scope_the_figure_counted(app):
    with app.test_request_context("/"):
        flt = RequestFilter(scope="city")
        assert filtering.list_url(flt) == "/maps/requests?scope=city"
        assert filtering.list_url(flt, status="open", ward="01") == "/maps/requests?status=open&ward=01&scope=city"
        assert filtering.list_url(RequestFilter()) == "/maps/requests"


def test_numbers_and_choices_of_the_query_string(app):
    with app.test_request_context("/?cell=250&k=x&weights=knn&band=nan"):
        assert filtering.number("cell", float) == 250.0
        assert filtering.number("absent", int, 8) == 8
        assert filtering.choice("weights", ("distance", "knn"), "distance") == "knn"
        for refused in (lambda: filtering.number("k", int), lambda: filtering.number("band", float)):
            with pytest.raises(BadRequest):
                refused()
        with pytest.raises(BadRequest, match="weights must be one of distance"):
            filtering.choice("weights", ("distance",), "distance")
