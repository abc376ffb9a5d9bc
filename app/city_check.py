"""``flask city check``: every problem of a city file and its data, before anything is loaded.

:func:`check_city` reads the TOML, lists every key no part of geo311 reads, parses each
part of the file on its own (so that one mistake does not hide the next), and opens
every boundary layer and address or request-history file it names: the files and
patterns exist, the files open, the mapped columns and the id and name fields are
there, and the coordinates are plausible for their CRS. Each problem is one sentence
naming the table and key at fault and the fix. Nothing is written anywhere.

Run it without the web app (when the configured city itself is broken) as
``python -m app.city_check NAME``.
"""

from __future__ import annotations

import sys
import tomllib
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyogrio

from core.catalogue_file import parse_catalogue
from core.city import (
    REQUIRED_REQUEST_FIELDS,
    AddressSettings,
    AreaLayerSpec,
    LayerSource,
    SourceMapping,
    _CityParser,
    available_cities,
    unknown_key_message,
    unknown_keys,
)
from core.errors import UserError

GEO_SUFFIXES = {".geojson", ".json", ".shp", ".gpkg"}


@dataclass
class CheckResult:
    """The problems found in one city file (none: the file and its data are ready to load)."""

    path: Path
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, problem: str) -> None:
        if problem not in self.problems:
            self.problems.append(problem)

    def report(self) -> str:
        """``cities/la.toml: no problems``, or one line per problem under a count."""
        shown = _shown(self.path)
        if self.ok:
            return f"{shown}: no problems"
        prefix = f"{self.path.name}: "
        lines = [f"{shown}: {len(self.problems)} problem(s)"]
        lines += [f"  - {p.removeprefix(prefix)}" for p in self.problems]
        return "\n".join(lines)


def check_city(name: str, cities_dir: Path, data_dir: Path) -> CheckResult:
    """Every problem of ``<cities_dir>/<name>.toml`` and of the data it names in ``data_dir``."""
    path = cities_dir / f"{name}.toml"
    result = CheckResult(path)
    if not path.is_file():
        known = ", ".join(available_cities(cities_dir)) or "none"
        result.add(f"there is no {path.name} in {cities_dir} (known cities: {known}); check the name or add the file.")
        return result
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeError) as exc:
        result.add(f"{path.name} is not valid TOML ({exc}); fix the file.")
        return result
    parser = _CityParser(path, data_dir, check_keys=False)
    for table, key, allowed in unknown_keys(raw):
        result.add(str(parser.fail(table, unknown_key_message(table, key, allowed))))
    _Checker(parser, raw, result).run(name)
    return result


class _Checker:
    """Parses each part of the file on its own and opens the files it names."""

    def __init__(self, parser: _CityParser, raw: Mapping[str, Any], result: CheckResult) -> None:
        self.parser = parser
        self.raw = raw
        self.result = result
        self.fail = parser.fail

    def attempt(self, parse: Callable[[], Any]) -> Any:
        """``parse()``, or None with its problem recorded."""
        try:
            return parse()
        except UserError as exc:
            self.result.add(str(exc))
            return None

    def run(self, name: str) -> None:
        self.attempt(lambda: self.parser.parse(self.raw, name))
        p, raw = self.parser, self.raw
        # Each part again on its own, so that the first mistake does not hide the others.
        jurisdiction = raw.get("jurisdiction")
        if isinstance(jurisdiction, dict):
            source = self.attempt(lambda: p.source("jurisdiction", jurisdiction))
            if source:
                self.layer("jurisdiction", source, [])
        agencies_raw = raw.get("agencies")
        if isinstance(agencies_raw, dict):
            agencies = self.attempt(lambda: p.agencies(agencies_raw))
            if agencies:
                fields = [("id_field", agencies.id_field), ("name_field", agencies.name_field)]
                if agencies.group_field:
                    fields.append(("group_field", agencies.group_field))
                if agencies.exclude:
                    fields.append(("exclude", agencies.exclude.field))
                fields += [("rules where", f.field) for rule in agencies.rules for f in rule.where]
                self.layer("agencies", agencies.source, fields)
        layers = raw.get("layers")
        for role, layer_raw in layers.items() if isinstance(layers, dict) else ():
            spec = self.attempt(lambda: p.area_layer(role, layer_raw))  # noqa: B023 (called at once)
            if spec:
                self.area_layer(spec)
        addresses: AddressSettings | None = self.attempt(lambda: p.addresses(raw))
        if addresses:
            for source in addresses.sources:
                table = (
                    "addresses"
                    if len(addresses.sources) == 1 and source.key == "addresses"
                    else (f"addresses.sources.{source.key}")
                )
                self.tabular(table, source.mapping, coordinates=source.kind != "list")
        requests: SourceMapping | None = self.attempt(lambda: p.mapping(raw, "requests"))
        if requests:
            missing = [f for f in REQUIRED_REQUEST_FIELDS if f not in requests.fields]
            for key in missing:
                self.result.add(
                    str(self.fail("requests.fields", f'needs {key} = "column" (no row imports without it)'))
                )
            self.tabular("requests", requests, coordinates=False, geo=False)
        self.attempt(lambda: parse_catalogue(raw, p.fail))
        self.attempt(lambda: p.intake(raw))
        self.attempt(lambda: p.reports(raw))
        self.attempt(lambda: p.open311(raw, name, None))

    # -- boundary layers -------------------------------------------------------------------

    def area_layer(self, spec: AreaLayerSpec) -> None:
        table = f"layers.{spec.role}"
        fields = [("id_field", spec.id_field)]
        if spec.name_field:
            fields.append(("name_field", spec.name_field))
        if spec.population and spec.population.field:
            fields.append(("population field", spec.population.field))
        self.layer(table, spec.source, fields)
        population = spec.population
        if population and population.path:
            columns = self.csv_columns(f"{table}.population", population.path)
            for key, column in (("key_column", population.key_column), ("value_column", population.value_column)):
                if columns is not None and column.lower() not in columns:
                    self.missing_column(f"{table}.population", population.path, key, column, columns)

    def layer(self, table: str, source: LayerSource, fields: list[tuple[str, str]]) -> None:
        from boundaries.sources import read_polygons

        if not self.exists(table, source.path):
            return
        try:
            frame = read_polygons(source)
        except UserError as exc:
            self.result.add(str(self.fail(table, f"{_sentence(exc)}")))
            return
        columns = {str(c).lower(): str(c) for c in frame.columns if c != "geometry"}
        for key, column in fields:
            if column.lower() not in columns:
                self.missing_column(table, source.path, key, column, columns)

    # -- address and request files ---------------------------------------------------------

    def tabular(self, table: str, mapping: SourceMapping, *, coordinates: bool, geo: bool = True) -> None:
        for path in mapping.paths:
            if not self.exists(table, path):
                continue
            if geo and path.suffix.lower() in GEO_SUFFIXES:
                columns = self.geo_columns(table, path, mapping)
            else:
                columns = self.csv_columns(table, path)
                if columns is not None and coordinates and not {"latitude", "longitude"} <= set(mapping.fields):
                    self.result.add(
                        str(
                            self.fail(
                                f"{table}.fields", f"{path.name} is a CSV: map latitude and longitude to its columns"
                            )
                        )
                    )
            if columns is None:
                continue
            for ours, theirs in mapping.fields.items():
                for column in theirs.split(","):
                    if column.strip().lower() not in columns:
                        self.missing_column(f"{table}.fields", path, ours, column.strip(), columns)
            if mapping.where and mapping.where.field.lower() not in columns:
                self.missing_column(table, path, "where", mapping.where.field, columns)

    def csv_columns(self, table: str, path: Path) -> dict[str, str] | None:
        """The columns of a CSV file by lower-case name (None: it cannot be read, and that is recorded)."""
        if not self.exists(table, path):
            return None
        try:
            frame = pd.read_csv(path, dtype=str, nrows=0, encoding_errors="replace")
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeError, OSError) as exc:
            self.result.add(
                str(self.fail(table, f"{path.name} cannot be read as CSV ({_first_line(exc)}); check the file"))
            )
            return None
        return {str(c).lower(): str(c) for c in frame.columns}

    def geo_columns(self, table: str, path: Path, mapping: SourceMapping) -> dict[str, str] | None:
        """The fields of a geo file, its CRS and coordinates checked."""
        from boundaries.sources import implausible_coordinates

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                info = pyogrio.read_info(path, layer=mapping.options.get("layer"), force_total_bounds=True)
        except Exception as exc:  # GDAL raises many kinds for a damaged file
            self.result.add(str(self.fail(table, f"{path.name} cannot be read ({_first_line(exc)}); check the file")))
            return None
        crs = mapping.options.get("crs") or info.get("crs")
        if not crs:
            self.result.add(
                str(
                    self.fail(table, f'{path.name} does not say which CRS it uses; add crs = "EPSG:...." to the source')
                )
            )
        elif info.get("total_bounds") is not None:
            problem = implausible_coordinates(
                info["total_bounds"], crs, given=bool(mapping.options.get("crs")), what="address source"
            )
            if problem:
                self.result.add(str(self.fail(table, f"{path.name}: {problem}")))
        return {str(c).lower(): str(c) for c in info.get("fields", [])}

    # -- helpers ---------------------------------------------------------------------------

    def exists(self, table: str, path: Path) -> bool:
        if path.is_file():
            return True
        self.result.add(
            str(
                self.fail(
                    table,
                    f"names {path}, which does not exist; fix the path (relative to the "
                    "data folder, GEO311_DATA_DIR) or put the file there",
                )
            )
        )
        return False

    def missing_column(self, table: str, path: Path, key: str, column: str, columns: Mapping[str, str]) -> None:
        there = ", ".join(list(columns.values())[:25]) + (", ..." if len(columns) > 25 else "")
        self.result.add(
            str(
                self.fail(
                    table,
                    f"{key} names {column!r}, which {path.name} does not have (its columns: {there}); fix the name",
                )
            )
        )


def _sentence(exc: BaseException) -> str:
    return str(exc).strip().rstrip(".")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def main(argv: list[str] | None = None) -> int:
    """``python -m app.city_check [NAME]``: the check without the web app; exit code 1 on problems."""
    from core.settings import Settings

    args = sys.argv[1:] if argv is None else argv
    settings = Settings.from_env()
    result = check_city(args[0] if args else settings.city, settings.cities_dir, settings.data_dir)
    print(result.report())
    return 0 if result.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
