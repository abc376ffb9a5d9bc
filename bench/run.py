"""Run the benchmarks: ``python -m bench.run [name ...] [--total N]``.

Each benchmark writes ``bench/results/<name>.json`` and ``.md``; this prints the tables.
"""

from __future__ import annotations

import argparse
import time

from bench import address_validation, maps, open311, reports, requests
from bench.common import RESULTS_DIR

BENCHMARKS = {
    "address_validation": address_validation.run,
    "requests": requests.run,
    "maps": maps.run,
    "open311": open311.run,
    "reports": reports.run,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="*", choices=[[], *BENCHMARKS], help="benchmarks to run (default: all)")
    parser.add_argument("--total", type=int, default=1_000_000, help="size of the generated data (default 1,000,000)")
    args = parser.parse_args()
    for name in args.names or list(BENCHMARKS):
        start = time.perf_counter()
        BENCHMARKS[name](total=args.total)
        print((RESULTS_DIR / f"{name}.md").read_text())
        print(f"({name}: {time.perf_counter() - start:.0f} s)\n")


if __name__ == "__main__":
    main()
