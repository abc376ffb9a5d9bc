"""Run the benchmarks: ``python -m bench.run [name ...] [--total N]``.

Each benchmark writes ``bench/results/<name>.json`` and ``.md``; this prints the tables.
"""

from __future__ import annotations

import argparse
import json
import time

from bench import address_validation, load, maps, open311, open311_caching, public_map, queue, reports, requests, tiles
from bench.common import RESULTS_DIR, drop_bench_data
from bench.disk import check_disk
from core.errors import UserError
from core.settings import PROJECT_ROOT, Settings

BENCHMARKS = {
    "address_validation": address_validation.run,
    "requests": requests.run,
    "maps": maps.run,
    "open311": open311.run,
    "open311_caching": open311_caching.run,
    "reports": reports.run,
    "load": load.run,
    "tiles": tiles.run,
    "queue": queue.run,
    "public_map": public_map.run,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="*", choices=[[], *BENCHMARKS], help="benchmarks to run (default: all)")
    parser.add_argument("--total", type=int, default=1_000_000, help="size of the generated data (default 1,000,000)")
    parser.add_argument(
        "--fresh", action="store_true", help="start from nothing: drop the benchmark database and generated files first"
    )
    args = parser.parse_args()
    settings = Settings.from_env()
    # The data goes to the embedded cluster's folder (or DATABASE_URL's server: its disk is not
    # seen from here, so only the generated files' disk is checked) and var/bench.
    where = PROJECT_ROOT / "var" if settings.database_url else settings.pg_dir
    try:
        need = check_disk(args.total, where)
    except UserError as exc:
        raise SystemExit(f"bench.run: {exc}") from None
    print(f"A run of {args.total:,} requests {need.sentence()}.", flush=True)
    started = time.perf_counter()
    if args.fresh:
        drop_bench_data()
    durations: dict[str, float] = {}
    for name in args.names or list(BENCHMARKS):
        start = time.perf_counter()
        BENCHMARKS[name](total=args.total)
        durations[name] = round(time.perf_counter() - start)
        print((RESULTS_DIR / f"{name}.md").read_text())
        print(f"({name}: {durations[name]:.0f} s)\n")
    write_summary(durations, time.perf_counter() - started, args.fresh)


def write_summary(durations: dict[str, float], total_s: float, fresh: bool = False) -> None:
    """bench/results/summary.{json,md}: every benchmark's results of this run, in one file."""
    results = {name: json.loads((RESULTS_DIR / f"{name}.json").read_text()) for name in durations}
    (RESULTS_DIR / "summary.json").write_text(
        json.dumps(
            {"durations_s": durations, "total_s": round(total_s), "fresh": fresh, "results": results},
            indent=2,
            default=str,
        )
    )
    start = "from an empty benchmark database" if fresh else "with the generated data already in place"
    parts = [f"# Benchmarks ({round(total_s / 60)} min in all, {start})\n"]
    parts += [(RESULTS_DIR / f"{name}.md").read_text() + f"\n({name}: {durations[name]:.0f} s)\n" for name in durations]
    (RESULTS_DIR / "summary.md").write_text("\n".join(parts))


if __name__ == "__main__":
    main()
