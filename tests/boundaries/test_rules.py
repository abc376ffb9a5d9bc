""" "The current boundary layers" is written once, in boundaries/rules.py, and every query reads it there."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from boundaries.rules import current_layers

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("core", "boundaries", "address_db", "service_requests", "accounts", "open311", "geo", "app", "bench")


def test_the_rule_and_its_narrowings() -> None:
    assert current_layers() == "v.city = :city AND v.is_current"
    assert current_layers(None) == "city = :city AND is_current"
    assert current_layers("lv", ("wards", "districts")) == (
        "lv.city = :city AND lv.is_current AND lv.role IN ('wards', 'districts')"
    )
    assert current_layers("v", role_param="role") == "v.city = :city AND v.is_current AND v.role = :role"
    with pytest.raises(ValueError, match="not both"):
        current_layers("v", ("wards",), role_param="role")


def test_no_query_spells_the_rule_itself() -> None:
    spelled = []
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if path in (ROOT / "boundaries" / "rules.py", ROOT / "boundaries" / "models.py"):
                continue  # the rule itself, and the index that keeps one version of a role current
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Constant) and isinstance(node.value, str) and "is_current" in node.value:
                    spelled.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not spelled, f"write boundaries.rules.current_layers(...) instead of is_current in SQL: {spelled}"
