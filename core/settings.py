"""Settings from the environment.

Everything that differs between a laptop, CI and production is read here and nowhere
else. Environment variables:

``DATABASE_URL``
    A PostgreSQL server to use. Unset: the app runs its own private cluster.
``DATABASE_REPLICA_URL``
    An optional PostgreSQL streaming replica (a hot standby of ``DATABASE_URL``'s server, or of
    the embedded cluster: ``flask db standby status`` prints its URL). Reports, maps, exports, the
    public map's lists and the analysts' API read from it; every write goes to the primary.
``GEO311_REPLICA_MAX_LAG``
    Seconds the replica may be behind the primary (default 30); further behind, or unreachable,
    pages read from the primary and say so.
``GEO311_CITY``
    The city configuration to run (a file ``<name>.toml`` in the cities folder); default ``la``.
``GEO311_CITIES_DIR``
    Folder of city configuration files; default ``cities/`` in the project.
``GEO311_DATA_DIR``
    Folder the city configurations' data paths are relative to; default ``../shared/data``.
``GEO311_PG_DIR``
    Folder of the embedded PostgreSQL cluster; default ``var/postgres`` in the project.
``GEO311_ENV``
    ``development`` (default), ``production`` or ``test``.
``SECRET_KEY``
    Flask's secret key; required in production.
``GEO311_SECURE_COOKIES``
    ``1`` or ``0``: mark the session cookie Secure (sent back over HTTPS only). Default:
    on in production. ``scripts/demo.sh`` sets ``0``: it serves plain http on 127.0.0.1,
    where a Secure cookie is not sent back by every browser and no one could log in.
``GEO311_TILE_URL`` / ``GEO311_TILE_ATTRIBUTION``
    An optional basemap tile server (``https://host/{z}/{x}/{y}.png``); without it maps
    show the city's own streets and address points as the base (vector tiles the app
    makes from its address database, ``/tiles/streets/...``).
``GEO311_BASEMAP_FILE``
    An optional local basemap file, ``.mbtiles`` or ``.pmtiles`` (raster images, or vector
    tiles in the Protomaps basemap schema), served by the app at ``/tiles/basemap/...``;
    it takes the place of ``GEO311_TILE_URL`` and of the built-in street layer.
``GEO311_OPEN311_KEYLESS_PER_MINUTE``
    Open311 requests one client address may make per minute without an API key
    (default 600); keyed clients have their own limit (``flask open311 clients add --per-minute``).
``GEO311_SMTP_HOST``, ``GEO311_SMTP_PORT``, ``GEO311_SMTP_USER``, ``GEO311_SMTP_PASSWORD``,
``GEO311_SMTP_STARTTLS``, ``GEO311_MAIL_FROM``
    Optional mail server for notifications; without it e-mails wait in the outbox.
``GEO311_PUBLIC_URL``
    The site's address as residents reach it (``https://311.example.org``): the links in
    e-mails (confirm, unsubscribe, status pages) start with it. Default ``http://127.0.0.1:5000``.
``GEO311_RATE_LOGIN``, ``GEO311_RATE_PUBLIC_FORMS``, ``GEO311_RATE_PUBLIC_API``
    Rate limits per client address, such as ``10/minute`` (login attempts), ``20/minute``
    (public form submissions) and ``300/minute`` (public lookups: addresses, status, nearby).
``GEO311_MAP_CACHE_SECONDS``
    How old a cached map or hot spot result may be while requests keep arriving (default 30;
    0 serves only results of the current data).
``GEO311_MEDIA_DIR``
    Folder of the photos attached to requests (default ``var/media`` in the project); each
    file is written whole (a temporary file, synced, then renamed) before its row is stored.
``GEO311_TRUSTED_PROXIES``
    How many reverse proxies in front of the app set ``X-Forwarded-For`` (default 0): the
    client address that rate limits and the audit log use.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from core.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ENVIRONMENTS = ("development", "production", "test")


@dataclass(frozen=True)
class Settings:
    """The deployment's settings; build with :meth:`from_env`."""

    city: str = "la"
    cities_dir: Path = PROJECT_ROOT / "cities"
    data_dir: Path = PROJECT_ROOT.parent / "shared" / "data"
    pg_dir: Path = PROJECT_ROOT / "var" / "postgres"
    media_dir: Path = PROJECT_ROOT / "var" / "media"
    database_url: str | None = None
    database_replica_url: str | None = None
    replica_max_lag: int = 30
    env: str = "development"
    secret_key: str | None = None
    secure_cookies: bool | None = None  # None: as the environment says (see session_cookie_secure)
    tile_url: str | None = None
    tile_attribution: str = ""
    basemap_file: Path | None = None
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    mail_from: str = "311@localhost"
    public_url: str = "http://127.0.0.1:5000"
    rate_login: str = "10/minute"
    rate_public_forms: str = "20/minute"
    rate_public_api: str = "300/minute"
    trusted_proxies: int = 0
    map_cache_seconds: int = 30
    open311_keyless_per_minute: int = 600
    extra: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Read settings from ``environ`` (default ``os.environ``); keyword overrides win."""
        env = os.environ if environ is None else environ

        def path(name: str, default: Path) -> Path:
            value = env.get(name)
            return Path(value).expanduser().resolve() if value else default.resolve()

        settings = cls(
            city=env.get("GEO311_CITY", "la") or "la",
            cities_dir=path("GEO311_CITIES_DIR", cls.cities_dir),
            data_dir=path("GEO311_DATA_DIR", cls.data_dir),
            pg_dir=path("GEO311_PG_DIR", cls.pg_dir),
            media_dir=path("GEO311_MEDIA_DIR", cls.media_dir),
            database_url=env.get("DATABASE_URL") or None,
            database_replica_url=env.get("DATABASE_REPLICA_URL") or None,
            replica_max_lag=_count("GEO311_REPLICA_MAX_LAG", env.get("GEO311_REPLICA_MAX_LAG", "30")),
            env=env.get("GEO311_ENV", "development") or "development",
            secret_key=env.get("SECRET_KEY") or None,
            secure_cookies=_flag("GEO311_SECURE_COOKIES", env.get("GEO311_SECURE_COOKIES", "")),
            tile_url=env.get("GEO311_TILE_URL") or None,
            tile_attribution=env.get("GEO311_TILE_ATTRIBUTION", ""),
            basemap_file=Path(env["GEO311_BASEMAP_FILE"]) if env.get("GEO311_BASEMAP_FILE") else None,
            smtp_host=env.get("GEO311_SMTP_HOST") or None,
            smtp_port=_port(env.get("GEO311_SMTP_PORT", "25")),
            smtp_user=env.get("GEO311_SMTP_USER") or None,
            smtp_password=env.get("GEO311_SMTP_PASSWORD") or None,
            smtp_starttls=env.get("GEO311_SMTP_STARTTLS", "").lower() in ("1", "true", "yes"),
            mail_from=env.get("GEO311_MAIL_FROM", "311@localhost"),
            public_url=(env.get("GEO311_PUBLIC_URL") or cls.public_url).rstrip("/"),
            rate_login=env.get("GEO311_RATE_LOGIN") or cls.rate_login,
            rate_public_forms=env.get("GEO311_RATE_PUBLIC_FORMS") or cls.rate_public_forms,
            rate_public_api=env.get("GEO311_RATE_PUBLIC_API") or cls.rate_public_api,
            trusted_proxies=_count("GEO311_TRUSTED_PROXIES", env.get("GEO311_TRUSTED_PROXIES", "0")),
            map_cache_seconds=_count("GEO311_MAP_CACHE_SECONDS", env.get("GEO311_MAP_CACHE_SECONDS", "30")),
            open311_keyless_per_minute=_positive(
                "GEO311_OPEN311_KEYLESS_PER_MINUTE", env.get("GEO311_OPEN311_KEYLESS_PER_MINUTE", "600")
            ),
        )
        settings = replace(settings, **overrides)  # type: ignore[arg-type]
        settings.check()
        return settings

    @property
    def session_cookie_secure(self) -> bool:
        """Whether the session cookie is marked Secure: ``GEO311_SECURE_COOKIES``, else in production."""
        return self.env == "production" if self.secure_cookies is None else self.secure_cookies

    def check(self) -> None:
        """Refuse settings that cannot work, with the fix in the message."""
        if self.env not in ENVIRONMENTS:
            raise ConfigError(f"GEO311_ENV is {self.env!r}; set it to one of {', '.join(ENVIRONMENTS)}.")
        if self.env == "production" and not self.secret_key:
            raise ConfigError(
                "SECRET_KEY is not set; production mode refuses to start without one "
                "(generate one with: python -c 'import secrets; print(secrets.token_hex(32))')."
            )
        from core.ratelimit import Limit  # here: core.ratelimit imports the database, which imports settings

        for name in ("rate_login", "rate_public_forms", "rate_public_api"):
            try:
                Limit.parse(name, getattr(self, name))
            except ValueError as exc:
                raise ConfigError(f"GEO311_{name.upper()}: {exc}") from None
        if self.basemap_file is not None and (
            self.basemap_file.suffix.lower() not in (".mbtiles", ".pmtiles") or not self.basemap_file.is_file()
        ):
            raise ConfigError(
                f"GEO311_BASEMAP_FILE is {str(self.basemap_file)!r}; give an existing .mbtiles or .pmtiles file, "
                "or unset it to draw the city's own streets."
            )
        if self.database_url and not self.database_url.startswith(("postgresql", "postgres:")):
            raise ConfigError(
                "DATABASE_URL must be a PostgreSQL URL such as "
                "postgresql://user:password@host:5432/dbname; unset it to use the embedded database."
            )
        if self.database_replica_url and not _parses_as_url(self.database_replica_url):
            raise ConfigError(
                "DATABASE_REPLICA_URL must be a PostgreSQL URL such as "
                "postgresql://user:password@replica-host:5432/dbname; unset it to read from the primary only."
            )


def _parses_as_url(url: str) -> bool:
    """Whether ``url`` is a PostgreSQL URL SQLAlchemy can read (a port that is a number, for one)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    if not url.startswith(("postgresql", "postgres:")):
        return False
    try:
        make_url(url)
    except (ArgumentError, ValueError):
        return False
    return True


def _flag(name: str, value: str) -> bool | None:
    """A yes/no setting: True, False, or None when unset."""
    word = value.strip().lower()
    if not word:
        return None
    if word in ("1", "true", "yes", "on"):
        return True
    if word in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} is {value!r}; give 1 or 0 (or leave it unset for the environment's default).")


def _count(name: str, value: str) -> int:
    if not value.strip().isdigit():
        raise ConfigError(f"{name} is {value!r}; give a whole number such as 0 or 1.")
    return int(value)


def _port(value: str) -> int:
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise ConfigError(f"GEO311_SMTP_PORT is {value!r}; give a port number such as 25 or 587.")
    return int(value)


def _positive(name: str, value: str) -> int:
    if not value.strip().isdigit() or not 0 < int(value) <= 100_000_000:
        raise ConfigError(f"{name} is {value!r}; give a whole number of requests above 0, such as 600.")
    return int(value)
