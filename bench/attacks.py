"""Issue 17's attacks, rerun black-box over HTTP against a running server (gunicorn, production settings).

One check per item (1, 3 to 10) with the issue's own inputs; each prints PASS or FAIL with its
evidence and the whole run goes to ``bench/results/attacks.json`` and ``attacks.md``. Items 2, 11
and 12 are covered elsewhere (see :data:`ELSEWHERE`); item 12's grep of ``scripts/demo.sh`` runs here.

    PYTHONPATH=. .venv/bin/python -m bench.attacks --base http://127.0.0.1:5077 \\
        --admin atk-admin --password-file var/atk-password --api-key-file var/atk-apikey \\
        --role-users council=atk-council,planner=atk-planner,analyst=atk-analyst

The server must have ``GEO311_TRUSTED_PROXIES=1`` (each check poses as its own client through
``X-Forwarded-For``, as clients behind a proxy are) and a login rate limit above the ~150 logins a
run makes from one address (``GEO311_RATE_LOGIN=1000/minute``): the per-address limit is its own
defence and would otherwise answer 429 before the lockout is reached. Item 5 starts a second
gunicorn of its own (``--outage-port``) whose database is a port where nothing listens.

The run files about 25 requests (service ``other`` near Hollywood, ward 13, and ``feedback``),
creates four staff accounts named ``atk-<run>-...`` through ``/admin/users``, and renames the
``feedback`` service for one export (its name is put back at the end). Load is light: the
requests are sequential except the ten concurrent guesses of item 4.
"""

from __future__ import annotations

import argparse
import csv
import html
import io
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import openpyxl
import requests

from bench.common import write_results
from core.settings import PROJECT_ROOT

#: The issue's formula payloads (item 1).
FORMULAS = ['=HYPERLINK("http://x","y")', "+1+cmd|' /C calc'!A0", "@SUM(1+1)", "-2+3", "\tTAB", "\rCR"]
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?")
#: A point in ward 13 (Hollywood) and one about 560 m north of it: between the public (250 m) and staff (1,000 m) radius.
POINT = (-118.3287, 34.0983)
NORTH = (-118.3287, 34.1033)
#: Around it item 9 files its own request, 4 km from the others (the nearby answer lists ten at most).
FAR = (-118.2887, 34.0983)
ELSEWHERE = {
    2: "tests/app/test_gunicorn_workers.py (workers killed and restarted under load, no 503)",
    11: "the CLI import tests (empty file, dates outside 1677-2262, a huge field, coordinates, Latin-1)",
}


@dataclass
class Check:
    item: int
    title: str
    passed: bool = True
    evidence: list[str] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)

    def expect(self, ok: bool, what: str) -> bool:
        """Record one observation; any failed one fails the check."""
        self.evidence.append(("ok   " if ok else "FAIL ") + what)
        self.passed = self.passed and ok
        return ok


class FormParser(HTMLParser):
    """The fields of each POST form of a page (inputs, checked boxes, selected options, textareas)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[list[tuple[str, str]]] = []
        self._in_form = False
        self._select: str | None = None
        self._select_first: str | None = None
        self._select_chosen = False
        self._textarea: str | None = None
        self._text = ""

    def _add(self, name: str, value: str) -> None:
        self.forms[-1].append((name, value))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("method", "").lower() == "post":
            self.forms.append([])
            self._in_form = True
        if not self._in_form:
            return
        name = a.get("name", "")
        if tag == "input" and name:
            kind = a.get("type", "text").lower()
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind not in ("submit", "button", "file"):
                self._add(name, a.get("value", "on" if kind == "checkbox" else ""))
        elif tag == "select" and name:
            self._select, self._select_first, self._select_chosen = name, None, False
        elif tag == "option" and self._select is not None:
            if self._select_first is None:
                self._select_first = a.get("value", "")
            if "selected" in a and not self._select_chosen:
                self._add(self._select, a.get("value", ""))
                self._select_chosen = True
        elif tag == "textarea" and name:
            self._textarea, self._text = name, ""

    def handle_endtag(self, tag: str) -> None:
        if not self._in_form:
            return
        if tag == "select" and self._select is not None:
            if not self._select_chosen and self._select_first is not None:
                self._add(self._select, self._select_first)
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            self._add(self._textarea, self._text.removeprefix("\n"))
            self._textarea = None
        elif tag == "form":
            self._in_form = False

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text += data


def form_fields(page: str, having: str) -> list[tuple[str, str]]:
    """The fields of the page's first POST form that has a field ``having``."""
    parser = FormParser()
    parser.feed(page)
    for form in parser.forms:
        if any(name == having for name, _ in form):
            return form
    raise AssertionError(f"no form with a field {having!r} on the page")


def field_value(page: str, name: str) -> str:
    found = re.search(rf'name="{re.escape(name)}" value="([^"]*)"', page)
    if not found:
        raise AssertionError(f"no {name} on the page")
    return html.unescape(found.group(1))


def visible_text(page: str) -> str:
    """The page's text without markup, scripts or styles, whitespace collapsed."""
    page = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", page)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"(?s)<[^>]+>", " ", page))).strip()


def has_sentence(response: requests.Response) -> str | None:
    """The sentence an error answer gives (JSON's error/message/description, or the page's), else None."""
    body = response.text
    if "json" in response.headers.get("Content-Type", ""):
        try:
            data = response.json()
        except ValueError:
            return None
        texts: list[str] = []

        def collect(value: Any, wanted: bool = False) -> None:
            if isinstance(value, dict):
                for k, v in value.items():
                    collect(v, k in ("error", "message", "description"))
            elif isinstance(value, list):
                for v in value:
                    collect(v, wanted)
            elif wanted and isinstance(value, str):
                texts.append(value)

        collect(data)
        body = " ".join(texts)
    else:
        # The message of the error page, else any alert or error paragraph of the page (a form's error).
        for pattern in (
            r'(?s)<p class="error-status">.*?</p>\s*<p>(.*?)</p>',
            r'(?s)<(?:p|div)[^>]*class="[^"]*(?:error|alert|flash)[^"]*"[^>]*>(.*?)</(?:p|div)>',
            r"(?s)<main\b.*?</main>",
        ):
            found = re.search(pattern, body)
            if found:
                body = visible_text(found.group(found.lastindex or 0))
                break
        else:
            body = visible_text(body)
    found = re.search(r"\S[^.!?]{10,300}[.!?]", body)
    return found.group(0) if found else None


class Client:
    """One client: its own cookies and, through X-Forwarded-For, its own address."""

    def __init__(self, base: str, address: str) -> None:
        self.base = base
        self.http = requests.Session()
        self.http.headers["X-Forwarded-For"] = address
        self.address = address

    def get(self, path: str, **kw: Any) -> requests.Response:
        kw.setdefault("allow_redirects", False)
        return self.http.get(self.base + path, timeout=120, **kw)

    def post(self, path: str, **kw: Any) -> requests.Response:
        kw.setdefault("allow_redirects", False)
        return self.http.post(self.base + path, timeout=120, **kw)

    def login(self, username: str, password: str, next_: str | None = None) -> requests.Response:
        page = self.get("/login").text
        path = "/login" + ("?next=" + requests.utils.quote(next_, safe="") if next_ is not None else "")
        return self.post(
            path, data={"csrf_token": field_value(page, "csrf_token"), "username": username, "password": password}
        )

    def file(self, service: str, **fields: str) -> requests.Response:
        """Fill and send the resident form of ``service`` (its CSRF token and idempotency key as the page gives them)."""
        page = self.get(f"/report/{service}").text
        data = {
            "csrf_token": field_value(page, "csrf_token"),
            "idempotency_key": fields.pop("idempotency_key", None) or field_value(page, "idempotency_key"),
            "response_method": "none",
            **fields,
        }
        return self.post(f"/report/{service}", data=data)


def reference_of(response: requests.Response) -> str | None:
    found = re.search(r"/status/([^?/]+)", response.headers.get("Location", ""))
    return found.group(1) if found else None


def since() -> str:
    """A ``from=`` date that takes in today's requests whatever the city's time zone (yesterday in UTC)."""
    return time.strftime("%Y-%m-%d", time.gmtime(time.time() - 86400))


_addresses = iter(range(10, 250))


def new_address() -> str:
    """A fresh client address for X-Forwarded-For (documentation range 198.51.100.0/24, never contacted)."""
    return f"198.51.100.{next(_addresses)}"


class Run:
    def __init__(self, args: argparse.Namespace) -> None:
        self.base = args.base.rstrip("/")
        self.args = args
        self.password = Path(args.password_file).read_text().strip()
        self.api_key = Path(args.api_key_file).read_text().strip() if args.api_key_file else None
        self.tag = secrets.token_hex(3)
        self.admin = Client(self.base, new_address())
        response = self.admin.login(args.admin, self.password)
        if response.status_code != 303:
            sys.exit(f"Error: could not log in as {args.admin} (HTTP {response.status_code}).")
        self.role_users = dict(pair.split("=", 1) for pair in args.role_users.split(",") if pair)
        self.filed: dict[str, str] = {}  # what -> reference

    def create_user(self, role: str, suffix: str) -> str:
        name = f"atk-{self.tag}-{suffix}"
        page = self.admin.get("/admin/users").text
        response = self.admin.post(
            "/admin/users",
            data={
                "csrf_token": field_value(page, "csrf_token"),
                "username": name,
                "display_name": f"Attack rerun {suffix}",
                "role": role,
                "password": self.password,
                "repeat": self.password,
                "active": "1",
            },
        )
        if response.status_code != 303:
            raise AssertionError(f"could not create {name}: HTTP {response.status_code} {has_sentence(response)}")
        return name

    def audit(self, username: str) -> list[str]:
        """The login entries of the audit log on ``username`` (its own, and the system's locks)."""
        actions = []
        for actor in (username, "system"):
            page = self.admin.get(f"/admin/audit?kind=login&actor={actor}").text
            for action, target in re.findall(r"<td>(login\.[a-z_]+)</td>\s*<td>([^<]*)</td>", page):
                if html.unescape(target) == username:
                    actions.append(action)
        return actions


# --- item 1 --------------------------------------------------------------------------------------


def csv_formula_cells(body: str) -> tuple[int, list[str]]:
    """(cells read, cells that a spreadsheet would read as a formula): text beginning with a trigger, not a number."""
    rows = list(csv.reader(io.StringIO(body, newline="")))
    bad = [c for r in rows for c in r if c.startswith(TRIGGERS) and not NUMBER.fullmatch(c)]
    return sum(len(r) for r in rows), bad


def xlsx_formula_cells(body: bytes, marker: str) -> tuple[int, list[str], list[str]]:
    """(cells, formula cells, cells holding ``marker`` with their type): openpyxl reads the file as Excel would."""
    book = openpyxl.load_workbook(io.BytesIO(body))
    cells, formulas, marked = 0, [], []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                cells += 1
                if cell.data_type == "f":
                    formulas.append(f"{sheet.title}!{cell.coordinate}={cell.value!r}")
                if marker in str(cell.value):
                    marked.append(f"{sheet.title}!{cell.coordinate} type {cell.data_type} {cell.value!r}")
    return cells, formulas, marked


def item1(run: Run) -> Check:
    check = Check(1, "formula injection in CSV and XLSX exports")
    lon, lat = POINT
    for i, payload in enumerate(FORMULAS):
        response = Client(run.base, new_address()).file(
            "other", description=payload, address=payload, location_note=payload, lon=str(lon), lat=str(lat)
        )
        ref = reference_of(response)
        check.expect(ref is not None, f"web form, description/address {payload!r}: HTTP {response.status_code} {ref}")
        if ref:
            run.filed[f"formula-{i}"] = ref
    if run.api_key:
        for payload in FORMULAS[:3]:
            response = requests.post(
                run.base + "/open311/v2/requests.json",
                data={
                    "api_key": run.api_key,
                    "jurisdiction_id": "lacity.org",
                    "service_code": "other",
                    "lat": str(lat),
                    "long": str(lon),
                    "address_string": payload,
                    "description": payload,
                },
                headers={"X-Forwarded-For": new_address()},
                timeout=60,
            )
            check.expect(response.status_code in (200, 201), f"Open311 POST {payload!r}: HTTP {response.status_code}")
    today = since()
    # The staff CSV of requests (the admin's, so every column the export has).
    response = run.admin.get(f"/reports/requests.csv?service=other&from={today}")
    check.expect(
        response.status_code == 200,
        f"/reports/requests.csv: HTTP {response.status_code}, {len(response.content)} bytes",
    )
    cells, bad = csv_formula_cells(response.text)
    check.expect(not bad, f"requests CSV: {cells} cells, {len(bad)} that a spreadsheet reads as a formula {bad[:5]}")
    rows = {r["public_ref"]: r for r in csv.DictReader(io.StringIO(response.text, newline=""))}
    mine = [rows[ref]["address"] for key, ref in run.filed.items() if key.startswith("formula") and ref in rows]
    check.expect(
        len(mine) == len(FORMULAS),
        f"the {len(mine)} requests filed above are in it; their address cells are the public place, "
        f"not the typed text (descriptions are in no export): {sorted(set(mine))[:3]}",
    )
    for path in ("/reports/export/summary.csv", "/reports/export/breakout.csv?by=service"):
        response = run.admin.get(path + ("&" if "?" in path else "?") + f"from={today}")
        cells, bad = csv_formula_cells(response.text)
        check.expect(
            response.status_code == 200 and not bad,
            f"{path}: HTTP {response.status_code}, {cells} cells, formulas {bad[:5]}",
        )
    # Text that does reach the exports: a service's name. Each payload in turn names the feedback
    # service and files a request of it, whose row in the requests CSV carries the name.
    original = rename_service(run, "feedback", FORMULAS[0])
    try:
        for payload in FORMULAS:
            rename_service(run, "feedback", payload)
            filed = Client(run.base, new_address()).file("feedback", description=payload)
            check.expect(
                reference_of(filed) is not None, f"a feedback request named {payload!r}: HTTP {filed.status_code}"
            )
        rename_service(run, "feedback", FORMULAS[0])  # for the XLSX breakout
        response = run.admin.get(f"/reports/requests.csv?service=feedback&from={today}")
        cells, bad = csv_formula_cells(response.text)
        names = {r["service_name"] for r in csv.DictReader(io.StringIO(response.text, newline=""))}
        for payload in FORMULAS:
            quoted = "'" + payload in names
            stripped = payload.strip() in names and payload != payload.strip()  # the editor trims names
            check.expect(
                quoted or stripped,
                f"service name {payload!r} in the requests CSV as {('quoted text' if quoted else 'trimmed') if quoted or stripped else 'NOT FOUND'}",
            )
        check.expect(not bad, f"requests CSV of the renamed service: {cells} cells, formulas {bad[:5]}")
        # Filtered to the service, a table this run has not asked for yet (report tables are cached a few seconds).
        response = run.admin.get(f"/reports/export/breakout.xlsx?by=service&service=feedback&from={today}")
        check.expect(response.status_code == 200, f"breakout.xlsx by service: HTTP {response.status_code}")
        cells, formulas, renamed = xlsx_formula_cells(response.content, "HYPERLINK")
        check.expect(not formulas, f"breakout.xlsx: {cells} cells, {len(formulas)} formula cells {formulas[:5]}")
        check.expect(
            bool(renamed) and all(" type s " in t for t in renamed),
            f"the renamed service is there, as string cells: {renamed}",
        )
    finally:
        rename_service(run, "feedback", original)
    return check


def rename_service(run: Run, code: str, name: str) -> str:
    """Give service ``code`` the name ``name`` through the staff service editor; return its name before."""
    page = run.admin.get(f"/staff/services/{code}").text
    fields = form_fields(page, "name")
    before = dict(fields).get("name", "")
    data = [(k, name if k == "name" else v) for k, v in fields]
    response = run.admin.post(f"/staff/services/{code}", data=data)
    if response.status_code != 303:
        raise AssertionError(f"renaming {code}: HTTP {response.status_code} {has_sentence(response)}")
    return before


# --- item 3 --------------------------------------------------------------------------------------


def item3(run: Run) -> Check:
    check = Check(3, "the eight causes of HTTP 500")
    anonymous = Client(run.base, new_address())
    deep = "[" * 2000 + "]" * 2000
    deep_object = '{"q": ' * 2000 + '"x"' + "}" * 2000
    cases: list[tuple[str, Callable[[], requests.Response]]] = []
    for body in ("[1]", '"x"', "1", deep, deep_object):
        label = body if len(body) < 10 else f"{body[:8]}... (2,000 deep)"
        post = partial(
            anonymous.post, "/api/addresses/validate", data=body, headers={"Content-Type": "application/json"}
        )
        cases.append((f"POST /api/addresses/validate {label}", post))
    for path, who in (
        ("/reports/monthly?month=9999-12", run.admin),
        ("/reports/monthly?month=0001-01", run.admin),
        ("/open311/v2/requests.json?start_date=9999-12-31T00:00:00Z", anonymous),
        ("/open311/v2/requests.json?end_date=0001-01-01", anonymous),
        ("/maps/requests?to=9999-12-31", run.admin),
        ("/reports/?to=9999-12-31", run.admin),
        ("/reports/by/service?to=9999-12-31", run.admin),
        ("/maps/requests?page=1e20", run.admin),
        ("/reports/export/breakout.csv?by=%0d%0a", run.admin),
    ):
        cases.append((f"GET {path}", partial(who.get, path)))
    for label, call in cases:
        response = call()
        sentence = has_sentence(response)
        check.expect(
            400 <= response.status_code < 500 and sentence is not None,
            f"{label}: HTTP {response.status_code} {sentence!r}",
        )
    user = run.create_user("planner", "next")
    response = Client(run.base, new_address()).login(user, run.password, next_="/\r//evil")
    location = response.headers.get("Location", "")
    local = (
        location.startswith("/") and not location.startswith(("//", "/\\")) and "evil" not in location.split("?")[0][:7]
    )
    check.expect(
        response.status_code == 303 and local and "\r" not in location,
        f"POST /login?next=/%0d//evil: HTTP {response.status_code} Location {location!r}",
    )
    return check


# --- item 4 --------------------------------------------------------------------------------------


def timed_login(client: Client, username: str, password: str) -> tuple[float, requests.Response]:
    page = client.get("/login").text
    token = field_value(page, "csrf_token")
    start = time.perf_counter()
    response = client.post("/login", data={"csrf_token": token, "username": username, "password": password})
    return (time.perf_counter() - start) * 1000, response


def item4(run: Run) -> Check:
    check = Check(4, "lockout: timing, concurrency, password change, the owner, the audit log")
    rounds = run.args.timing_rounds
    # Timing: unknown user, a locked client, a wrong password (each from a new address, so never locked).
    locked_user = run.create_user("planner", "locked")
    wrong_user = run.create_user("planner", "wrong")
    locker = Client(run.base, new_address())
    for _ in range(6):
        locker.login(locked_user, "not-the-password")
    times: dict[str, list[float]] = {"unknown": [], "locked": [], "wrong": []}
    answers: dict[str, set[str]] = {k: set() for k in times}
    for _ in range(rounds):  # interleaved, so that the machine's load falls on all three alike
        for kind in times:
            if kind == "unknown":
                ms, response = timed_login(Client(run.base, new_address()), f"nobody-{secrets.token_hex(4)}", "x" * 12)
            elif kind == "locked":
                ms, response = timed_login(locker, locked_user, "not-the-password")
            else:
                ms, response = timed_login(Client(run.base, new_address()), wrong_user, "not-the-password")
            times[kind].append(ms)
            answers[kind].add(f"{response.status_code} {has_sentence(response)}")
    medians = {k: round(statistics.median(v), 1) for k, v in times.items()}
    spread = max(medians.values()) / min(medians.values())
    check.figures["login_ms_median"] = medians
    check.figures["login_ms_p90"] = {k: round(sorted(v)[int(0.9 * len(v))], 1) for k, v in times.items()}
    check.expect(spread <= 1.25, f"medians of {rounds} logins each (ms): {medians}, largest/smallest {spread:.2f}")
    check.expect(
        len(set().union(*answers.values())) == 1, f"one answer for all three: {sorted(set().union(*answers.values()))}"
    )
    # Ten concurrent wrong guesses on a fresh account from one client.
    fresh = run.create_user("planner", "concurrent")
    guesser = Client(run.base, new_address())
    tokens = [field_value(guesser.get("/login").text, "csrf_token") for _ in range(10)]

    def guess(i: int) -> int:
        return guesser.post(
            "/login", data={"csrf_token": tokens[i], "username": fresh, "password": f"guess-{i}"}
        ).status_code

    with ThreadPoolExecutor(10) as pool:
        statuses = list(pool.map(guess, range(10)))
    entries = run.audit(fresh)
    checked = entries.count("login.failure")
    check.figures["concurrent"] = {
        "statuses": statuses,
        "checked": checked,
        "refused_locked": entries.count("login.refused_locked"),
    }
    check.expect(
        checked <= 5 and "login.locked" in entries,
        f"10 concurrent wrong guesses: {checked} checked (limit 5), {entries.count('login.refused_locked')} refused as locked, "
        f"login.locked in the audit log: {'login.locked' in entries}",
    )
    right_after = Client(run.base, guesser.address).login(fresh, run.password)
    check.expect(
        right_after.status_code == 400,
        f"the right password from that client while locked: HTTP {right_after.status_code}",
    )
    # The current-password check of /account/password.
    changer_name = run.create_user("planner", "change")
    changer = Client(run.base, new_address())
    changer.login(changer_name, run.password)
    codes = []
    for i in range(6):
        page = changer.get("/account/password").text
        response = changer.post(
            "/account/password",
            data={
                "csrf_token": field_value(page, "csrf_token"),
                "current": f"wrong-{i}",
                "new": "n" * 16,
                "repeat": "n" * 16,
            },
        )
        codes.append(response.status_code)
    page = changer.get("/account/password").text
    new_password = secrets.token_urlsafe(15)
    response = changer.post(
        "/account/password",
        data={
            "csrf_token": field_value(page, "csrf_token"),
            "current": run.password,
            "new": new_password,
            "repeat": new_password,
        },
    )
    check.expect(
        response.status_code == 400,
        f"/account/password: 6 wrong current passwords {codes}, then the right one: HTTP {response.status_code} "
        f"{has_sentence(response)!r}",
    )
    # The owner after an attacker's bad logins: an administrator's account.
    owner_name = run.create_user("admin", "owner")
    owner_browser = Client(run.base, new_address())
    check.expect(
        owner_browser.login(owner_name, run.password).status_code == 303, "the owner logs in once (device cookie)"
    )
    owner_browser.post("/logout", data={"csrf_token": field_value(owner_browser.get("/").text, "csrf_token")})
    attacker = Client(run.base, new_address())
    bad = [attacker.login(owner_name, f"guess-{i}").status_code for i in range(6)]
    attacker_right = attacker.login(owner_name, run.password).status_code
    check.expect(
        attacker_right == 400,
        f"attacker's 6 bad logins {bad}; the right password from the attacker's client then: HTTP {attacker_right} (locked)",
    )
    owner_browser.http.headers["X-Forwarded-For"] = (
        attacker.address
    )  # the owner's browser, from the attacker's own address
    same_address = owner_browser.login(owner_name, run.password).status_code
    elsewhere = Client(run.base, new_address()).login(owner_name, run.password).status_code
    check.expect(
        same_address == 303, f"the owner's browser (device cookie) from the attacker's address: HTTP {same_address}"
    )
    check.expect(elsewhere == 303, f"the owner from another address, a new browser: HTTP {elsewhere}")
    entries = run.audit(owner_name)
    check.expect(
        "login.locked" in entries and "login.refused_locked" in entries,
        f"/admin/audit for {owner_name}: {sorted(set(entries))}",
    )
    return check


# --- item 5 --------------------------------------------------------------------------------------


def free_port_closed(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def item5(run: Run) -> Check:
    check = Check(5, "the 503 page during a database outage")
    port, dead = run.args.outage_port, run.args.dead_db_port
    if not (free_port_closed(port) and free_port_closed(dead)):
        check.expect(False, f"port {port} or {dead} is in use")
        return check
    env = {
        **os.environ,
        "DATABASE_URL": f"postgresql+psycopg://geo311@127.0.0.1:{dead}/geo311",
        "GEO311_ENV": "production",
        "GEO311_SECURE_COOKIES": "0",
        "SECRET_KEY": secrets.token_hex(32),
        "WEB_CONCURRENCY": "1",
    }
    log = PROJECT_ROOT / "var" / "attacks-outage.log"
    log.parent.mkdir(exist_ok=True)
    with log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "-w", "1"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 120
        while free_port_closed(port):
            if server.poll() is not None or time.monotonic() > deadline:
                check.expect(False, f"the outage server did not serve (exit {server.poll()}): {log.read_text()[-500:]}")
                return check
            time.sleep(0.5)
        for path in ("/", "/report/other", "/status/ABCD-EFGH", "/login", "/health"):
            response = requests.get(f"http://127.0.0.1:{port}{path}", timeout=60)
            text = response.text
            leaks = [
                w
                for w in (
                    "Traceback",
                    "delete",
                    "/work",
                    ".py",
                    "var/postgres",
                    "psycopg",
                    "LOG:",
                    "FATAL",
                    "127.0.0.1:" + str(dead),
                )
                if w.lower() in text.lower()
            ]
            # A page that needs no database (the login form) may still serve; any other answers 503.
            check.expect(
                (response.status_code == 503 or (response.status_code == 200 and path == "/login")) and not leaks,
                f"GET {path}: HTTP {response.status_code}, {len(text)} bytes, leaks {leaks}, says {has_sentence(response)!r}",
            )
    finally:
        server.terminate()
        server.wait(30)
    return check


# --- item 6 --------------------------------------------------------------------------------------


def item6(run: Run) -> Check:
    check = Check(6, "roles without the contact permission see no descriptions or location notes")
    marker = f"Distinct-{run.tag} call Mr Smith 555-0100"
    note = f"Behind-gate-{run.tag}"
    lon, lat = POINT
    response = Client(run.base, new_address()).file(
        "other", description=marker, location_note=note, lon=str(lon), lat=str(lat), address="6400 Sunset Blvd"
    )
    ref = reference_of(response)
    if not check.expect(ref is not None, f"filed a request with a distinctive description: {ref}"):
        return check
    assert ref is not None
    today = since()
    pages = [
        f"/staff/requests/{ref}",
        f"/maps/requests?service=other&from={today}",
        f"/maps/requests?service=other&from={today}&ward=13",
        f"/reports/requests.csv?service=other&from={today}",
        f"/reports/requests.geojson?service=other&from={today}",
        f"/maps/export/requests.geojson?service=other&from={today}",
        f"/status/{ref}",
    ]
    admin_page = run.admin.get(pages[0]).text
    check.expect(
        marker in admin_page and note in admin_page,
        "the administrator (contact permission) sees both on the request page",
    )
    for role, username in run.role_users.items():
        client = Client(run.base, new_address())
        if client.login(username, run.password).status_code != 303:
            check.expect(False, f"{role}: could not log in as {username}")
            continue
        for path in pages:
            response = client.get(path)
            leaked = [w for w, s in (("description", marker), ("location note", note)) if s in response.text]
            ref_seen = ref in response.text
            check.expect(
                response.status_code == 200 and ref_seen and not leaked,
                f"{role} {path}: HTTP {response.status_code}, the request is there {ref_seen}, leaked {leaked}",
            )
    return check


# --- item 7 --------------------------------------------------------------------------------------


def item7(run: Run) -> Check:
    check = Check(7, "web-form idempotency keys: 128 random bits, scoped to the session")
    import base64

    keys = []
    for _ in range(run.args.keys):
        keys.append(field_value(Client(run.base, new_address()).get("/report/other").text, "idempotency_key"))
    raw = [base64.urlsafe_b64decode(k + "=" * (-len(k) % 4)) for k in keys]
    bits = {len(r) * 8 for r in raw}
    ones = sum(bin(b).count("1") for r in raw for b in r) / max(1, sum(len(r) * 8 for r in raw))
    check.figures["key_sample"] = keys[:3]
    check.expect(min(bits) >= 128, f"{len(keys)} keys, {sorted(bits)} bits each, e.g. {keys[0]!r}")
    check.expect(len(set(keys)) == len(keys), f"all distinct; share of one bits {ones:.3f} (0.5 expected)")
    check.expect(0.4 < ones < 0.6, "bits balanced as random bits are")
    lon, lat = POINT
    alice, mallory = Client(run.base, new_address()), Client(run.base, new_address())
    key = field_value(alice.get("/report/other").text, "idempotency_key")
    first = reference_of(
        alice.file("other", description=f"alice {run.tag}", lon=str(lon), lat=str(lat), idempotency_key=key)
    )
    again = reference_of(
        alice.file("other", description=f"alice {run.tag}", lon=str(lon), lat=str(lat), idempotency_key=key)
    )
    check.expect(
        first is not None and again == first, f"a retry in the same session returns the same request: {first} / {again}"
    )
    theirs = reference_of(
        mallory.file("other", description=f"mallory {run.tag}", lon=str(lon), lat=str(lat), idempotency_key=key)
    )
    check.expect(
        theirs is not None and theirs != first, f"another session replaying that key gets {theirs}, not {first}"
    )
    return check


# --- item 8 --------------------------------------------------------------------------------------


def item8(run: Run) -> Check:
    check = Check(8, "?by= cannot choose the exported file's name")
    for path, by in (
        ("summary", None),
        ("summary", "evil.exe"),
        ("summary", '"; filename="evil.exe'),
        ("summary", "../../evil"),
        ("summary", "service"),
        ("breakout", "evil.exe"),
        ("breakout", '"; filename="evil.exe'),
    ):
        response = run.admin.get(f"/reports/export/{path}.csv", params={"by": by} if by is not None else {})
        disposition = response.headers.get("Content-Disposition", "")
        name = re.search(r'filename="([^"]*)"', disposition)
        plain = name is not None and re.fullmatch(rf"la-report-{path}-\d{{8}}\.csv", name.group(1)) is not None
        served = response.status_code == 200 and plain and disposition.count("filename") == 1
        refused = 400 <= response.status_code < 500 and "evil" not in disposition
        check.expect(
            served if by is None else (served or refused),
            f"{path}.csv by={by!r}: HTTP {response.status_code} Content-Disposition {disposition!r} "
            f"{'' if served else has_sentence(response)!r}",
        )
    return check


# --- item 9 --------------------------------------------------------------------------------------


def item9(run: Run) -> Check:
    check = Check(9, "&staff=1 gives anonymous callers no larger radius")
    # A request of its own at a point of this run (within 1.5 km of FAR, inside the city), so that the ten
    # nearest the answer lists are not all older runs' requests.
    for _ in range(10):
        here = (FAR[0] + (secrets.randbelow(3001) - 1500) / 100000, FAR[1] + (secrets.randbelow(3001) - 1500) / 100000)
        if run.admin.get(f"/api/locate?lon={here[0]}&lat={here[1]}").json().get("status") == "inside":
            break
    filed = Client(run.base, new_address()).file(
        "other", description=f"nearby {run.tag}", lon=str(here[0]), lat=str(here[1])
    )
    ref = reference_of(filed)
    if not check.expect(ref is not None, f"an open request of service other at {here}: {ref}"):
        return check
    lon, lat = here[0], here[1] + NORTH[1] - POINT[1]
    query = f"/api/requests/nearby?service=other&lon={lon}&lat={lat}"

    def refs(client: Client, path: str) -> list[str]:
        response = client.get(path)
        return [n["reference"] for n in response.json().get("nearby", [])] if response.status_code == 200 else []

    anonymous = Client(run.base, new_address())
    at_point = refs(anonymous, f"/api/requests/nearby?service=other&lon={here[0]}&lat={here[1]}")
    check.expect(ref in at_point, f"anonymous at the point itself: found {ref in at_point} ({len(at_point)} nearby)")
    plain, flagged = refs(anonymous, query), refs(anonymous, query + "&staff=1")
    staff = refs(run.admin, query + "&staff=1")
    check.expect(ref in staff, f"staff with &staff=1 ~560 m away: found {ref in staff} ({len(staff)} nearby)")
    check.expect(
        ref not in plain and ref not in flagged,
        f"anonymous ~560 m away: found {ref in plain}, with &staff=1 {ref in flagged} ({len(flagged)} nearby)",
    )
    return check


# --- item 10 -------------------------------------------------------------------------------------


def item10(run: Run) -> Check:
    check = Check(10, "a 4,000-character description with CRLF line breaks is accepted")
    lines = ["x" * 99] * 40
    typed = "\n".join(lines) + "y"  # 4,000 characters as a browser counts them
    sent = typed.replace("\n", "\r\n")  # and as it sends them: 4,039
    lon, lat = POINT
    response = Client(run.base, new_address()).file("other", description=sent, lon=str(lon), lat=str(lat))
    ref = reference_of(response)
    check.expect(
        response.status_code == 303 and ref is not None,
        f"{len(typed)} characters typed, {len(sent)} sent: HTTP {response.status_code} {ref or has_sentence(response)!r}",
    )
    if ref:
        page = run.admin.get(f"/staff/requests/{ref}").text
        check.expect(
            ("x" * 99 + "y") in page and page.count("x" * 99) >= 40, "the whole description is on the staff page"
        )
    return check


def item12(run: Run) -> Check:
    check = Check(12, "the demo serves with gunicorn")
    lines = [line.strip() for line in (PROJECT_ROOT / "scripts" / "demo.sh").read_text().splitlines() if line.strip()]
    check.expect(
        "gunicorn" in lines[-1] and "flask" not in lines[-1].split("gunicorn")[0],
        f"scripts/demo.sh ends in {lines[-1]!r}",
    )
    return check


ITEMS: dict[int, Callable[[Run], Check]] = {
    1: item1,
    3: item3,
    4: item4,
    5: item5,
    6: item6,
    7: item7,
    8: item8,
    9: item9,
    10: item10,
    12: item12,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", default="http://127.0.0.1:5077")
    parser.add_argument("--admin", default="atk-admin")
    parser.add_argument("--password-file", default="var/atk-password", help="the staff users' password (one for all)")
    parser.add_argument(
        "--api-key-file", default="var/atk-apikey", help="an Open311 API key (flask open311 clients add)"
    )
    parser.add_argument("--role-users", default="council=atk-council,planner=atk-planner,analyst=atk-analyst")
    parser.add_argument("--items", default=",".join(map(str, ITEMS)), help="which items, e.g. 1,3,4")
    parser.add_argument("--timing-rounds", type=int, default=20)
    parser.add_argument("--keys", type=int, default=20, help="idempotency keys sampled (item 7)")
    parser.add_argument("--outage-port", type=int, default=5078)
    parser.add_argument("--dead-db-port", type=int, default=59999)
    args = parser.parse_args(argv)
    run = Run(args)
    checks = []
    for item in (int(i) for i in args.items.split(",")):
        started = time.monotonic()
        try:
            check = ITEMS[item](run)
        except Exception as exc:  # noqa: BLE001 (a crashed check is a failed one, with its reason)
            check = Check(item, ITEMS[item].__name__)
            check.expect(False, f"the check stopped: {type(exc).__name__}: {exc}")
        check.figures["seconds"] = round(time.monotonic() - started, 1)
        checks.append(check)
        print(f"{'PASS' if check.passed else 'FAIL'} {check.item}. {check.title} ({check.figures['seconds']} s)")
        for line in check.evidence:
            print("    " + line.replace("\r", "\\r").replace("\t", "\\t"))
    table = [
        (
            f"{c.item}. {c.title}",
            "PASS" if c.passed else "FAIL",
            "none of the old weakness",
            "; ".join(e for e in c.evidence if e.startswith("FAIL")) or f"{len(c.evidence)} observations",
        )
        for c in checks
    ]
    table += [(f"{item}. covered elsewhere", "-", "-", where) for item, where in ELSEWHERE.items()]
    path = write_results(
        "attacks",
        {
            "base": run.base,
            "checks": [
                {"item": c.item, "title": c.title, "passed": c.passed, "evidence": c.evidence, "figures": c.figures}
                for c in checks
            ],
            "elsewhere": ELSEWHERE,
        },
        table,
    )
    print(f"{sum(c.passed for c in checks)} passed, {sum(not c.passed for c in checks)} failed; {path}")
    return 0 if all(c.passed for c in checks) else 1


if __name__ == "__main__":
    raise SystemExit(main())
