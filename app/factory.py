"""The application factory."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, g

from address_db.streets import StreetIndexCache
from address_db.validation import Validator
from boundaries.index import IndexCache
from core.caching import POLICY
from core.city import CityConfig, load_city
from core.database import Database, Replica
from core.i18n import TRANSLATIONS_DIR
from core.settings import Settings


@dataclass
class Runtime:
    """What every view and command needs, built once per application: settings, city, database, indexes.

    ``replica``: the streaming replica that pages which only read may read from (``DATABASE_REPLICA_URL``), or None.
    """

    settings: Settings
    city: CityConfig
    database: Database
    boundary_index: IndexCache
    validator: Validator
    replica: Replica | None = None


def create_app(
    settings: Settings | None = None, database: Database | None = None, translations: Path | None = None
) -> Flask:
    """Build the app from ``settings`` (default: the environment) and its database.

    ``database`` replaces the one the settings name (tests bind it to a transaction);
    ``translations`` the catalogues' folder (tests use a pseudo-translation to find untranslated text).
    """
    settings = settings or Settings.from_env()
    city = load_city(settings.city, settings.cities_dir, settings.data_dir)

    app = Flask(__name__)
    app.config.update(
        # Development without SECRET_KEY gets a per-process key; production refuses to
        # start without one (Settings.check).
        SECRET_KEY=settings.secret_key or secrets.token_hex(32),
        TESTING=settings.env == "test",
        JSON_SORT_KEYS=False,
        # Room for twice the most photos a request takes, each at its largest, and the form: a photo
        # over its limit is then refused by name with everything else kept (service_requests.photos),
        # and only a body far beyond anything allowed is refused whole (app/web/errors.py).
        MAX_CONTENT_LENGTH=max(
            16 * 1024 * 1024, 2 * city.photos.max_per_request * city.photos.max_bytes + 2 * 1024 * 1024
        ),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.session_cookie_secure,
        SESSION_COOKIE_NAME="geo311_session",
        PERMANENT_SESSION_LIFETIME=43200,  # seconds; the staff session itself also ends after 2 idle hours
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session: a long call must not lose its form
    )
    if settings.trusted_proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxies, x_proto=settings.trusted_proxies)  # type: ignore[method-assign]
    POLICY.configure(settings.map_cache_seconds)  # every cache's ages and sizes: core/caching.py
    boundary_index = IndexCache(cities=[city])
    database = database or Database.from_settings(settings)
    app.extensions["geo311"] = Runtime(
        settings=settings,
        city=city,
        database=database,
        boundary_index=boundary_index,
        validator=Validator(
            city.key,
            boundaries=boundary_index,
            streets=StreetIndexCache(),
            settings=city.addresses,
            home_name=city.name,
        ),
        replica=Replica.from_settings(settings, primary=database),
    )
    if not app.debug:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    from app import i18n
    from app.cli import register_cli
    from app.web import (
        access,
        addresses,
        admin,
        alerts,
        api,
        assets,
        auth,
        compression,
        errors,
        health,
        language,
        maps,
        media,
        open311,
        pages,
        public_map,
        queue,
        reports,
        requests,
        staff,
        supervision,
        tiles,
    )

    for blueprint in (
        pages.bp,
        api.bp,
        addresses.bp,
        requests.bp,
        alerts.bp,
        staff.bp,
        supervision.bp,
        queue.bp,
        maps.bp,
        public_map.bp,
        reports.bp,
        auth.bp,
        admin.bp,
        health.bp,
        assets.bp,
        open311.bp,
        tiles.bp,
        media.bp,
        language.bp,
    ):
        app.register_blueprint(blueprint)
    from app.web.times import date_words, local_time, local_time_words

    app.jinja_env.filters["local_time"] = local_time  # one time zone, the city's, on every page
    app.jinja_env.filters["local_time_words"] = local_time_words  # the same, written out in the page's language
    app.jinja_env.filters["date_words"] = date_words
    from app.web import contact_links

    contact_links.register(app)  # tel: and mailto: links
    i18n.init_app(app, city.languages, translations or TRANSLATIONS_DIR)  # the interface's language: app/i18n.py
    errors.register(app)
    access.install(app)
    compression.install(app)  # gzip for clients that ask (app/web/compression.py)
    register_cli(app)

    from app.web import close_read_session, replica_note

    app.jinja_env.globals["replica_note"] = replica_note  # base.html's notice of figures read from the primary

    @app.teardown_appcontext
    def close_session(exc: BaseException | None) -> None:
        close_read_session(failed=exc is not None)
        session = g.pop("db_session", None)
        if session is not None:
            if exc is not None:
                session.rollback()
            session.close()

    return app
