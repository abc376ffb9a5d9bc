"""Fuzzing every route of the app: random paths, query strings, form and JSON bodies; no answer may be a 5xx.

``python -m bench.fuzz [--cases N] [--staff-cases N] [--seconds S] [--only PREFIX]`` sends ``N`` generated
cases (default 10,000) to each public endpoint (a route and method anyone may call: the public pages,
``/api/*``, ``/open311/*``) and ``--staff-cases`` to each staff-only one, logged in as an administrator,
through the Flask test client against its own database (``geo311_bench_fuzz``: both cities' boundaries
and addresses, the Los Angeles catalogue and history, as the test suite loads them). It writes
``bench/results/fuzz.json`` and ``fuzz.md`` after each endpoint: cases and server errors per endpoint, the
first failing case of each and the commit fuzzed. ``--part i/n`` shares the endpoints between processes
(``--merge`` joins their files), ``--resume`` runs only the endpoints its results file does not hold yet.

The route list comes from the app's URL map (:func:`endpoints`), never a hand list, so a new route is
fuzzed as soon as it exists; :func:`cases` is the hypothesis strategy of one request to one endpoint, and
:func:`send` sends it. ``tests/app/test_route_fuzz.py`` uses the same three with a small budget.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import functools
import json
import logging
import re
import secrets
import time
import traceback
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.orm import Session
from werkzeug.routing import Rule

#: Request methods a route list shows that no view handles itself.
_IMPLICIT = {"HEAD", "OPTIONS"}
#: Rate limits high enough that fuzzing measures the views, not the limiter.
UNLIMITED: dict[str, Any] = {
    "rate_login": "100000000/minute",
    "rate_public_forms": "100000000/minute",
    "rate_public_api": "100000000/minute",
    "open311_keyless_per_minute": 100_000_000,
}


@dataclass(frozen=True)
class Endpoint:
    """One route and one method of it, and who may call it (``public``: anyone)."""

    rule: Rule
    method: str
    public: bool

    @property
    def name(self) -> str:
        return f"{self.method} {self.rule.rule}"


def endpoints(app: Flask) -> list[Endpoint]:
    """Every route and method of ``app``'s URL map; ``public`` when its view is marked :func:`~app.web.access.public`."""
    found = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        view = app.view_functions[rule.endpoint]
        public = getattr(view, "_access", "") is None or rule.endpoint == "static"
        for method in sorted((rule.methods or set()) - _IMPLICIT):
            found.append(Endpoint(rule, method, public))
    return found


# --- values --------------------------------------------------------------------------------------

#: Text no field expects: injections, markup, control and invisible characters, huge and odd numbers.
HOSTILE = [
    "",
    " ",
    "\x00",
    "'; DROP TABLE service_request; --",
    "' OR 1=1 --",
    "<script>alert(1)</script>",
    "{{7*7}}",
    "${jndi:x}",
    "../../etc/passwd",
    "%00",
    "%0d%0a",
    "\r\n",
    "\r\nSet-Cookie: x=y",
    "\t",
    "\x01\x02\x1f\x7f",
    "\u202e\ufeff\u200b",
    "\ud7ff\ue000\uffff",
    "\U0001f600",
    "Ñandú",
    "٢٠٢٤",
    "²",
    "-1",
    "0",
    "1e20",
    "-1e309",
    "1e309",
    "NaN",
    "inf",
    "99999999999999999999999999",
    "9" * 5000,
    "0x10",
    "1_000",
    "1.5",
    "true",
    "null",
    "[]",
    "{}",
    "a" * 10_000,
    "9999-12-31",
    "0001-01-01",
    "9999-12-31T00:00:00Z",
    "0001-01-01T00:00:00Z",
    "2024-02-30",
    "9999-12",
    "0001-01",
    "20240301",
    "2024-03-01T25:00:00Z",
    "-200,-100,200,100",
    "1,2,3",
    "//evil.example",
    "/\r//evil.example",
    "/\\evil.example",
    "https:evil.example",
    "javascript:alert(1)",
]
#: Plausible values of the arguments the views read (a name not listed gets random text only).
ARGUMENT_VALUES: dict[str, list[str]] = {
    "q": ["200 N Spring St", "2111 W Bellevue Ave", "Main St & 1st St", "90026"],
    "address": ["200 N Spring St"],
    "lon": ["-118.2437", "-118.26690", "0", "181"],
    "lat": ["34.0522", "34.07325", "0", "-91"],
    "limit": ["8", "0", "100000"],
    "page": ["1", "2", "10000", "10001"],
    "page_size": ["1", "1000"],
    "from": ["2024-01-01", "2023-06-30"],
    "to": ["2024-12-31", "2025-01-01"],
    "month": ["2024-03", "2025-01"],
    "status": ["open", "closed", "cancelled", "all", "open,closed"],
    "scope": ["mapped", "left_out", "all", "city"],
    "by": ["department", "service", "ward", "month", "week", "quarter", "fiscal_year", "channel", "family"],
    "service": ["graffiti", "bulky-items"],
    "service_code": ["graffiti", "graffiti,bulky-items"],
    "department": ["OCB", "BOS"],
    "ward": ["1", "13"],
    "district": ["1"],
    "channel": ["web", "phone"],
    "family": ["web", "phone"],
    "group": ["Streets"],
    "overdue": ["1"],
    "distinct": ["1"],
    "download": ["1"],
    "measure": ["requests", "open", "per_km2", "per_1000"],
    "cell": ["250", "0", "-5"],
    "band": ["1000"],
    "k": ["8", "0"],
    "fdr": ["0", "1"],
    "weights": ["distance", "knn"],
    "slice": ["month", "quarter"],
    "slices": ["6", "0"],
    "start_date": ["2024-01-01T00:00:00Z", "2024-01-01"],
    "end_date": ["2024-03-01T00:00:00Z"],
    "updated_after": ["2024-01-01T00:00:00-08:00"],
    "updated_before": ["2024-02-01"],
    "bbox": ["-118.3,34.0,-118.2,34.1"],
    "extensions": ["true", "false"],
    "jurisdiction_id": ["lacity.org"],
    "api_key": ["nope"],
    "staff": ["1"],
    "next": ["/maps/wards", "/reports/"],
    "kind": ["login", "user"],
    "actor": ["admin"],
    "saved": ["1"],
    "new": ["1"],
    "reference": ["NOPE"],
    "username": ["fuzz-target"],
    "password": ["correct horse battery staple"],
    "current": ["x"],
    "repeat": ["x"],
    "role": ["admin", "analyst"],
    "description": ["Paint on the wall", "D" * 4001],
    "email": ["a@example.org", "not-an-address"],
    "phone": ["213-555-0100"],
    "first_name": ["Ana"],
    "last_name": ["Li"],
    "idempotency_key": ["k1"],
    "attribute[surface]": ["wall"],
    "action": ["password", "save"],
    "name": ["Graffiti"],
    "display_name": ["X"],
}
#: Plausible values of path variables, by variable name (filled from the database by :func:`plausible_paths`).
PATH_VALUES: dict[str, list[str]] = {
    "role": ["wards", "districts", "neighborhoods"],
    "key": ["1", "13"],
    "layer": ["wards", "districts"],
    "fmt": ["json", "xml", "csv", "xlsx", "geojson", "gpkg", "html"],
    "what": [
        "summary",
        "breakout",
        "top",
        "backlog",
        "compliance",
        "compliance-service",
        "wards",
        "districts",
        "hotspots",
        "emerging",
        "heat",
        "requests",
    ],
    "by": ["department", "service", "group", "ward", "district", "channel", "family", "week", "month", "year"],
    "package": ["leaflet", "folium"],
    "filename": ["leaflet.js", "app.css", "favicon.svg", "../../etc/passwd"],
    "token": ["abc"],
    "z": ["0", "12", "22"],
    "x": ["0", "700"],
    "y": ["0", "1600"],
}


def plausible_paths(session: Session, city: str = "la") -> dict[str, list[str]]:
    """:data:`PATH_VALUES` with the city's own service codes, request references and usernames, and an
    Open311 key (``api_key``, sent with some cases)."""
    from open311.clients import issue_client

    api_key = issue_client(session, city, "Fuzzer", per_minute=100_000_000)[1]
    session.commit()
    codes = list(session.scalars(text("SELECT code FROM service WHERE city = :c ORDER BY code LIMIT 5"), {"c": city}))
    refs = list(
        session.scalars(text("SELECT public_ref FROM service_request WHERE city = :c ORDER BY id LIMIT 5"), {"c": city})
    )
    users = list(
        session.scalars(text("SELECT username FROM staff_user WHERE city = :c ORDER BY id LIMIT 5"), {"c": city})
    )
    return {
        **PATH_VALUES,
        "service_code": codes or ["graffiti"],
        "code": codes or ["graffiti"],
        "reference": refs or ["NOPE"],
        "service_request_id": refs or ["NOPE"],
        "username": users or ["nobody"],
        "api_key": [api_key],
    }


# (NUL aside: every request holding one is refused before any view, see app.web.errors; HOSTILE has one.)
_TEXT = st.text(st.characters(exclude_characters="\x00"), max_size=40)
_WIDE_TEXT = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=300)
#: Raw bytes that are not UTF-8, percent-encoded in a query string or sent as they are in a body.
_BAD_BYTES = st.sampled_from([b"\xff", b"\xc0\x80", b"\xed\xa0\x80", b"\xfe\xff", b"\x80abc", b"%ff%fe", b"\xe2\x82"])


@functools.cache  # one strategy per name: building strategies per draw costs more than the request
def _value(name: str) -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(ARGUMENT_VALUES.get(name, ["x"])), st.sampled_from(HOSTILE), _TEXT, _WIDE_TEXT)


_NAMES = st.one_of(st.sampled_from(sorted(ARGUMENT_VALUES)), _TEXT)
_PAIRS = _NAMES.flatmap(lambda name: st.tuples(st.just(name), _value(name)))
#: Sets of arguments that go together (a point, a window), so that cases get past "give both".
_PRESETS = [
    [],
    [],
    [("lon", "-118.2437"), ("lat", "34.0522")],
    [("lon", "-118.26690"), ("lat", "34.07325"), ("service", "graffiti")],
    [("from", "2024-01-01"), ("to", "2024-03-31")],
    [("start_date", "2024-01-01T00:00:00Z"), ("end_date", "2024-03-01T00:00:00Z")],
    [("q", "200 N Spring St")],
    [("username", "fuzz-target"), ("password", "wrong")],
    [("service_code", "graffiti"), ("lat", "34.07325"), ("long", "-118.26690")],
]
#: A query string or form: argument names the views read (and random ones) with plausible and hostile values.
ARGUMENTS = st.builds(lambda preset, pairs: preset + pairs, st.sampled_from(_PRESETS), st.lists(_PAIRS, max_size=6))

_JSON_LEAVES = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.sampled_from(HOSTILE), _WIDE_TEXT
)
_JSON = st.recursive(
    _JSON_LEAVES,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(sorted(ARGUMENT_VALUES)), _TEXT), inner, max_size=4),
    ),
    max_leaves=12,
)
#: JSON bodies: objects of the fields views read, any other JSON, and text that breaks readers.
JSON_BODIES = st.one_of(
    st.dictionaries(st.sampled_from(sorted(ARGUMENT_VALUES)), _JSON, max_size=5).map(json.dumps),
    _JSON.map(json.dumps),
    st.sampled_from(
        [
            "[" * 10_000,
            '{"q": ' * 10_000,
            "1e999999",
            "9" * 5000,
            "-" * 3,
            '{"q": "\\ud800"}',
            "NaN",
            '{"q": "a"',
            "",
            "\x00",
            '{"q": "\x01\x02"}',
            '{"q": "' + "a" * 100_000 + '"}',
        ]
    ),
).map(lambda body: body.encode("utf-8", "surrogatepass"))


@dataclass(frozen=True)
class Case:
    """One request: method, path, query string and body (raw bytes with their content type, or none)."""

    method: str
    path: str
    query: bytes
    body: bytes | None = None
    content_type: str | None = None
    csrf: bool = True

    def describe(self) -> str:
        body = "" if self.body is None else f" [{self.content_type}] {self.body[:200]!r}"
        return f"{self.method} {self.path}?{self.query[:300].decode('latin-1')}{body}"


def _encode(pairs: list[tuple[str, str]], bad: bytes | None) -> bytes:
    encoded = urlencode(pairs, encoding="utf-8", errors="surrogatepass").encode("ascii")
    if bad is not None:  # a value that is not UTF-8 once decoded
        chunk = bad if bad.startswith(b"%") else quote(bad).encode("ascii")
        encoded += (b"&" if encoded else b"") + b"q=" + chunk
    return encoded


def _path_value(name: str, rule: Rule, plausible: dict[str, list[str]]) -> st.SearchStrategy[str]:
    converter = rule._converters[name]  # noqa: SLF001 (werkzeug keeps a rule's converters here)
    kind = type(converter).__name__
    if kind == "IntegerConverter":
        return st.one_of(st.sampled_from(plausible.get(name, ["0"])), st.integers(0, 10**30).map(str))
    choices = list(getattr(converter, "items", None) or plausible.get(name, ["x"]))
    if name == "fmt" and rule.rule.startswith("/open311/"):  # the API's formats (the others are a 404 each)
        choices = ["json", "xml"]
    hostile = [h for h in HOSTILE if h and "/" not in h] if kind != "PathConverter" else [h for h in HOSTILE if h]
    return st.one_of(
        st.sampled_from(choices),
        st.sampled_from(choices),
        st.sampled_from(choices),
        st.sampled_from(hostile),
        st.text(st.characters(codec="utf-8", exclude_characters="/?#"), min_size=1, max_size=80),
    )


def cases(endpoint: Endpoint, plausible: dict[str, list[str]]) -> st.SearchStrategy[Case]:
    """One generated request to ``endpoint``: path variables, a query string, and a form, JSON or raw body."""
    rule = endpoint.rule
    variables = {name: _path_value(name, rule, plausible) for name in rule.arguments}
    keys = [[], *([("api_key", key)] for key in plausible.get("api_key", []) * 2)]  # most cases with a valid key
    arguments = st.builds(lambda key, pairs: key + pairs, st.sampled_from(keys), ARGUMENTS)

    def build(values: dict[str, str], query: list, bad: bytes | None, body: tuple[str, Any], csrf: bool) -> Case:
        path = rule.rule
        for name, value in values.items():
            safe = "/" if type(rule._converters[name]).__name__ == "PathConverter" else ""  # noqa: SLF001
            # (a quoted value holds no backslash, so it is a plain replacement string)
            path = re.sub(rf"<(?:[^<>]*:)?{name}>", quote(value, safe=safe), path, count=1)
        kind, content = body
        if kind == "form":
            return Case(endpoint.method, path, _encode(query, None), _encode(content, bad), _FORM, csrf)
        return Case(endpoint.method, path, _encode(query, bad), content, kind if kind != "none" else None, csrf)

    form = arguments.map(lambda pairs: ("form", pairs))
    json_body = JSON_BODIES.map(lambda raw: ("application/json", raw))
    raw = st.binary(max_size=200).map(lambda raw: ("application/octet-stream", raw))
    none = st.just(("none", None))
    write = endpoint.method in ("POST", "PUT", "PATCH", "DELETE")
    bodies = st.one_of(form, form, json_body, none, raw) if write else st.one_of(none, none, none, form, json_body)
    with_token = st.sampled_from([True, True, True, False])  # mostly past CSRF, sometimes not
    return st.builds(build, st.fixed_dictionaries(variables), arguments, st.none() | _BAD_BYTES, bodies, with_token)


_FORM = "application/x-www-form-urlencoded"


def send(client: FlaskClient, case: Case) -> Any:
    """Send ``case`` with ``client`` (a form body carries the client's CSRF token unless ``case.csrf`` is off)."""
    body = case.body
    csrf_token: Callable[[], str] | None = getattr(client, "csrf_token", None)  # a logged-in CsrfClient has one
    if case.csrf and case.content_type == _FORM:
        token = csrf_token() if csrf_token else ""
        body = (body + b"&" if body else b"") + b"csrf_token=" + quote(token).encode("ascii")
    json_token = case.csrf and case.content_type == "application/json"
    headers = {"X-CSRFToken": csrf_token()} if json_token and csrf_token else {}
    return client.open(
        case.path,
        method=case.method,
        query_string=case.query.decode("ascii"),
        data=body,
        content_type=case.content_type,
        headers=headers,
    )


# --- the bench run ---------------------------------------------------------------------------------

BENCH_DBNAME = "geo311_bench_fuzz"


@dataclass
class Tally:
    """What one endpoint answered: cases sent, server errors, statuses, the first failing case."""

    cases: int = 0
    server_errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    first_error: str | None = None
    seconds: float = 0.0


class _OutOfTime(Exception):
    """An endpoint's time is up (raised to stop hypothesis generating more cases)."""


def run_endpoint(
    client: FlaskClient,
    endpoint: Endpoint,
    plausible: dict[str, list[str]],
    n: int,
    seconds: float | None = None,
    relogin: Callable[[], None] | None = None,
) -> Tally:
    """Send ``n`` generated cases to ``endpoint`` (fewer if ``seconds`` run out first); count what came back."""
    tally = Tally()
    started = time.perf_counter()

    @hypothesis_settings(
        max_examples=n, deadline=None, database=None, phases=[Phase.generate], suppress_health_check=list(HealthCheck)
    )
    @given(case=cases(endpoint, plausible))
    def one(case: Case) -> None:
        if seconds is not None and time.perf_counter() - started > seconds:
            raise _OutOfTime
        try:
            status = send(client, case).status_code
        except Exception:  # noqa: BLE001 (a crash of the test client is a server error too)
            status = 599
            tally.first_error = tally.first_error or f"{case.describe()}\n{traceback.format_exc(limit=3)}"
        tally.cases += 1
        tally.statuses[status] = tally.statuses.get(status, 0) + 1
        if status >= 500:
            tally.server_errors += 1
            tally.first_error = tally.first_error or case.describe()
        if relogin is not None and endpoint.rule.rule == "/logout":
            relogin()

    with contextlib.suppress(_OutOfTime):
        one()
    tally.seconds = round(time.perf_counter() - started, 1)
    return tally


def _bench_app() -> tuple[Flask, Any]:
    """The app over the fuzzing database (created and loaded on first use), with rate limits lifted."""
    from sqlalchemy import create_engine

    from address_db.loader import load_addresses
    from app.factory import create_app
    from boundaries.loader import load_city as load_boundaries
    from core.city import load_city
    from core.database import Database, upgrade
    from core.settings import PROJECT_ROOT, Settings
    from service_requests.catalogue_db import sync_catalogue
    from service_requests.importer import import_history, tidy_after_import

    settings = dataclasses.replace(Settings.from_env(env="test"), **UNLIMITED)
    database = Database.from_settings(settings, dbname=BENCH_DBNAME)
    if database.cluster is not None:
        database.engine  # noqa: B018 (starts the embedded server, stopped at exit)
        admin = create_engine(database.cluster.url("postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": BENCH_DBNAME}).scalar():
                conn.execute(text(f'CREATE DATABASE "{BENCH_DBNAME}"'))
        admin.dispose()
    upgrade(database.engine)
    with database.session() as session:
        empty = not session.execute(text("SELECT count(*) FROM service_request")).scalar()
    if empty:  # as tests/conftest.py loads its database
        for key in ("la", "gardena"):
            city = load_city(key, settings.cities_dir, settings.data_dir)
            with database.session() as session:
                load_boundaries(session, city)
                load_addresses(session, city, report_dir=PROJECT_ROOT / "var" / "bench" / "fuzz")
                sync_catalogue(session, city)
                session.commit()
                if city.requests is not None:
                    report = import_history(session, city, report_dir=PROJECT_ROOT / "var" / "bench" / "fuzz")
                    session.commit()
                    tidy_after_import(database.engine, report, city=city)
    return create_app(settings, database=database), database


def _clients(app: Flask, database: Any) -> tuple[FlaskClient, FlaskClient, Callable[[], None]]:
    from tests.helpers.staff import CsrfClient, log_in, make_user

    app.test_client_class = CsrfClient
    anonymous, staff = app.test_client(), app.test_client()
    with database.session() as session:  # a new administrator each run (fuzzed logins may lock an old one)
        username = make_user(session, "admin", username=f"fuzz-admin-{secrets.token_hex(4)}")
        if not session.scalar(text("SELECT count(*) FROM staff_user WHERE username = 'fuzz-target'")):
            make_user(session, "analyst", username="fuzz-target")  # whom fuzzed logins and user edits may hit

    def relogin() -> None:
        log_in(staff, username)

    relogin()
    return anonymous, staff, relogin


def iter_runs(
    app: Flask,
    database: Any,
    cases_public: int,
    cases_staff: int,
    seconds: float | None,
    only: str | None,
    part: tuple[int, int] = (1, 1),
    staff_seconds: float | None = None,
    skip: Collection[str] = (),
) -> Iterator[tuple[Endpoint, str, Tally]]:
    """Each endpoint's tally: public ones anonymously, staff-only ones as an administrator.

    ``part`` (i, n) takes every n-th endpoint from the i-th, so that n processes share the work.
    """
    anonymous, staff, relogin = _clients(app, database)
    with database.session() as session:
        plausible = plausible_paths(session)
    for index, endpoint in enumerate(endpoints(app)):
        if (only and not endpoint.rule.rule.startswith(only)) or index % part[1] != part[0] - 1:
            continue
        if endpoint.name in skip:
            continue
        if endpoint.public:
            yield endpoint, "anonymous", run_endpoint(anonymous, endpoint, plausible, cases_public, seconds)
        else:
            yield (
                endpoint,
                "administrator",
                run_endpoint(staff, endpoint, plausible, cases_staff, staff_seconds, relogin),
            )


def main() -> None:
    from bench.common import RESULTS_DIR

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=10_000, help="cases per public endpoint (default 10,000)")
    parser.add_argument("--staff-cases", type=int, default=1_000, help="cases per staff-only endpoint (default 1,000)")
    parser.add_argument("--seconds", type=float, default=None, help="at most this long per public endpoint")
    parser.add_argument("--staff-seconds", type=float, default=None, help="at most this long per staff-only endpoint")
    parser.add_argument("--only", default=None, help="only routes starting with this prefix")
    parser.add_argument("--part", default="1/1", help="i/n: this process's share of the endpoints (default 1/1)")
    parser.add_argument("--name", default="fuzz", help="results file name (default fuzz)")
    parser.add_argument("--merge", nargs="+", metavar="NAME", help="only merge these results files into --name")
    parser.add_argument(
        "--resume", action="store_true", help="keep the endpoints already in --name's results; run only the others"
    )
    args = parser.parse_args()
    if args.merge:
        merged = {
            (row["endpoint"], row["as"]): row  # a later file's run of an endpoint replaces an earlier one's
            for name in args.merge
            for row in json.loads((RESULTS_DIR / f"{name}.json").read_text())["endpoints"]
        }
        _write(RESULTS_DIR, args.name, sorted(merged.values(), key=lambda r: r["endpoint"]), args)
        return
    app, database = _bench_app()
    logging.getLogger("flask_wtf.csrf").setLevel(logging.WARNING)  # each refused form would print a line
    index, _, count = args.part.partition("/")
    if not (index.isdigit() and count.isdigit() and 1 <= int(index) <= int(count)):
        parser.error(f"--part {args.part!r}: give i/n with 1 <= i <= n, such as 2/4")
    part = (int(index), int(count))
    previous = RESULTS_DIR / f"{args.name}.json"
    rows = json.loads(previous.read_text())["endpoints"] if args.resume and previous.exists() else []
    done = {row["endpoint"] for row in rows}
    commit = _commit()
    for endpoint, identity, tally in iter_runs(
        app, database, args.cases, args.staff_cases, args.seconds, args.only, part, args.staff_seconds, skip=done
    ):
        rows.append(
            {
                "endpoint": endpoint.name,
                "public": endpoint.public,
                "as": identity,
                "commit": commit,
                **dataclasses.asdict(tally),
            }
        )
        print(
            f"{endpoint.name:60} {identity:13} {tally.cases:7,} cases {tally.server_errors:5} 5xx "
            f"{tally.seconds:7.1f} s {dict(sorted(tally.statuses.items()))}",
            flush=True,
        )
        _write(RESULTS_DIR, args.name, rows, args)


def _commit() -> str | None:
    """The commit of the code being fuzzed (recorded with each endpoint, since a run may be resumed)."""
    import subprocess

    from core.settings import PROJECT_ROOT

    found = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT_ROOT, capture_output=True, text=True)
    return (found.stdout.strip() or None) if found.returncode == 0 else None


def _write(directory: Any, name: str, rows: list[dict], args: argparse.Namespace) -> None:
    from bench.common import write_results

    public = [r for r in rows if r["public"]]
    results = {
        "cases_per_public_endpoint": args.cases,
        "cases_per_staff_endpoint": args.staff_cases,
        "seconds_per_public_endpoint": args.seconds,
        "seconds_per_staff_endpoint": args.staff_seconds,
        "endpoints": rows,
        "total_cases": sum(r["cases"] for r in rows),
        "total_server_errors": sum(r["server_errors"] for r in rows),
    }
    table = [
        (
            f"{r['endpoint']} ({r['as']}{', at ' + r['commit'] if r.get('commit') else ''})",
            f"{r['cases']:,} cases, {r['server_errors']} server errors",
            "0 server errors",
            f"{r['seconds']} s",
        )
        for r in rows
    ]
    table.append(
        (
            "all public endpoints",
            f"{sum(r['cases'] for r in public):,} cases, {sum(r['server_errors'] for r in public)} server errors",
            "0 server errors",
            "",
        )
    )
    write_results(name, results, table)


if __name__ == "__main__":
    main()
