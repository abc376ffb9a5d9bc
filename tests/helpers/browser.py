"""Helpers for the browser tests: a live server and Debian's headless Chromium via Playwright."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.serving import WSGIRequestHandler, make_server

CHROMIUM = Path("/usr/bin/chromium")
# The flags this machine's Chromium needs: no sandbox as root, and no background
# connections to the (closed) internet.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class _QuickHandler(WSGIRequestHandler):
    """A request handler that gives up on a connection silent for a second.

    Chromium opens spare connections while a map fetches its tiles and may leave one
    unused when the page goes away; a one-request-at-a-time server would otherwise wait
    on it (tens of seconds) before it answers the next page.
    """

    timeout = 1.0


@contextmanager
def live_server(app: Flask, threaded: bool = False) -> Iterator[str]:
    """Serve ``app`` on a free loopback port in a thread; yields the base URL.

    By default one request at a time: the app is bound to the test's single connection,
    whose transaction is rolled back afterwards, so browser tests leave nothing behind.
    ``threaded`` serves a thread per request (load and fault tests on a real database).
    """
    server = make_server("127.0.0.1", 0, app, threaded=threaded, request_handler=_QuickHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@contextmanager
def chromium() -> Iterator[object]:
    """A headless Debian Chromium driven by Playwright (never a downloaded browser)."""
    if not CHROMIUM.exists():
        raise RuntimeError("Chromium is missing: run scripts/test.sh (it installs Debian's chromium package).")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def app_in_chromium(settings: Any, database: Any) -> Iterator[tuple[str, Any]]:
    """The app on ``database`` served on loopback, and a headless Chromium: yields (base URL, browser)."""
    from app.factory import create_app

    with live_server(create_app(settings, database=database)) as base, chromium() as browser:
        yield base, browser


def log_in_page(page: Any, base: str, username: str, next_path: str = "/") -> None:
    """Log in through the login form, as staff do, then land on ``next_path``."""
    from tests.helpers.staff import PASSWORD

    page.goto(f"{base}/login?next={next_path}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}{next_path}")


@dataclass
class Watch:
    """What a page did: every URL it requested and every script error it met."""

    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def outside(self, base: str) -> list[str]:
        """The requests that left the app (a page must work without the internet)."""
        return [url for url in self.requests if not url.startswith(base)]


def watch(page: Any, watched: Watch | None = None) -> Watch:
    """Record ``page``'s requests, console errors and uncaught exceptions (into ``watched``)."""
    watched = watched or Watch()
    page.on("request", lambda request: watched.requests.append(request.url))
    page.on("console", lambda message: watched.errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: watched.errors.append(str(error)))
    return watched
