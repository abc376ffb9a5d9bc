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
from core.database import Database
from core.i18n import TRANSLATIONS_DIR
from core.settings import Settings


@dataclass
class Runtime:
    """What every view and command needs, built once per application: settings, city, database, indexes."""

    settings: Settings
    city: CityConfig
    database: Database
    boundary_index: IndexCache
    validator: Validator


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
        # Room for the most photos a request takes, each at its largest, and the form itself.
        MAX_CONTENT_LENGTH=max(16 * 1024 * 1024, city.photos.max_per_request * city.photos.max_bytes + 2 * 1024 * 1024),
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
    app.extensions["geo311"] = Runtime(
        settings=settings,
        city=city,
        database=database or Database.from_settings(settings),
        boundary_index=boundary_index,
        validator=Validator(
            city.key,
            boundaries=boundary_index,
            streets=StreetIndexCache(),
            settings=city.addresses,
            home_name=city.name,
        ),
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
    register_cli(app)

    @app.teardown_appcontext
    def close_session(exc: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            if exc is not None:
                session.rollback()
            session.close()

    return app
