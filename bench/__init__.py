"""Benchmarks on generated data at realistic volumes; run them with ``python -m bench.run``."""
