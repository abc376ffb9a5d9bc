"""Performance reports: the Summary of Performance, breakouts, top services, backlog aging,
service-level compliance, the public monthly report, and their exports. Thin views over
:mod:`geo.reports`; every figure links to the requests behind it (/maps/requests).
The figures are read through :func:`~app.web.read_session`: the replica when one is usable.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pandas as pd
from flask import Blueprint, Response, abort, request, url_for
from flask_babel import gettext
from sqlalchemy import text

from accounts.scope import within_scope
from app.i18n import error_words
from app.web import filtering, read_session, runtime
from app.web.access import public, requires, staff_user
from app.web.charts import column_chart, hbar_chart
from app.web.times import date_words
from core import spreadsheets
from core.i18n import N_
from geo import exports, reports
from geo.dimensions import DIMENSIONS
from geo.periods import PERIODS
from service_requests.selection import (
    EARLIEST_DATE,
    FilterChoices,
    FilterError,
    RequestFilter,
    parse_month,
)

bp = Blueprint("reports", __name__, url_prefix="/reports")

TABLE_FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
REQUEST_FORMATS = {**exports.FORMATS, "csv": "text/csv; charset=utf-8"}
#: Every breakout page, key -> label: the dimensions, then the periods (:mod:`geo.dimensions`, :mod:`geo.periods`).
BREAKOUTS = {**{k: d.label for k, d in DIMENSIONS.items()}, **reports.PERIODS}
#: The report tabs, (key, label): every dimension, then the periods that have a tab.
TABS = [*((k, d.label) for k, d in DIMENSIONS.items()), *((k, p.label) for k, p in PERIODS.items() if p.tab)]
#: The ``by`` each exported table takes (the first is its default; the summary takes none).
TABLE_BREAKOUTS: dict[str, tuple[str, ...]] = {
    "summary": (),
    "breakout": tuple(BREAKOUTS),
    "top": tuple(k for k, d in DIMENSIONS.items() if d.top),
    "backlog": tuple(DIMENSIONS),
    "compliance": ("department", *(k for k in DIMENSIONS if k != "department")),
    "compliance-service": ("service", *(k for k in DIMENSIONS if k != "service")),
}


# --- reading the query string -------------------------------------------------------------


#: The scope the reports count when the query string names none: all but requests known to be outside the city.
SCOPE = "city"


def _filter(choices: FilterChoices) -> RequestFilter:
    """The report's filter (scope :data:`SCOPE` unless another is asked); 400 if refused."""
    return filtering.read_filter(choices, default_scope=SCOPE)


def _query(flt: RequestFilter, **extra: object) -> str:
    """``?...`` of the filter (scope :data:`SCOPE` left out), ``distinct`` and ``extra``."""
    return filtering.query(flt, default_scope=SCOPE, distinct=1 if filtering.flag("distinct") else None, **extra)


def _records(frame: pd.DataFrame) -> list[dict]:
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


def _series(row: pd.Series) -> dict:
    return {k: (None if pd.isna(v) else v) for k, v in row.items()}


def _page(template: str, **context: object) -> str:
    return filtering.render_page(
        template,
        breakouts=BREAKOUTS,
        report_tabs=TABS,
        definitions=DEFINITIONS,
        **context,
    )


#: The terms of the reports and what they count (msgids: the monthly report shows them in its language).
DEFINITIONS = [
    (
        N_("Requests"),
        N_(
            "every request received, including duplicates; requests known to be outside the city are "
            "not counted; requests without a location are counted."
        ),
    ),
    (N_("Distinct problems"), N_("requests not marked as a duplicate of another request.")),
    (
        N_("Open, closed, cancelled"),
        N_(
            "each request is in exactly one: closed means closed in any way except "
            "cancelled (fixed, duplicate, not our responsibility, referred to another agency)."
        ),
    ),
    (N_("Days to close"), N_("the time from the request to its closing, in days, for closed requests.")),
    (
        N_("Within the service level"),
        N_(
            "closed requests closed by the due date promised when they were made, "
            "as a share of closed requests that had a due date."
        ),
    ),
    (N_("Overdue"), N_("open requests past their due date today.")),
    (N_("Dates"), N_("local dates of the city's time zone, on the day each request was made.")),
]


# --- staff pages ----------------------------------------------------------------------------


@bp.get("/")
@requires("reports.view")
def index():
    """The Summary of Performance for the filter, with this year so far against last year."""
    s = runtime()
    session = read_session()
    choices = filtering.choices()
    flt = _filter(choices)
    distinct = filtering.flag("distinct")
    figures = _series(reports.summary(session, s.city, flt, distinct=distinct))
    ytds = [("This year so far", reports.year_to_date(session, s.city, flt, distinct=distinct))]
    if s.city.reports.fiscal_year_start_month != 1:
        ytds.append(
            ("This fiscal year so far", reports.year_to_date(session, s.city, flt, fiscal=True, distinct=distinct))
        )
    months = reports.breakout(session, s.city, flt, "month", distinct=distinct, medians=False).tail(
        24
    )  # a chart of counts
    return _page(
        "reports_index.html",
        flt=flt,
        choices=choices,
        figures=figures,
        distinct=distinct,
        ytds=[
            {
                "title": title,
                "start": ytd.start,
                "end": ytd.end,
                "current": _series(ytd.current),
                "previous": _series(ytd.previous),
                "change": ytd.change(),
            }
            for title, ytd in ytds
        ],
        chart=column_chart(
            "Requests per month", months["label"].astype(str).str[:3].tolist(), months["requests"].tolist()
        ),
        urls={
            "all": filtering.list_url(flt),
            "open": filtering.list_url(flt, status="open"),
            "closed": filtering.list_url(flt, status="closed"),
            "cancelled": filtering.list_url(flt, status="cancelled"),
            "overdue": filtering.list_url(flt, overdue=True),
        },
        description=flt.describe(choices),
        query=_query(flt),
        exports={fmt: url_for("reports.export_table", what="summary", fmt=fmt) + _query(flt) for fmt in TABLE_FORMATS},
        request_exports={fmt: url_for("reports.export_requests", fmt=fmt) + _query(flt) for fmt in REQUEST_FORMATS},
    )


@bp.get("/by/<by>")
@requires("reports.view")
def breakout_page(by: str):
    """The summary figures per department, service, group, ward, district, channel or period."""
    if by not in BREAKOUTS:
        abort(404, f"There is no breakout by {by!r}; try {', '.join(BREAKOUTS)}.")
    s = runtime()
    session = read_session()
    choices = filtering.choices()
    flt = _filter(choices)
    distinct = filtering.flag("distinct")
    table = reports.breakout(session, s.city, flt, by, distinct=distinct, choices=choices)
    is_period = by in reports.PERIODS
    yoy = None
    if by in ("week", "month", "quarter"):
        yoy = reports.with_year_before(table, by)["requests_year_before"].tolist()
    rows = []
    for i, row in enumerate(_records(table)):
        if is_period:
            end = reports.next_period_start(row["key"], by, s.city.reports.fiscal_year_start_month) - timedelta(days=1)
            part: RequestFilter | None = flt.replace(
                date_from=max(row["key"], flt.date_from or row["key"]), date_to=min(end, flt.date_to or end)
            )
        else:
            dim = DIMENSIONS[by]
            part = flt.replace(**{dim.filter_field: dim.filter_value(row["key"])}) if row["key"] else None
        rows.append(
            {
                **row,
                "year_before": yoy[i] if yoy else None,
                "list_url": filtering.list_url(part) if part else None,
                "open_url": filtering.list_url(part, status="open") if part else None,
            }
        )
    shown = table if is_period else table.head(25)
    chart = (
        column_chart(f"Requests by {BREAKOUTS[by].lower()}", shown["label"].tolist(), shown["requests"].tolist())
        if is_period
        else hbar_chart(
            f"Requests by {BREAKOUTS[by].lower()} (the {len(shown)} largest)",
            shown["label"].tolist(),
            shown["requests"].tolist(),
            [r["list_url"] for r in rows[: len(shown)]],
        )
    )
    return _page(
        "reports_breakout.html",
        by=by,
        by_label=BREAKOUTS[by],
        flt=flt,
        choices=choices,
        rows=rows,
        is_period=is_period,
        has_yoy=yoy is not None,
        chart=chart,
        distinct=distinct,
        description=flt.describe(choices),
        query=_query(flt),
        exports={
            fmt: url_for("reports.export_table", what="breakout", fmt=fmt) + _query(flt, by=by) for fmt in TABLE_FORMATS
        },
    )


@bp.get("/top")
@requires("reports.view")
def top_page():
    """The top 10 services overall and in each ward."""
    s = runtime()
    session = read_session()
    choices = filtering.choices()
    flt = _filter(choices)
    distinct = filtering.flag("distinct")
    top = _records(reports.top_services(session, s.city, flt, distinct=distinct, choices=choices))
    for row in top:
        row["url"] = filtering.list_url(flt, services=(row["service_code"],))
    per_ward = reports.top_services(session, s.city, flt, per="ward", distinct=distinct, choices=choices)
    wards = []
    for area, part in per_ward.groupby("area", sort=False):
        wards.append(
            {
                "key": area,
                "label": part["area_label"].iloc[0],
                "rows": [
                    {**r, "url": filtering.list_url(flt, ward=area, services=(r["service_code"],))}
                    for r in _records(part)
                ],
            }
        )
    return _page(
        "reports_top.html",
        flt=flt,
        choices=choices,
        top=top,
        wards=wards,
        distinct=distinct,
        chart=hbar_chart(
            "Top 10 services", [r["service_name"] for r in top], [r["requests"] for r in top], [r["url"] for r in top]
        ),
        description=flt.describe(choices),
        query=_query(flt),
        exports={fmt: url_for("reports.export_table", what="top", fmt=fmt) + _query(flt) for fmt in TABLE_FORMATS},
        ward_exports={
            fmt: url_for("reports.export_table", what="top", fmt=fmt) + _query(flt, by="ward") for fmt in TABLE_FORMATS
        },
    )


@bp.get("/backlog")
@requires("reports.view")
def backlog_page():
    """Backlog aging per department, and service-level compliance by department and by service."""
    s = runtime()
    session = read_session()
    choices = filtering.choices()
    flt = _filter(choices)
    distinct = filtering.flag("distinct")
    aging = reports.backlog_aging(session, s.city, flt, distinct=distinct, choices=choices)
    bands = [b[0] for b in reports.AGE_BANDS]
    aging_rows = [
        {**r, "url": filtering.list_url(flt.replace(department=r["key"]), status="open") if r["key"] else None}
        for r in _records(aging)
    ]
    tables = {
        by: reports.compliance(session, s.city, flt, by, distinct=distinct, choices=choices)
        for by in ("department", "service")
    }
    compliance = {by: _records(table) for by, table in tables.items()}
    totals = aging[bands].sum()
    # Compliance is measured against the city's own due dates where its history gave them: say which.
    description = f"{flt.describe(choices)}; compliance against {tables['department'].attrs['due_dates']}"
    return _page(
        "reports_backlog.html",
        flt=flt,
        choices=choices,
        bands=bands,
        aging=aging_rows,
        compliance=compliance,
        distinct=distinct,
        description=description,
        query=_query(flt),
        chart=hbar_chart("Open requests by age", bands, totals.tolist()),
        exports={
            what: {
                fmt: url_for("reports.export_table", what=what, fmt=fmt) + _query(flt, by=by) for fmt in TABLE_FORMATS
            }
            for what, by in (("backlog", None), ("compliance", "department"), ("compliance-service", "service"))
        },
    )


# --- the public monthly report ----------------------------------------------------------------


def _month_arg(session, city) -> date:  # noqa: ANN001
    value = request.args.get("month", "").strip()
    if value:
        try:
            return parse_month("month", value)
        except FilterError as exc:
            abort(400, error_words(exc))  # the public report: in the page's language
    this_month = datetime.now(city.tz).date().replace(day=1)
    latest = session.execute(
        text(
            "SELECT max((requested_at AT TIME ZONE :tz)::date) FROM service_request "
            "WHERE city = :city AND requested_at < :before"
        ),
        {"tz": city.timezone, "city": city.key, "before": datetime.combine(this_month, datetime.min.time(), city.tz)},
    ).scalar()
    return (latest or this_month - timedelta(days=1)).replace(day=1)


@bp.get("/monthly")
@public
def monthly():
    """The monthly report for council and the public: the same layout every month, printable,
    counts only (no personal data, nothing finer than a ward)."""
    s = runtime()
    session = read_session()
    choices = filtering.choices()
    month = _month_arg(session, s.city)
    end = reports.next_period_start(month, "month", 1) - timedelta(days=1)
    flt = RequestFilter(date_from=month, date_to=end, scope="city")
    figures = _series(reports.summary(session, s.city, flt))
    year_start = max(reports.next_period_start(month, "month", 1).replace(year=month.year - 1), EARLIEST_DATE)
    trend = reports.breakout(
        session, s.city, RequestFilter(date_from=year_start, date_to=end, scope="city"), "month", medians=False
    )
    departments = reports.breakout(session, s.city, flt, "department", choices=choices)
    wards = reports.breakout(session, s.city, flt, "ward", choices=choices)
    top = reports.top_services(session, s.city, flt, choices=choices)
    channels = reports.breakout(session, s.city, flt, "channel", medians=False)
    return _page(
        "reports_monthly.html",
        month=month,
        end=end,
        figures=figures,
        trend=column_chart(
            gettext("Requests per month, the last 12 months"),
            [date_words(k, "MMM yy") for k in trend["key"]],
            trend["requests"].tolist(),
        ),
        departments=_records(departments),
        wards=_records(wards),
        top=_records(top),
        channel_chart=hbar_chart(
            gettext("Requests by how they were made"),
            [gettext(label) for label in channels["label"]],  # the nine of old are msgids; a city's own stay
            channels["requests"].tolist(),
        ),
        ward_label=s.city.ward_layer.label if s.city.ward_layer else gettext("Ward"),
        previous_month=(month - timedelta(days=1)).replace(day=1),
        next_month=reports.next_period_start(month, "month", 1),
    )


# --- exports ------------------------------------------------------------------------------------


def _table_by(what: str) -> str | None:
    """The validated ``by`` of an exported table (None: none given); 404 for no such table, 400 for a ``by`` it lacks."""
    if what not in TABLE_BREAKOUTS:
        abort(404, f"There is no table {what[:40]!r}; try {', '.join(TABLE_BREAKOUTS)}.")
    by = request.args.get("by") or None
    allowed = TABLE_BREAKOUTS[what]
    if by is not None and by not in allowed:
        abort(
            400,
            f"The {what} table takes no by=; leave it out."
            if not allowed
            else f"by must be one of {', '.join(allowed)} for the {what} table, not {by[:40]!r}.",
        )
    return by


def _table(what: str, flt: RequestFilter, choices: FilterChoices, by: str | None) -> pd.DataFrame:
    s = runtime()
    session = read_session()
    distinct = filtering.flag("distinct")
    try:
        if what == "summary":
            row = reports.summary(session, s.city, flt, distinct=distinct)
            return pd.DataFrame(
                {"figure": [reports.SUMMARY_COLUMNS.get(k, k) for k in row.index], "value": row.to_numpy()}
            )
        if what == "breakout":
            if by is None:
                abort(400, f"The breakout table needs by=, one of {', '.join(BREAKOUTS)}.")
            return reports.breakout(session, s.city, flt, by, distinct=distinct, choices=choices)
        if what == "top":
            return reports.top_services(session, s.city, flt, per=by, distinct=distinct, choices=choices)
        if what == "backlog":
            return reports.backlog_aging(session, s.city, flt, by or "department", distinct=distinct, choices=choices)
        if what in ("compliance", "compliance-service"):
            return reports.compliance(
                session,
                s.city,
                flt,
                by or ("service" if what.endswith("service") else "department"),
                distinct=distinct,
                choices=choices,
            )
    except FilterError as exc:
        abort(400, str(exc))
    abort(404, f"There is no table {what!r}; try summary, breakout, top, backlog or compliance.")


@bp.get("/export/<what>.<fmt>")
@requires("reports.view")
def export_table(what: str, fmt: str):
    """A report table as CSV or Excel (.xlsx), with the filter and definitions in the file name / a sheet."""
    if fmt not in TABLE_FORMATS:
        abort(404, f"Tables are exported as {' or '.join(TABLE_FORMATS)}, not {fmt!r}.")
    by = _table_by(what)
    choices = filtering.choices()
    flt = _filter(choices)
    frame = _table(what, flt, choices, by)
    s = runtime()
    stamp = datetime.now(UTC).strftime("%Y%m%d")
    name = f"{s.city.key}-report-{what}{'-' + by if by else ''}-{stamp}.{fmt}"  # by: one of TABLE_BREAKOUTS
    if fmt == "csv":
        body = spreadsheets.csv_bytes(frame)
    else:
        about = pd.DataFrame(
            {
                "item": ["City", "Requests", "Distinct problems only", *[d[0] for d in DEFINITIONS]],
                "value": [
                    s.city.name,
                    flt.describe(choices),
                    "yes" if filtering.flag("distinct") else "no",
                    *[d[1] for d in DEFINITIONS],
                ],
            }
        )
        body = spreadsheets.xlsx_bytes({"figures": frame, "about": about})
    return Response(
        body, mimetype=TABLE_FORMATS[fmt], headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@bp.get("/requests.<fmt>")
@requires("data.export")
def export_requests(fmt: str):
    """The requests behind a figure, within the user's scope: GeoJSON, GeoPackage or CSV with coordinates."""
    if fmt not in REQUEST_FORMATS:
        abort(404, f"Requests are exported as {', '.join(REQUEST_FORMATS)}, not {fmt!r}.")
    s = runtime()
    choices = filtering.choices()
    flt = within_scope(staff_user(), _filter(choices))
    frame = reports.requests_behind(read_session(), s.city, flt, distinct=filtering.flag("distinct"))
    stamp = datetime.now(UTC).strftime("%Y%m%d")
    name = f"{s.city.key}-report-requests-{stamp}.{fmt}"
    metadata = {
        "city": s.city.name,
        "filter": flt.args(),
        "description": flt.describe(choices),
        "distinct_problems_only": filtering.flag("distinct"),
    }
    if fmt == "csv":
        body = spreadsheets.csv_bytes(pd.DataFrame(frame.drop(columns=frame.geometry.name)))
    elif fmt == "geojson":
        body = exports.to_geojson(frame, metadata)
    else:
        body = exports.to_geopackage(frame, "requests", metadata)
    return Response(
        body, mimetype=REQUEST_FORMATS[fmt], headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )
