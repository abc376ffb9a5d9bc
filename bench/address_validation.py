"""Benchmark: address validation through the Python API on 1,000,000 synthetic addresses.

Targets (issue 3): clean and standardizable queries p95 <= 10 ms, typo queries p95 <= 30 ms,
autocomplete p95 <= 20 ms, each on the embedded PostGIS. In the same run, one
primary-key lookup round trip is measured as the floor, so the figures read as ratios.
"""

from __future__ import annotations

import random
import time
from typing import Any

from sqlalchemy import text

from address_db.loader import store_addresses
from address_db.querysets import build_query_set, is_correct
from address_db.validation import Validator
from bench.common import bench_database, time_each, write_results
from bench.synthetic import synthetic_address_count, synthetic_addresses

TARGETS_MS = {"clean": 10.0, "typo": 30.0, "autocomplete": 20.0}


def ensure_addresses(total: int, seed: int = 311) -> dict[str, Any]:
    """The bench database with ``total`` synthetic addresses (made once, reused after)."""
    database, city = bench_database()
    with database.session() as session:
        present = synthetic_address_count(session, city.key)
    if abs(present - total) <= 0.02 * total:
        return {"addresses": present, "generated": False}
    start = time.perf_counter()
    records = synthetic_addresses(city, total, seed)
    generated = time.perf_counter() - start
    start = time.perf_counter()
    with database.session() as session:
        _, count = store_addresses(session, city.key, records, sources=["synthetic"], rows_read=len(records),
                                   rejected=0, synthetic=True)
        session.commit()
    stored = time.perf_counter() - start
    return {"addresses": count, "generated": True, "generate_s": round(generated, 1), "store_s": round(stored, 1),
            "store_rows_per_s": round(count / stored)}


def typing_prefixes(addresses: list[str], rng: random.Random) -> list[str]:
    """What intake staff have typed when suggestions are asked for: '2111 w bel', '2111 bellev'."""
    prefixes = []
    for address in addresses:
        street_part = address.split(",")[0]
        number, _, rest = street_part.partition(" ")
        if rng.random() < 0.3 and rest[:2] in ("N ", "S ", "E ", "W "):
            rest = rest[2:]  # typed without the directional
        cut = rng.randint(2, max(2, len(rest)))
        prefixes.append(f"{number} {rest[:cut]}".lower())
    return prefixes


def run(total: int = 1_000_000, queries: int = 1000, seed: int = 311) -> dict[str, Any]:
    """Run the benchmark and write bench/results/address_validation.{json,md}."""
    setup = ensure_addresses(total, seed)
    database, city = bench_database()
    validator = Validator(city.key, settings=city.addresses, home_name=city.name)
    rng = random.Random(seed)
    half = queries // 2
    with database.session() as session:
        query_set = build_query_set(session, city.key, seed=seed, sizes={
            "clean": half, "standardizable": half, "typo1": half, "typo2": half, "unit": 0, "missing_directional": 0,
            "missing_suffix": 0, "transposed_digits": 0, "nonexistent_number": 0, "intersection": 0, "invalid": 0,
        })
        clean = [q for q in query_set if q.category in ("clean", "standardizable")]
        typos = [q for q in query_set if q.category in ("typo1", "typo2")]
        ids = session.execute(text("SELECT id FROM address_point WHERE city = :c ORDER BY random() LIMIT :n"),
                              {"c": city.key, "n": queries}).scalars().all()
        sample = session.execute(text("SELECT standardized FROM address_point WHERE city = :c AND kind = 'address' "
                                      "ORDER BY random() LIMIT :n"), {"c": city.key, "n": queries}).scalars().all()

        floor = time_each(ids, lambda i: session.execute(
            text("SELECT address_id, standardized FROM address_point WHERE id = :id"), {"id": i}).one())
        correct: dict[int, bool] = {}  # by query, so that warm-up calls count once

        def check(index: int, query_text: str) -> None:
            correct[index] = is_correct(query_set[index], validator.validate(session, query_text))

        results = {
            "clean": time_each([(query_set.index(q), q.query) for q in clean], lambda item: check(*item)),
            "typo": time_each([(query_set.index(q), q.query) for q in typos], lambda item: check(*item)),
            "autocomplete": time_each(typing_prefixes(sample, rng), lambda prefix: validator.suggest(session, prefix)),
        }

    def share(queries_of: list) -> float:
        return round(sum(correct[query_set.index(q)] for q in queries_of) / max(1, len(queries_of)), 4)

    accuracy = {"clean": share(clean), "typo": share(typos)}
    summary = {"setup": setup, "floor_pk_lookup": floor, "timings_ms": results, "accuracy": accuracy,
               "targets_p95_ms": TARGETS_MS,
               "met": {k: results[k]["p95"] <= TARGETS_MS[k] for k in TARGETS_MS}}
    table = [("primary-key lookup round trip (floor)", f"p50 {floor['p50']} ms, p95 {floor['p95']} ms", "-", "-")]
    for key, label in (("clean", "clean + standardizable"), ("typo", "one- and two-letter typos"),
                       ("autocomplete", "autocomplete (as typed)")):
        r = results[key]
        table.append((f"{label} ({r['n']} queries)", f"p50 {r['p50']} ms, p95 {r['p95']} ms",
                      f"p95 <= {TARGETS_MS[key]:g} ms", f"{r['p95'] / max(floor['p95'], 1e-9):.0f}x floor p95"))
    table.append(("top-1 accuracy on these queries", f"clean {accuracy['clean']:.2%}, typos {accuracy['typo']:.2%}", "", ""))
    write_results("address_validation", summary, table)
    return summary
