"""The Open311 GeoReport v2 API at /open311/v2/: thin views over :mod:`open311`.

Every method answers in ``.xml`` and ``.json``; errors are the spec's error list in the
same format, with HTTP 400, 403, 404 (and 429 when a rate limit is reached). The
``api_key`` is read from the form body or the query string; POST needs one, GET methods
take one (then the client's own rate limit applies, else the per-address limit).

Every successful GET carries an ETag (a hash of its bytes, so it changes with the content,
the format and the language) and, where known, a Last-Modified of the rows behind it, and
answers 304 Not Modified to ``If-None-Match`` (or, without one, ``If-Modified-Since``); its
Cache-Control follows :data:`core.caching.POLICY` (see :func:`caching`). POSTs and errors
are ``no-store`` and never 304. Answers are gzipped for clients that ask (app/web/compression.py).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, g, request

from app.i18n import languages
from app.web import db_session, runtime
from app.web.access import csrf, public
from app.web.compression import revalidated_gzip_tag
from app.web.media import media_store, uploads
from core.caching import POLICY
from core.i18n import pick_language
from open311 import queries
from open311.clients import authenticate, count_hit
from open311.errors import Open311Error, bad_request, forbidden, not_found
from open311.openapi import openapi_document
from open311.params import (
    IGNORED,
    check_jurisdiction,
    parse_extensions,
    parse_format,
    parse_request_query,
    parse_update_query,
)
from open311.serialize import to_json, to_xml
from open311.submit import submit
from open311.updates import ROOT, find_updates, post_update
from service_requests.catalogue_db import active_services

PREFIX = "/open311/v2"
bp = Blueprint("open311", __name__, url_prefix=PREFIX)
csrf.exempt(bp)  # no cookies authenticate these calls: clients send api_key

#: Without a charset: JSON has none (RFC 8259: it is UTF-8), and the XML says its own in its declaration
#: (RFC 7303); the community's open311-validator asks for exactly these types.
_CONTENT_TYPES = {"json": "application/json", "xml": "text/xml"}


def respond(fmt: str, root: str, document: Any, status: int = 200, last_modified: datetime | None = None) -> Response:
    """``document`` as the spec's JSON, or as XML under ``<root>``; ``last_modified``: when what it
    holds last changed (sent unless it lies in the future: a clock ahead of this one)."""
    body = to_json(document) if fmt == "json" else to_xml(root, document)
    response = Response(body, status=status, content_type=_CONTENT_TYPES[fmt])
    if last_modified is not None and last_modified <= datetime.now(UTC):
        response.last_modified = last_modified
    return response


def error_document(status: int, *descriptions: str, fmt: str | None = None) -> Response:
    """The spec's error list (``[{code, description}]`` / ``<errors><error>``) with ``status``."""
    fmt = fmt or _path_format()
    if status == 404 and request.url_rule is None:  # no such method at all
        descriptions = (f"There is no {request.path[:120]!r}: see {PREFIX}/discovery.xml for the methods.",)
    errors = [{"code": str(status), "description": d} for d in descriptions]
    response = respond(fmt, "errors", errors, status)
    response.cache_control.no_store = True
    if status == 429:
        rate = g.get("open311_rate")
        response.headers["Retry-After"] = str(rate.reset_in_s if rate else 60)
    return response


def _path_format() -> str:
    """The format the URL asks for; XML (the spec's required format) when it names none we serve."""
    view_format = (request.view_args or {}).get("fmt")
    if view_format in _CONTENT_TYPES:
        return view_format
    return "json" if request.path.endswith(".json") else "xml"


def _accepted_jurisdictions() -> tuple[str, ...]:
    city = runtime().city
    return (city.open311.jurisdiction_id, city.key)


def _api_key() -> str | None:
    given = [v for v in request.values.getlist("api_key") if v != ""]
    if len(set(given)) > 1:
        raise Open311Error(400, "api_key was given more than once with different values; send one key.")
    return given[0] if given else None


#: The bodies GeoReport v2 POSTs are sent as (the spec's form, and multipart for media).
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
#: What a browser client may send across origins (CORS preflight answers).
CORS_METHODS = "GET, POST, OPTIONS"
CORS_HEADERS = "Content-Type, Idempotency-Key, If-None-Match, If-Modified-Since"
#: What a browser client may read of an answer besides the simple headers (the arguments not applied, the limits).
CORS_EXPOSED = "Warning, X-RateLimit-Limit, X-RateLimit-Remaining, Retry-After"


@bp.before_request
def check_body() -> None:
    """A POST is a form (the spec's arguments are form fields), not JSON, or a 415 says so.

    (Text that is not UTF-8 is refused for every route: :func:`app.web.errors.register`.)
    """
    has_body = bool(request.content_length) or request.headers.get("Transfer-Encoding") == "chunked"
    if request.method == "POST" and has_body and request.mimetype not in FORM_TYPES:
        raise Open311Error(
            415,
            f"A POST is sent as a form (Content-Type {' or '.join(FORM_TYPES)}), "
            f"not {request.mimetype or 'without a Content-Type'}: the spec's arguments are form fields.",
        )


@bp.before_request
def check_key_and_rate() -> None:
    """The api_key (required to POST requests) and the rate limit of the key or of the client address."""
    s = runtime()
    session = db_session()
    key = _api_key()
    if key is not None:
        client = authenticate(session, s.city.key, key)
        g.open311_client = client
        bucket, limit = f"key:{client.id}", client.per_minute
    elif request.method == "POST" and request.endpoint in ("open311.create_request", "open311.post_updates"):
        raise forbidden(
            f"api_key was not provided: {'posting an update' if request.endpoint == 'open311.post_updates' else 'filing a request'} "
            "needs the key the city issued to your application (in the form body or the query string)."
        )
    else:
        bucket, limit = f"ip:{request.remote_addr or 'unknown'}", s.settings.open311_keyless_per_minute
    g.open311_rate = count_hit(session, bucket, limit)
    if not g.open311_rate.allowed:
        raise Open311Error(
            429,
            f"Rate limit reached: at most {limit:,} requests a minute "
            f"{'for this api_key' if key else 'from one address without an api_key'}; "
            f"try again in {g.open311_rate.reset_in_s} s.",
        )


#: The GETs of the catalogue: it changes when the city edits its services, seldom.
CATALOGUE_ENDPOINTS = frozenset(
    {"open311.discovery", "open311.service_list", "open311.service_definition", "open311.openapi"}
)


def caching(response: Response) -> Response:
    """ETag, 304 Not Modified and Cache-Control of an answer.

    A successful GET gets an ETag of its bytes and is answered 304 when the client holds it
    (werkzeug's conditional request: weak comparison of If-None-Match, ``*`` and lists; else
    If-Modified-Since against Last-Modified). Cache-Control: the catalogue is ``public`` for
    ``POLICY.open311_catalogue_max_age`` seconds; requests, updates and tokens are
    ``no-cache``: they change by the minute, so a client that polls revalidates every time
    and is answered a bodiless 304 while nothing changed; an answer to a call with an api_key
    (its rate-limit figures are the key's) and a token's are ``private``. Anything else (a
    POST, an error, a preflight) is ``no-store``, without an ETag.
    """
    if request.method not in ("GET", "HEAD") or not 200 <= response.status_code < 300:
        response.headers.pop("ETag", None)
        response.cache_control.no_store = True
        return response
    response.add_etag()
    revalidated_gzip_tag(response)
    control = response.cache_control
    if g.get("open311_client") is not None or request.endpoint == "open311.token":
        control.private = True
        control.no_cache = True
    elif request.endpoint in CATALOGUE_ENDPOINTS:
        control.public = True
        control.max_age = POLICY.open311_catalogue_max_age
    else:
        control.public = True
        control.no_cache = True
    response.make_conditional(request)
    return response


@bp.after_request
def headers(response: Response) -> Response:
    """Caching (:func:`caching`), rate-limit figures, and CORS for browser clients (the data is public;
    POST needs a key anyway)."""
    caching(response)
    rate = g.get("open311_rate")
    if rate is not None:
        response.headers["X-RateLimit-Limit"] = str(rate.limit)
        response.headers["X-RateLimit-Remaining"] = str(rate.remaining)
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = CORS_EXPOSED
    if request.method == "OPTIONS":  # a browser's preflight: what it may send
        response.headers["Access-Control-Allow-Methods"] = CORS_METHODS
        response.headers["Access-Control-Allow-Headers"] = CORS_HEADERS
        response.headers["Access-Control-Max-Age"] = "86400"
    return response


@bp.errorhandler(Open311Error)
def open311_error(exc: Open311Error) -> Response:
    db_session().rollback()
    return error_document(exc.status, *(e.description for e in exc.errors))


@bp.get("/discovery.<fmt>")
@public  # API keys and rate limits are checked by check_key_and_rate
def discovery(fmt: str) -> Response:
    """Service discovery: the endpoint, its formats, where to get a key."""
    fmt = parse_format(fmt)
    check_jurisdiction(request.args, _accepted_jurisdictions())
    s = runtime()
    session = db_session()
    document = queries.discovery(
        session, s.city, request.url_root.rstrip("/") + PREFIX, production=s.settings.env == "production"
    )
    return respond(fmt, "discovery", document, last_modified=queries.api_changed_at(session, s.city))


def _language() -> str:
    """The language of the answer: the ``locale`` argument ("es", "es-MX", "es_MX"), else the best match of
    ``Accept-Language``, among the languages offered, else the city's default; an unknown ``locale`` is refused."""
    offered = languages()
    asked = request.args.get("locale")
    if asked is not None:
        code = asked.strip().replace("-", "_")
        for candidate in (code, code.split("_")[0].lower()):
            if candidate in offered:
                return candidate
        raise bad_request(f"locale {asked[:20]!r} is not offered; use one of: {', '.join(offered)} (or leave it out).")
    return pick_language(request.accept_languages.best_match(offered), offered)


def _in_language(response: Response, language: str) -> Response:
    response.headers["Content-Language"] = language
    response.vary.add("Accept-Language")
    return response


@bp.get("/services.<fmt>")
@public  # API keys and rate limits are checked by check_key_and_rate
def service_list(fmt: str) -> Response:
    """GET Service List, in the language of ``locale`` or ``Accept-Language`` where the catalogue is translated."""
    fmt = parse_format(fmt)
    check_jurisdiction(request.args, _accepted_jurisdictions())
    language = _language()
    session, city = db_session(), runtime().city
    document = queries.services(session, city, language)
    changed = queries.catalogue_changed_at(session, city)
    return _in_language(respond(fmt, "services", document, last_modified=changed), language)


@bp.get("/services/<service_code>.<fmt>")
@public  # API keys and rate limits are checked by check_key_and_rate
def service_definition(service_code: str, fmt: str) -> Response:
    """GET Service Definition, in the language of ``locale`` or ``Accept-Language`` where translated."""
    fmt = parse_format(fmt)
    check_jurisdiction(request.args, _accepted_jurisdictions())
    language = _language()
    session, city = db_session(), runtime().city
    definition = queries.service_definition(session, city, service_code, language)
    if definition is None:
        raise not_found(f"service_code {service_code[:64]!r} was not found: see services.{fmt} for the codes.")
    changed = queries.catalogue_changed_at(session, city)
    return _in_language(respond(fmt, "service_definition", definition, last_modified=changed), language)


@bp.post("/requests.<fmt>")
@public  # API keys and rate limits are checked by check_key_and_rate
def create_request(fmt: str) -> Response:
    """POST Service Request: through the same intake as the web forms."""
    fmt = parse_format(fmt)
    values = request.values  # form body first? both: the spec sends a form; some clients use the query string
    check_jurisdiction(values, _accepted_jurisdictions())
    s = runtime()
    submitted = submit(
        db_session(),
        s.city,
        s.validator,
        g.open311_client,
        values,
        idempotency_key=request.headers.get("Idempotency-Key") or None,
        photos=uploads("media"),
        media=media_store(),
        language=_language(),
    )
    return respond(
        fmt,
        "service_requests",
        [
            {
                "service_request_id": submitted.service_request_id,
                "service_notice": submitted.service_notice,
                "account_id": submitted.account_id,
            }
        ],
    )


@bp.get("/requests.<fmt>")
@public  # API keys and rate limits are checked by check_key_and_rate
def request_list(fmt: str) -> Response:
    """GET Service Requests (with page, page_size, bbox, lat/long/radius, q, updated_after/before and
    extensions); other servers' arguments this one does not take get a ``Warning`` (RFC 7234, 299) each."""
    fmt = parse_format(fmt)
    check_jurisdiction(request.args, _accepted_jurisdictions())
    city = runtime().city
    query = parse_request_query(request.args, city.tz)
    session = db_session()
    found = queries.find_requests(session, city, query, _media_base())
    # Not the latest of the rows shown: a page also changes when a request leaves it (closed,
    # under a status filter) or a new one pushes the rows down; any such change is an update.
    response = respond(fmt, "service_requests", found, last_modified=queries.requests_changed_at(session, city))
    for name in query.ignored:  # a peer's argument: answered as without it, and said so
        response.headers.add("Warning", f'299 - "{IGNORED[name]}"')
    return response


@bp.get("/requests/<service_request_id>.<fmt>")
@public  # API keys and rate limits are checked by check_key_and_rate
def request_detail(service_request_id: str, fmt: str) -> Response:
    """GET Service Request: an array of one."""
    fmt = parse_format(fmt)
    check_jurisdiction(request.args, _accepted_jurisdictions())
    found = queries.get_request(
        db_session(), runtime().city, service_request_id, parse_extensions(request.args), _media_base()
    )
    if found is None:
        raise not_found(f"service_request_id {service_request_id[:64]!r} was not found.")
    return respond(fmt, "service_requests", [found], last_modified=queries.latest_published([found]))


def _media_base() -> str:
    """The absolute URL photos are served under (``media_url`` of a request with a public photo)."""
    return f"{request.url_root}media/"


@bp.get("/tokens/<token>.<fmt>")
@public  # API keys and rate limits are checked by check_key_and_rate
def token(token: str, fmt: str) -> Response:
    """GET service_request_id from a token."""
    fmt = parse_format(fmt)
    check_jurisdiction(request.args, _accepted_jurisdictions())
    found = queries.resolve_token(db_session(), runtime().city, token)
    if found is None:
        raise not_found(f"token {token[:64]!r} was not found.")
    answer, since = found
    return respond(fmt, "service_requests", [answer], last_modified=since)


@bp.get("/openapi.json")
@public  # API keys and rate limits are checked by check_key_and_rate
def openapi() -> Response:
    """The OpenAPI 3 document of this API, with this city's services and questions."""
    city, session = runtime().city, db_session()
    document = openapi_document(city, active_services(session, city.key))
    return respond("json", "openapi", document, last_modified=queries.api_changed_at(session, city))


@bp.get("/servicerequestupdates.<fmt>")
@public  # API keys and rate limits are checked by check_key_and_rate
def list_updates(fmt: str) -> Response:
    """GET servicerequestupdates (mySociety's extension): the public updates in a window, oldest first."""
    fmt = parse_format(fmt)
    check_jurisdiction(request.args, _accepted_jurisdictions())
    city = runtime().city
    query = parse_update_query(request.args, city.tz)
    found = find_updates(db_session(), city, query)
    # Updates are listed oldest first and only ever added, stamped with the time they are
    # written: a page changes only by gaining later ones, so the latest of its rows is when it
    # last changed (to the second of an HTTP date; the ETag is exact).
    return respond(fmt, ROOT, found, last_modified=queries.latest_published(found))


@bp.post("/servicerequestupdates.<fmt>")
@public  # API keys and rate limits are checked by check_key_and_rate
def post_updates(fmt: str) -> Response:
    """POST servicerequestupdates: a client's comment or status change, idempotent on its update_id."""
    fmt = parse_format(fmt)
    values = request.values
    check_jurisdiction(values, _accepted_jurisdictions())
    posted = post_update(db_session(), runtime().city, g.open311_client, values)
    return respond(fmt, ROOT, [{"update_id": posted.update_id}])
