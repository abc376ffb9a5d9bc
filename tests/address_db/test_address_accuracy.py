"""Accuracy of address validation on a labelled set of 2,400 realistic queries.

The queries are made from the real Los Angeles addresses with the variations intake
sees (see bench.querysets); out-of-area queries run under the Gardena configuration.
The per-category table is printed and written to var/reports/address-accuracy.json.
"""

from __future__ import annotations

import json

from address_db.validation import Validator
from bench.querysets import TARGETS, build_query_set, measure
from core.settings import PROJECT_ROOT

REPORT = PROJECT_ROOT / "var" / "reports" / "address-accuracy.json"


def test_accuracy_per_category(session):
    queries = build_query_set(session, "la", outside_city="gardena", seed=311)
    validators = {"la": Validator("la"), "gardena": Validator("gardena")}
    report = measure(queries, lambda q: validators[q.city].validate(session, q.query))

    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps({"queries": len(queries), "categories": report}, indent=2))
    print("\ncategory               queries  accuracy  target  reported valid")
    for category, entry in report.items():
        target = f"{entry['target']:.0%}" if entry["target"] else "-"
        print(
            f"{category:22} {entry['queries']:7}  {entry['accuracy']:8.2%}  {target:>6}  {entry['reported_valid']:14}"
        )

    assert len(queries) >= 2000
    assert set(report) == {
        "clean",
        "standardizable",
        "unit",
        "missing_directional",
        "missing_suffix",
        "typo1",
        "typo2",
        "transposed_digits",
        "nonexistent_number",
        "intersection",
        "out_of_area",
        "invalid",
    }
    for category, target in TARGETS.items():
        assert report[category]["accuracy"] >= target, (category, report[category]["misses"])
    assert report["nonexistent_number"]["reported_valid"] == 0
    assert report["transposed_digits"]["reported_valid"] == 0
    # A number no source holds is never valid (asserted above): it is not found, or approximate where it lies
    # between close known numbers or on a range (issue 15), or a neighbour's.
    assert report["out_of_area"]["accuracy"] >= 0.99
    assert report["intersection"]["accuracy"] >= 0.97
    assert report["invalid"]["accuracy"] == 1.0
