"""The health endpoint: is the database there, with PostGIS and the current schema?"""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.web import db_session, runtime
from app.web.access import public
from core.database import current_revision, head_revision
from core.errors import DatabaseUnavailable

log = logging.getLogger(__name__)

bp = Blueprint("health", __name__)


@bp.get("/health")
@public
def health():
    """200 with the database's facts when it can serve; 503 with the reason when not."""
    city = runtime().city.key
    try:
        session = db_session()
        postgis = session.execute(text("SELECT postgis_lib_version()")).scalar()
        revision = current_revision(session.connection())
    except (SQLAlchemyError, DatabaseUnavailable) as exc:
        # The cause names folders and server log lines: for the server log, not for anyone who asks.
        log.error("health: the database is unreachable: %s", exc)
        return jsonify(
            status="unavailable",
            city=city,
            database="unreachable",
            detail="the database cannot be reached; the server log says why",
        ), 503
    expected = head_revision()
    if revision != expected:
        return jsonify(
            status="unavailable",
            city=city,
            database="ok",
            postgis=postgis,
            schema=revision,
            detail=f"the schema is at {revision}, the code expects {expected}: run `flask db upgrade`",
        ), 503
    return jsonify(status="ok", city=city, database="ok", postgis=postgis, schema=revision)
