"""A draft catalogue from the request history (issue 16, item 12)."""

from __future__ import annotations

import tomllib

from core.catalogue_file import parse_catalogue
from core.errors import ConfigError
from service_requests.draft_catalogue import draft_catalogue


def test_the_la_history_drafts_a_catalogue_the_city_file_accepts(la, tmp_path):
    draft = draft_catalogue(la)
    names = {s.name for s in draft.services}
    assert {"Bulky Items", "Graffiti Removal", "Dead Animal Removal"} <= names and len(names) == 12
    assert {"BOS", "OCB", "BSL"} <= set(draft.departments)
    graffiti = next(s for s in draft.services if s.name == "Graffiti Removal")
    assert graffiti.department == "OCB" and "closed requests closed within it" in graffiti.basis
    assert all(s.level and all(v >= 1 for v in s.level.values()) for s in draft.services)
    raw = tomllib.loads(draft.toml(la.name))  # valid TOML, in the city file's shape

    def fail(table: str, message: str) -> ConfigError:
        return ConfigError(f"{table}: {message}")

    catalogue = parse_catalogue(raw, fail)
    assert len(catalogue.services) == 12 and {s.source_name for s in catalogue.services.values()} == names


def test_the_command_writes_the_draft(app, tmp_path):
    out = tmp_path / "draft.toml"
    result = app.test_cli_runner().invoke(args=["services", "draft", "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert "12 services" in result.output and "[[services]]" in out.read_text()


def test_a_city_without_services_imports_with_its_draft(la):
    """The import can run with the draft directly: every type of the history finds a service."""
    import dataclasses

    from core.catalogue_file import Catalogue
    from service_requests.draft_catalogue import with_draft_catalogue

    bare = dataclasses.replace(la, catalogue=Catalogue())
    drafted = with_draft_catalogue(bare)
    assert len(drafted.catalogue.services) == 12
    assert with_draft_catalogue(la) is la  # a city file's own catalogue is never replaced
