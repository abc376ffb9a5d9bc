"""The load test's users (locust): residents, intake, Open311 apps, planners.

Started by ``bench/load.py`` with the bench server's address; it passes what the users need
in the environment: an Open311 key (GEO311_LOAD_API_KEY), a file of in-city addresses and
points (GEO311_LOAD_PLACES), and a staff login (GEO311_LOAD_USER / GEO311_LOAD_PASSWORD).
"""

from __future__ import annotations

import json
import os
import random
import re
import uuid
from pathlib import Path

from locust import HttpUser, between, task

PLACES = json.loads(Path(os.environ["GEO311_LOAD_PLACES"]).read_text())
API_KEY = os.environ["GEO311_LOAD_API_KEY"]
USER, PASSWORD = os.environ["GEO311_LOAD_USER"], os.environ["GEO311_LOAD_PASSWORD"]
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def _place() -> dict:
    return random.choice(PLACES)


class Resident(HttpUser):
    """Files requests on the web form (with its CSRF token) and follows them."""

    weight = 3
    wait_time = between(0.5, 2)

    def on_start(self) -> None:
        self.references: list[str] = []

    @task(3)
    def file_a_request(self) -> None:
        page = self.client.get("/report/graffiti", name="/report/<service> (form)")
        found = TOKEN.search(page.text)
        if not found:
            return
        place = _place()
        with self.client.post(
            "/report/graffiti",
            name="/report/<service> (submit)",
            allow_redirects=False,
            catch_response=True,
            data={
                "csrf_token": found.group(1),
                "lon": place["lon"],
                "lat": place["lat"],
                "attribute[surface]": "wall",
                "description": "Load test",
                "idempotency_key": uuid.uuid4().hex,
            },
        ) as response:
            if response.status_code == 303:
                self.references.append(response.headers["Location"].split("/status/")[1].split("?")[0])
                response.success()
            else:
                response.failure(f"answered {response.status_code}")

    @task(2)
    def check_an_address(self) -> None:
        self.client.get("/api/addresses/validate", params={"q": _place()["address"]}, name="/api/addresses/validate")
        self.client.get("/api/addresses/suggest", params={"q": _place()["address"][:9]}, name="/api/addresses/suggest")

    @task(1)
    def follow(self) -> None:
        if self.references:
            self.client.get(f"/status/{random.choice(self.references)}", name="/status/<reference>")


class App(HttpUser):
    """A mobile app or another city system speaking Open311."""

    weight = 3
    wait_time = between(0.5, 2)

    @task(2)
    def post(self) -> None:
        place = _place()
        self.client.post(
            "/open311/v2/requests.json",
            name="/open311/v2/requests.json (POST)",
            data={
                "api_key": API_KEY,
                "service_code": "illegal-dumping",
                "lat": place["lat"],
                "long": place["lon"],
                "description": "Load test",
            },
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )

    @task(2)
    def get_list(self) -> None:
        self.client.get("/open311/v2/requests.json", name="/open311/v2/requests.json (GET)")

    @task(1)
    def services(self) -> None:
        self.client.get("/open311/v2/services.json", name="/open311/v2/services.json")


class Planner(HttpUser):
    """Staff: logs in, looks at maps, hot spots and the performance reports."""

    weight = 1
    wait_time = between(1, 3)

    def on_start(self) -> None:
        page = self.client.get("/login", name="/login")
        found = TOKEN.search(page.text)
        if found is None:
            raise RuntimeError(f"/login answered {page.status_code} without a CSRF token; is the app running?")
        token = found.group(1)
        self.client.post(
            "/login", data={"csrf_token": token, "username": USER, "password": PASSWORD}, name="/login (submit)"
        )

    @task(2)
    def ward_map(self) -> None:
        self.client.get("/maps/wards", name="/maps/wards")
        self.client.get("/maps/wards/map.html", name="/maps/wards/map.html")

    @task(1)
    def hot_spots(self) -> None:
        self.client.get("/maps/hotspots", name="/maps/hotspots")

    @task(1)
    def reports(self) -> None:
        self.client.get("/reports/", name="/reports/ (Summary of Performance)")
        self.client.get("/reports/by/department", name="/reports/by/department")
        self.client.get("/reports/monthly", name="/reports/monthly (public)")
