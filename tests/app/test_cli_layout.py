"""The ``flask`` commands: one module per group, all registered, none reaching into another's private names."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import click
from flask.cli import AppGroup

from app.cli import GROUPS

CLI_DIR = Path(__file__).resolve().parents[2] / "app" / "cli"


def test_every_group_is_registered() -> None:
    """Each module's command groups reach ``flask``: registered, or a subgroup of a registered one."""
    reachable = {id(group) for group in GROUPS}
    reachable |= {id(sub) for group in GROUPS for sub in group.commands.values() if isinstance(sub, click.Group)}
    modules = sorted({p.stem for p in CLI_DIR.glob("*.py")} - {"__init__", "common"})
    for name in modules:
        module = importlib.import_module(f"app.cli.{name}")
        groups = [value for value in vars(module).values() if isinstance(value, AppGroup)]
        assert groups, f"app/cli/{name}.py defines no command group"
        for group in groups:
            assert id(group) in reachable, f"app/cli/{name}.py: group {group.name!r} is not registered"
    assert len({group.name for group in GROUPS}) == len(GROUPS)


def test_no_module_imports_another_modules_private_names() -> None:
    for path in CLI_DIR.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("app.cli"):
                private = [a.name for a in node.names if a.name.startswith("_")]
                assert not private, f"{path.name} imports {private} from {node.module}"
