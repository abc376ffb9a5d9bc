"""The application factory, health, errors, the landing page and its JSON endpoints."""

from __future__ import annotations

import dataclasses

import pytest

from app.factory import create_app
from core.database import Database
from core.errors import ConfigError
from core.settings import Settings


def test_factory_reads_the_city_from_settings(settings, bound_database):
    app = create_app(dataclasses.replace(settings, city="gardena"), database=bound_database)
    assert app.extensions["geo311"].city.name == "City of Gardena"


def test_gardena_serves_its_catalogue_and_imports_no_history(settings, bound_database):
    """The shipped second city starts (issue 16, item 13): services to report, no history to import."""
    app = create_app(dataclasses.replace(settings, city="gardena"), database=bound_database)
    client = app.test_client()
    page = client.get("/report")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "Pothole" in body and "Abandoned Vehicle" in body
    assert client.get("/report/pothole").status_code == 200
    result = app.test_cli_runner().invoke(args=["requests", "import", "--if-configured"])
    assert result.exit_code == 0 and "configures no request history: nothing to import" in result.output
    refused = app.test_cli_runner().invoke(args=["requests", "import"])
    assert refused.exit_code != 0 and "configures no request history" in refused.output


def test_unknown_city_is_refused_with_the_known_ones(settings):
    with pytest.raises(ConfigError, match="Unknown city 'atlantis'.*known cities: gardena, la"):
        create_app(dataclasses.replace(settings, city="atlantis"))


def test_production_refuses_to_start_without_a_secret_key():
    with pytest.raises(ConfigError, match="SECRET_KEY is not set"):
        Settings.from_env({"GEO311_ENV": "production"})
    assert Settings.from_env({"GEO311_ENV": "production", "SECRET_KEY": "x" * 64}).secret_key


def test_settings_refuse_a_non_postgresql_database():
    with pytest.raises(ConfigError, match="DATABASE_URL must be a PostgreSQL URL"):
        Settings.from_env({"DATABASE_URL": "sqlite:///tmp/x.db"})


def test_database_url_never_starts_a_cluster(settings):
    database = Database.from_settings(dataclasses.replace(settings, database_url="postgresql://u@db.example:5432/x"))
    assert database.cluster is None
    assert database.url == "postgresql+psycopg://u@db.example:5432/x"


def test_health_reports_database_postgis_and_schema(client):
    response = client.get("/health")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["postgis"].startswith("3.")
    assert body["schema"]


def test_health_says_503_when_the_database_is_unreachable(settings):
    unreachable = Database(url="postgresql+psycopg://nobody@/nodb?host=/nonexistent-socket-dir")
    client = create_app(settings, database=unreachable).test_client()
    response = client.get("/health")
    assert response.status_code == 503
    assert response.get_json()["database"] == "unreachable"


def test_landing_page_shows_the_city_and_its_layers(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "City of Los Angeles" in html
    assert "/vendor/leaflet/leaflet.js" in html
    assert "Council district" in html and "Neighborhood council" in html
    assert "https://" not in html.split("<body>")[0]  # no asset from outside the app


def test_boundary_layers_as_geojson(client):
    wards = client.get("/api/boundaries/wards.geojson")
    assert wards.status_code == 200
    assert wards.mimetype == "application/geo+json"
    features = wards.get_json()["features"]
    assert len(features) == 15
    assert {f["properties"]["name"] for f in features} >= {"Council District 1", "Council District 15"}
    assert len(client.get("/api/boundaries/districts.geojson").get_json()["features"]) == 99
    assert client.get("/api/boundaries/parcels.geojson").status_code == 404


def test_locate_endpoint(client):
    inside = client.get("/api/locate?lon=-118.2668&lat=34.0732").get_json()
    assert inside["status"] == "inside" and inside["ward"]["key"] == "13"
    outside = client.get("/api/locate?lon=-118.4004&lat=34.0736").get_json()
    assert outside["agency"]["name"] == "City of Beverly Hills"


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?lon=-118",
        "?lon=abc&lat=34",
        "?lon=nan&lat=34",
        "?lon=-118&lat=91",
        "?lon=1e999&lat=34",
        "?lon=<script>&lat=34",
    ],
)
def test_locate_refuses_bad_coordinates_with_a_sentence(client, query):
    response = client.get("/api/locate" + query)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == 400 and error["description"].endswith(".")


def test_error_pages_are_readable_html_for_people_and_json_for_the_api(client):
    page = client.get("/no/such/page", headers={"Accept": "text/html"})
    assert page.status_code == 404
    assert "There is no such page" in page.get_data(as_text=True)
    api = client.get("/api/no-such-endpoint")
    assert api.status_code == 404 and api.get_json()["error"]["code"] == 404


def test_vendor_assets_are_served_locally(client):
    response = client.get("/vendor/leaflet/leaflet.js")
    assert response.status_code == 200
    assert b"Leaflet" in response.data[:2000]
    response.close()
    assert client.get("/vendor/leaflet/../../pyproject.toml").status_code == 404
    assert client.get("/vendor/left-pad/index.js").status_code == 404
