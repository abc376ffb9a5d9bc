"""Benchmark: what gzip and a 304 revalidation save on a 1,000-row Open311 requests page.

On the Open311 benchmark's data (:mod:`bench.open311`: ``total`` generated requests over three
years, so that the default 90-day window holds more than a page), the app is served by
gunicorn on this machine, and one client asks, one request after the other over one
keep-alive connection, for ``requests.json`` and ``requests.xml`` (the default window: a full
page of 1,000 requests):

- as they are, and with ``Accept-Encoding: gzip``: body bytes, p50 and p95 time;
- a revalidation with the ETag it was given (``If-None-Match``; the plain one, and the gzip
  one with ``Accept-Encoding: gzip``) and with ``If-Modified-Since``: every answer a bodiless
  304, p50 and p95 time.

The cases take turns, request by request, so that each sees the same load from whatever else
runs on the machine.
Time is from sending the request to the last byte of the body read (on loopback, so it is
the server's work, not the network's; a slow link would favour gzip and 304 far more).
"""

from __future__ import annotations

import gzip
import http.client
import json
import time
from typing import Any

from bench.address_validation import ensure_addresses
from bench.common import bench_database, percentiles, write_results
from bench.open311 import ensure_history, free_port, start_server, stop_server
from bench.requests import DATA_DIR

PAGE = "/open311/v2/requests.{fmt}"
PAGE_SIZE = 1000


def fetch(conn: http.client.HTTPConnection, path: str, headers: dict[str, str]) -> tuple[float, Any, bytes]:
    """One GET: milliseconds to the last byte of the body, the answer, its body."""
    start = time.perf_counter()
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    body = response.read()
    return (time.perf_counter() - start) * 1000, response, body


def measure(port: int, fmt: str, n: int, warmup: int = 10) -> dict[str, Any]:
    """The figures of one format: plain, gzip, and the three revalidations, taking turns (the
    machine is shared: each case sees the same neighbours)."""
    path = PAGE.format(fmt=fmt)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    _, answer, body = fetch(conn, path, {})
    _, zipped_answer, zipped_body = fetch(conn, path, {"Accept-Encoding": "gzip"})
    tag, zipped_tag = answer.getheader("ETag"), zipped_answer.getheader("ETag")
    modified = answer.getheader("Last-Modified")
    if fmt == "json" and len(json.loads(body)) != PAGE_SIZE:
        raise RuntimeError(f"the default window holds {len(json.loads(body))} requests, not a page of {PAGE_SIZE}")
    if zipped_answer.getheader("Content-Encoding") != "gzip" or gzip.decompress(zipped_body) != body:
        raise RuntimeError(f"GET {path} with Accept-Encoding: gzip was not the plain answer gzipped")
    if tag is None or zipped_tag is None:
        raise RuntimeError(f"GET {path} answered without an ETag")
    cases: dict[str, tuple[dict[str, str], int]] = {
        "plain": ({}, 200),
        "gzip": ({"Accept-Encoding": "gzip"}, 200),
        "revalidate_etag": ({"If-None-Match": tag}, 304),
        "revalidate_gzip_etag": ({"If-None-Match": zipped_tag, "Accept-Encoding": "gzip"}, 304),
    }
    if modified is not None:
        cases["revalidate_if_modified_since"] = ({"If-Modified-Since": modified}, 304)
    samples: dict[str, list[float]] = {name: [] for name in cases}
    sizes: dict[str, int] = {}
    for i in range(warmup + n):
        for name, (headers, status) in cases.items():
            elapsed, response, got = fetch(conn, path, headers)
            if response.status != status:
                raise RuntimeError(f"GET {path} with {headers} answered {response.status}, not {status}: {got[:200]!r}")
            sizes[name] = len(got)
            if i >= warmup:
                samples[name].append(elapsed)
    conn.close()
    results: dict[str, Any] = {name: {**percentiles(samples[name]), "bytes": sizes[name]} for name in cases}
    results.update(
        gzip_ratio=round(sizes["gzip"] / sizes["plain"], 3), etag=tag, gzip_etag=zipped_tag, last_modified=modified
    )
    return results


def run(total: int = 1_000_000, gets: int = 200, seed: int = 311) -> dict[str, Any]:
    """Run the benchmark and write bench/results/open311_caching.{json,md}."""
    ensure_addresses(total, seed)
    database, city = bench_database()
    setup = ensure_history(database, city, total, seed)
    port = free_port()
    server = start_server(database.url, port, DATA_DIR / "open311-caching-gunicorn.log")
    try:
        formats = {fmt: measure(port, fmt, gets) for fmt in ("json", "xml")}
    finally:
        stop_server(server)
    summary = {
        "setup": setup,
        "server": "gunicorn (sync workers), one client over one keep-alive connection, loopback",
        "requests_per_measure": gets,
        "page_size": PAGE_SIZE,
        **formats,
    }

    def times(m: dict[str, Any]) -> str:
        return f"p50 {m['p50']:.1f} ms, p95 {m['p95']:.1f} ms"

    table: list[tuple[str, str, str, str]] = []
    for fmt, m in formats.items():
        table += [
            (f"GET requests.{fmt}, 1,000 rows, plain", f"{m['plain']['bytes']:,} bytes; {times(m['plain'])}", "-", "-"),
            (
                f"GET requests.{fmt}, 1,000 rows, gzip",
                f"{m['gzip']['bytes']:,} bytes ({m['gzip_ratio']:.1%}); {times(m['gzip'])}",
                "-",
                f"plain: {times(m['plain'])}",
            ),
            (f"304 to If-None-Match (requests.{fmt})", f"0 bytes; {times(m['revalidate_etag'])}", "-", "-"),
            (
                f"304 to If-None-Match of the gzip answer (requests.{fmt}, Accept-Encoding: gzip)",
                f"0 bytes; {times(m['revalidate_gzip_etag'])}",
                "-",
                "-",
            ),
        ]
        if "revalidate_if_modified_since" in m:
            table.append(
                (
                    f"304 to If-Modified-Since (requests.{fmt})",
                    f"0 bytes; {times(m['revalidate_if_modified_since'])}",
                    "-",
                    "-",
                )
            )
    write_results("open311_caching", summary, table)
    return summary
