"""The work queue of department staff: open requests to sort, filter, page, map and export.

The query is :mod:`service_requests.queue`; this module reads the query string, narrows the
filter to the user's scope (:func:`accounts.scope.within_scope`), and shows names (wards,
districts, assignees) instead of keys. The page, its map points and its CSV share one view.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlencode

import pandas as pd
from flask import Blueprint, Response, flash, redirect, render_template, request, url_for

from accounts.assignees import assignee_names, department_assignees, user_assignee
from accounts.bulk_actions import BULK_ACTIONS, run_bulk, summary
from accounts.saved_views import SavedViewError, delete_view, list_views, save_view
from accounts.scope import within_scope
from app.web import db_session, filtering, runtime
from app.web.access import allowed, client_ip, requires, staff_user
from app.web.tiles import basemap_config
from core.errors import UserError
from core.spreadsheets import csv_bytes
from core.states import CLOSED_STATES, OPEN_STATES, STATE_LABELS
from service_requests.queue import SORTS, QueueView, parse_view, queue_page, queue_rows
from service_requests.selection import FilterError

bp = Blueprint("queue", __name__, url_prefix="/staff/queue")


def _view() -> QueueView:
    """The queue view of the query string, within the user's scope; 400 with the sentence if refused."""
    user = staff_user()
    args = {name: request.args.getlist(name) for name in request.args}
    try:
        view = parse_view(args, filtering.choices(), user_assignee(user.username))
    except FilterError as exc:
        filtering.refuse(exc)
    return QueueView(within_scope(user, view.flt), view.assignee, view.mine, view.sort, view.descending, view.page)


def _url(endpoint: str, view: QueueView, **changes: object) -> str:
    encoded = urlencode(view.args(**changes), doseq=True)
    return url_for(endpoint) + (f"?{encoded}" if encoded else "")


@bp.get("")
@requires("requests.overdue")
def queue():
    """The queue page: a sortable, filterable, paged table of open requests beside a map of the page."""
    session = db_session()
    city = runtime().city
    choices = filtering.choices()
    view = _view()
    page = queue_page(session, city, view, choices)
    department = view.flt.department
    staff = department_assignees(session, city.key, department, city.catalogue.crews) if department else []
    names = assignee_names(session, city.key, [r.assignee for r in page.rows] + [view.assignee], city.catalogue.crews)

    def sort_url(column: str) -> str:
        descending = not view.descending if column == view.sort else False
        return _url("queue.queue", view, sort=column, descending=descending, page=1)

    return render_template(
        "staff_queue.html",
        city=city,
        view=view,
        page=page,
        choices=choices,
        sorts=SORTS,
        sort_url=sort_url,
        page_url=lambda n: _url("queue.queue", view, page=n),
        csv_url=_url("queue.export", view, page=1),
        points_url=_url("queue.points", view),
        staff=staff,
        names=names,
        open_states=OPEN_STATES,
        labels=STATE_LABELS,
        basemap=basemap_config(),
        saved=list_views(session, staff_user()),
        current_query=urlencode(view.args(page=1), doseq=True),
        back_query=urlencode(view.args(), doseq=True),
        may_assign=allowed("requests.reassign"),
        statuses=[s for s in (*OPEN_STATES, *CLOSED_STATES) if s != "duplicate"],
    )


@bp.get("/points.json")
@requires("requests.overdue")
def points():
    """The requests of the queue's current page that have a point, as GeoJSON (for the page's map)."""
    city = runtime().city
    page = queue_page(db_session(), city, _view(), filtering.choices())
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [r.lon, r.lat]},
            "properties": {
                "reference": r.reference,
                "label": r.short_reference or r.reference,
                "service": r.service,
                "url": url_for("staff.request_detail", reference=r.reference),
            },
        }
        for r in page.rows
        if r.lon is not None and r.lat is not None
    ]
    return {"type": "FeatureCollection", "features": features, "unmapped": len(page.rows) - len(features)}


@bp.get("/queue.csv")
@requires("requests.overdue")
def export():
    """Every row of the queue's current view (not only its page) as CSV, formula-safe."""
    session = db_session()
    city = runtime().city
    rows = list(queue_rows(session, city, _view(), filtering.choices()))
    names = assignee_names(session, city.key, [r.assignee for r in rows], city.catalogue.crews)
    tz = city.tz

    def local(value: datetime | None) -> str:
        return value.astimezone(tz).strftime("%Y-%m-%d %H:%M") if value else ""

    frame = pd.DataFrame(
        [
            {
                "reference": r.reference,
                "short_reference": r.short_reference,
                "service": r.service,
                "place": r.place,
                "ward": r.ward,
                "district": r.district,
                "requested": local(r.requested_at),
                "age_days": round(r.age.total_seconds() / 86400, 1),
                "due": local(r.due_at),
                "time_left": r.time_left,
                "late": "yes" if r.late else "no",
                "status": r.status_label,
                "assignee": names.get(r.assignee or "", ""),
                "priority": r.priority or "",
            }
            for r in rows
        ],
        columns=[
            "reference",
            "short_reference",
            "service",
            "place",
            "ward",
            "district",
            "requested",
            "age_days",
            "due",
            "time_left",
            "late",
            "status",
            "assignee",
            "priority",
        ],
    )
    stamp = datetime.now(UTC).astimezone(tz).strftime("%Y%m%d-%H%M")
    return Response(
        csv_bytes(frame),
        mimetype="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="queue-{city.key}-{stamp}.csv"'},
    )


@bp.post("/views")
@requires("requests.overdue")
def save_current_view():
    """Save the queue's current filters and sort under a name (the form's ``name`` and ``query``)."""
    query = request.form.get("query", "")
    try:
        saved = save_view(db_session(), staff_user(), request.form.get("name", ""), query)
    except SavedViewError as exc:
        db_session().rollback()
        flash(str(exc), "error")
        return redirect(url_for("queue.queue") + (f"?{query}" if query else ""), code=303)
    flash(f"Saved the view {saved.name!r}.", "success")
    return redirect(url_for("queue.queue") + (f"?{saved.query}" if saved.query else ""), code=303)


@bp.post("/views/<int:view_id>/delete")
@requires("requests.overdue")
def delete_saved_view(view_id: int):
    """Delete one of the user's saved views."""
    try:
        delete_view(db_session(), staff_user(), view_id)
    except SavedViewError as exc:
        flash(str(exc), "error")
    else:
        flash("Deleted the saved view.", "success")
    return redirect(url_for("queue.queue"), code=303)


#: The form fields a bulk action carries from the queue to its confirmation.
_BULK_FIELDS = ("action", "assignee", "status", "note", "original", "back")


@bp.post("/bulk")
@requires("requests.overdue")
def bulk():
    """A bulk action on the checked rows: first a confirmation page saying what will happen to
    which requests, then (``confirm=1``) the action on each request, with a result per request."""
    form = request.form
    references = form.getlist("ref")
    action = form.get("action", "")
    back = url_for("queue.queue") + (f"?{form.get('back')}" if form.get("back") else "")
    if action not in BULK_ACTIONS or not references:
        flash(
            "Check at least one request and choose what to do with them."
            if action in BULK_ACTIONS or not action
            else f"Choose a bulk action: {', '.join(BULK_ACTIONS)}.",
            "error",
        )
        return redirect(back, code=303)
    if form.get("confirm") != "1":
        session = db_session()
        names = assignee_names(session, runtime().city.key, [form.get("assignee")], runtime().city.catalogue.crews)
        return render_template(
            "staff_queue_confirm.html",
            city=runtime().city,
            action=action,
            references=references,
            fields={name: form.get(name, "") for name in _BULK_FIELDS},
            assignee_name=names.get(form.get("assignee") or "", "nobody"),
            labels=STATE_LABELS,
            back=back,
        )
    try:
        results = run_bulk(
            db_session(),
            staff_user(),
            action,
            references,
            assignee=form.get("assignee") or None,
            crews=runtime().city.catalogue.crews,
            status=form.get("status") or None,
            note=form.get("note") or None,
            original=form.get("original") or None,
            ip=client_ip(),
        )
    except UserError as exc:
        db_session().rollback()
        flash(str(exc), "error")
        return redirect(back, code=303)
    flash(summary(action, results) + ".", "success" if all(r.done for r in results) else "error")
    return redirect(back, code=303)
