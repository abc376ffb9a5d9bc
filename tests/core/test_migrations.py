"""The migrations build exactly the schema the models describe (Alembic's autogenerate compare).

The session database is migrated to head by tests/conftest.py; its reflected schema is
compared with ``core.database.Base.metadata`` after importing every module that
migrations/env.py imports for autogenerate, so that the two lists cannot drift apart.
"""

from __future__ import annotations

import ast
import importlib
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from core.database import Base
from core.settings import PROJECT_ROOT

ENV_PY = PROJECT_ROOT / "migrations" / "env.py"

#: PostGIS's and the TIGER geocoder's own tables: created by the extensions, not by our migrations.
FOREIGN_SCHEMAS = frozenset({"tiger", "tiger_data", "topology"})
FOREIGN_TABLES = frozenset({"spatial_ref_sys", "alembic_version"})
#: Tables a migration made with no model: the hot-spot grid cache of geo/grid.py (migration
#: 0008), written and read by SQL alone. Compared as soon as a model declares them.
TABLES_WITHOUT_MODEL = frozenset({"hex_grid", "hex_grid_cell"})


def import_the_models() -> None:
    """Import every module migrations/env.py imports (the tables of every package)."""
    tree = ast.parse(ENV_PY.read_text())
    for node in tree.body:
        if isinstance(node, ast.Import):
            for alias in node.names:
                importlib.import_module(alias.name)


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Compare our tables only: not those PostGIS and its TIGER geocoder create by themselves.

    (The spatial indexes need no exception: models and migrations both say
    ``spatial_index=False`` and name their GiST indexes, so they compare equal.)
    """
    schema = getattr(obj, "schema", None) or getattr(getattr(obj, "table", None), "schema", None)
    if schema in FOREIGN_SCHEMAS:
        return False
    if type_ == "table" and name in FOREIGN_TABLES:
        return False
    return not (type_ == "table" and name in TABLES_WITHOUT_MODEL and reflected and compare_to is None)


def test_the_migrations_equal_the_models(database):
    import_the_models()
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": include_object, "compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == [], "\n".join(str(d) for d in differences)


def test_the_tables_without_a_model_are_there(database):
    """The exception above hides no missing table: the migrations did make them."""
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection)
        names = set(context.dialect.get_table_names(connection))
    assert names >= TABLES_WITHOUT_MODEL
