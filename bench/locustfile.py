"""The load test's people (locust): call-takers, residents, Open311 apps, planners, managers, council offices.

Started by ``bench/load.py`` with the bench server's address; it passes what they need in the
environment: an Open311 key (GEO311_LOAD_API_KEY), a file of in-city addresses and points
(GEO311_LOAD_PLACES), staff logins by role (GEO311_LOAD_USERS, a JSON object of role to
``[username, password]``) and the council office's ward (GEO311_LOAD_WARD).

Each class is a kind of person with the pauses of one (``wait_time``: a call-taker between
calls, a planner reading a map); :data:`MIX` is how many of each a run of 50 has. Every name
a request is reported under says which figure of the issue it counts for: the address
service (suggest, validate), filing (create), and the map and report pages.
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
USERS: dict[str, list[str]] = json.loads(os.environ["GEO311_LOAD_USERS"])
WARD = os.environ.get("GEO311_LOAD_WARD", "1")
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
REFERENCE = re.compile(r"/(?:status|staff/requests)/([0-9A-Za-z-]+)")
#: A multiplier of every pause (GEO311_LOAD_PACE): 1 in the benchmark; the suite's short run shortens them.
PACE = float(os.environ.get("GEO311_LOAD_PACE", "1"))

#: People of each kind in a run of 50 (``fixed_count``); a run of another size scales them.
MIX = {"CallTaker": 10, "Resident": 14, "App": 8, "Planner": 6, "Manager": 6, "CouncilOffice": 6}


def _place() -> dict:
    return random.choice(PLACES)


def _pause(low: float, high: float):  # noqa: ANN202 - locust's wait-time function
    return between(low * PACE, high * PACE)


def _count(kind: str) -> int:
    users = int(os.environ.get("GEO311_LOAD_USER_COUNT", "50"))
    return max(1, round(MIX[kind] * users / sum(MIX.values())))


class Person(HttpUser):
    """Someone at the site: keeps the CSRF token of the last form page."""

    abstract = True

    def token(self, path: str, name: str) -> str | None:
        page = self.client.get(path, name=name)
        found = TOKEN.search(page.text)
        return found.group(1) if found else None

    def typed(self, address: str) -> None:
        """An address typed as a person types it: suggestions as it grows, then the check of the whole."""
        for length in (5, 9, 14):
            if length < len(address):
                self.client.get(
                    "/api/addresses/suggest", params={"q": address[:length]}, name="address: /api/addresses/suggest"
                )
        self.client.get("/api/addresses/validate", params={"q": address}, name="address: /api/addresses/validate")

    def file_graffiti(self, path: str, name: str, place: dict, description: str) -> str | None:
        """Open the graffiti form at ``path``, send it for ``place``: the new request's reference, or None."""
        token = self.token(path, f"{name} (form)")
        if token is None:
            return None
        with self.client.post(
            path,
            name=f"create: {name} (submit)",
            allow_redirects=False,
            catch_response=True,
            data={
                "csrf_token": token,
                "address": place["address"],
                "attribute[surface]": "wall",
                "description": description,
                "idempotency_key": uuid.uuid4().hex,
            },
        ) as response:
            found = REFERENCE.search(response.headers.get("Location", ""))
            if response.status_code == 303 and found:
                response.success()
                return found.group(1)
            response.failure(f"answered {response.status_code}")
            return None


class Staff(Person):
    """A member of staff, logged in with the account of ``role``."""

    abstract = True
    role = ""

    def on_start(self) -> None:
        username, password = USERS[self.role]
        token = self.token("/login", "/login")
        if token is None:
            raise RuntimeError("/login answered without a CSRF token; is the app running?")
        with self.client.post(
            "/login",
            data={"csrf_token": token, "username": username, "password": password},
            name="/login (submit)",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 303:
                response.failure(f"login as {self.role} answered {response.status_code}")


class CallTaker(Staff):
    """Intake staff with a caller on the line: types the address, checks it, files the request."""

    role = "intake"
    fixed_count = _count("CallTaker")
    wait_time = _pause(8, 20)  # the rest of the call, then the next one

    @task
    def take_a_call(self) -> None:
        place = _place()
        self.typed(place["address"])
        self.file_graffiti(
            "/intake/new/graffiti", "/intake/new/<service>", place, "Load test: caller reports tags on a wall"
        )


class Resident(Person):
    """A resident on the web: checks the address, files a request, follows it, looks around."""

    fixed_count = _count("Resident")
    wait_time = _pause(5, 20)

    def on_start(self) -> None:
        self.references: list[str] = []

    @task(3)
    def file_a_request(self) -> None:
        place = _place()
        self.typed(place["address"])
        reference = self.file_graffiti("/report/graffiti", "/report/<service>", place, "Load test")
        if reference:
            self.references.append(reference)

    @task(1)
    def follow(self) -> None:
        if not self.references:
            return
        reference = random.choice(self.references)
        token = self.token(f"/status/{reference}", "/status/<reference>")
        if token is None:
            return
        self.client.post(
            f"/status/{reference}/follow",
            data={"csrf_token": token, "email": f"load-{uuid.uuid4().hex[:12]}@example.org"},
            name="/status/<reference>/follow",
        )

    @task(1)
    def look_around(self) -> None:
        self.client.get("/around", name="map: /around")
        self.client.get("/around/reports.geojson", name="map: /around/reports.geojson")


class App(HttpUser):
    """A mobile app or another city system speaking Open311."""

    fixed_count = _count("App")
    wait_time = _pause(2, 6)

    @task(2)
    def post(self) -> None:
        place = _place()
        self.client.post(
            "/open311/v2/requests.json",
            name="create: /open311/v2/requests.json (POST)",
            data={
                "api_key": API_KEY,
                "service_code": "illegal-dumping",
                "lat": place["lat"],
                "long": place["lon"],
                "description": "Load test",
            },
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )

    @task(3)
    def get_list(self) -> None:
        self.client.get("/open311/v2/requests.json", name="/open311/v2/requests.json (GET)")

    @task(1)
    def updates(self) -> None:
        self.client.get("/open311/v2/servicerequestupdates.json", name="/open311/v2/servicerequestupdates.json")

    @task(1)
    def services(self) -> None:
        self.client.get("/open311/v2/services.json", name="/open311/v2/services.json")


class Planner(Staff):
    """Code enforcement hunting hot spots: ward maps, hot spots, the request map."""

    role = "planner"
    fixed_count = _count("Planner")
    wait_time = _pause(10, 30)

    @task(2)
    def ward_map(self) -> None:
        self.client.get("/maps/wards", name="map: /maps/wards")
        self.client.get("/maps/wards/map.html", name="map: /maps/wards/map.html")

    @task(2)
    def hot_spots(self) -> None:
        self.client.get("/maps/hotspots", name="map: /maps/hotspots")
        self.client.get("/maps/hotspots/map.html", name="map: /maps/hotspots/map.html")

    @task(1)
    def districts(self) -> None:
        self.client.get("/maps/districts", name="map: /maps/districts")


class Manager(Staff):
    """A manager on the performance reports."""

    role = "planner"
    fixed_count = _count("Manager")
    wait_time = _pause(10, 30)

    @task(2)
    def summary(self) -> None:
        self.client.get("/reports/", name="report: /reports/ (Summary of Performance)")

    @task(2)
    def breakouts(self) -> None:
        by = random.choice(["department", "service", "ward", "channel"])
        self.client.get(f"/reports/by/{by}", name="report: /reports/by/<dimension>")

    @task(1)
    def backlog(self) -> None:
        self.client.get("/reports/backlog", name="report: /reports/backlog")
        self.client.get("/reports/top", name="report: /reports/top")

    @task(1)
    def monthly(self) -> None:
        self.client.get("/reports/monthly", name="report: /reports/monthly (public)")


class CouncilOffice(Staff):
    """A council office on its own ward: its map, its figures, its requests."""

    role = "council"
    fixed_count = _count("CouncilOffice")
    wait_time = _pause(10, 30)

    @task(2)
    def ward(self) -> None:
        self.client.get(f"/maps/wards/{WARD}", name="map: /maps/wards/<ward>")

    @task(2)
    def figures(self) -> None:
        self.client.get("/reports/", params={"ward": WARD}, name="report: /reports/?ward=<ward>")

    @task(1)
    def requests(self) -> None:
        self.client.get("/maps/requests", params={"ward": WARD}, name="map: /maps/requests?ward=<ward>")
