"""The layers of the tree, kept by import-linter (the contracts in pyproject.toml)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from core.settings import PROJECT_ROOT

PACKAGES = ("core", "boundaries", "address_db", "service_requests", "accounts", "open311", "geo", "app")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

pytestmark = pytest.mark.unit


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), str(root / "pyproject.toml"), "--no-cache"],
        cwd=root,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(root)},
    )


def test_the_tree_keeps_its_layers():
    result = lint_imports(PROJECT_ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    "module, line, broken",
    [
        ("core/probe.py", "import service_requests.intake\n", "core is not allowed to import service_requests"),
        ("geo/probe.py", "from app.web import services\n", "geo is not allowed to import app"),
        ("service_requests/probe.py", "import accounts.users\n", "service_requests is not allowed to import accounts"),
        ("address_db/probe.py", "from flask import request\n", "address_db is not allowed to import flask"),
    ],
)
def test_an_upward_import_or_flask_below_the_web_breaks_the_check(tmp_path, module, line, broken):
    for package in PACKAGES:
        shutil.copytree(
            PROJECT_ROOT / package,
            tmp_path / package,
            ignore=shutil.ignore_patterns("__pycache__", "static", "templates"),
        )
    shutil.copy(PROJECT_ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / module).write_text(line)
    result = lint_imports(tmp_path)
    assert result.returncode == 1
    assert broken in result.stdout
