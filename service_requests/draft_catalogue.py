"""A draft service catalogue from a city's request history, for a person to review.

A city moving onto the platform has years of requests of a hundred or more types but no
``[[services]]`` written yet. :func:`draft_catalogue` reads the configured history and
writes ``[[departments]]`` and ``[[services]]`` in the city file's shape: one service per
request type (its name as ``source_name``, so the history import finds it), the
department that handles most of its requests, and a service level taken from the city's
own target dates where the history has them, else from how long its requests took to
close (the 80th percentile). Each entry carries a comment saying what it was drawn from;
contact and location rules are the cautious defaults ("ask", "required"). The draft is
text: the city reviews it and pastes it into its file.
"""

from __future__ import annotations

import json
import math
import re
import tomllib
from dataclasses import dataclass, replace

import pandas as pd

from core.catalogue_file import parse_catalogue
from core.city import CityConfig
from core.errors import ConfigError, UserError
from service_requests.importer import datetime_formats, local_datetimes, read_history

#: The share of closed requests a service level from close times should cover.
CLOSE_QUANTILE = 0.8
#: Up to this many hours a service level is written in hours, beyond in business days.
MAX_HOURS = 72


@dataclass(frozen=True)
class DraftService:
    code: str
    name: str
    department: str
    requests: int
    level: dict[str, int]
    basis: str


@dataclass(frozen=True)
class DraftCatalogue:
    """The drafted departments (code -> requests) and services, and their TOML."""

    departments: dict[str, int]
    services: list[DraftService]

    def toml(self, city_name: str) -> str:
        lines = [
            f"# Draft catalogue of the {city_name}, made from its request history by `flask services draft`.",
            "# Review every entry (names, departments, service levels, contact and location rules,",
            "# attributes) before pasting it into the city file.",
            "",
        ]
        for code, count in sorted(self.departments.items()):
            lines += ["[[departments]]", f"code = {_string(code)}", f"name = {_string(code)}  # {count:,} requests", ""]
        for s in self.services:
            level = ", ".join(f"{k} = {v}" for k, v in s.level.items())
            lines += [
                "[[services]]",
                f"code = {_string(s.code)}",
                f"name = {_string(s.name)}",
                f"source_name = {_string(s.name)}",
                f"department = {_string(s.department)}",
                f"service_level = {{ {level} }}  # {s.basis}",
                'contact = "ask"',
                'location = "required"',
                f"# {s.requests:,} requests in the history",
                "",
            ]
        return "\n".join(lines)


def with_draft_catalogue(city: CityConfig) -> CityConfig:
    """``city`` with the draft drafted from its history as its catalogue, where the city file has none."""
    if city.catalogue.services:
        return city
    raw = tomllib.loads(draft_catalogue(city).toml(city.name))

    def fail(table: str, message: str) -> ConfigError:
        return ConfigError(f"draft catalogue: [{table}] {message}.")

    return replace(city, catalogue=parse_catalogue(raw, fail))


def draft_catalogue(city: CityConfig) -> DraftCatalogue:
    """Departments and services drafted from the history of ``city``."""
    mapping = city.requests
    if mapping is None:
        raise UserError(
            f"The city {city.key} configures no request history to draft a catalogue from; "
            f"add [requests] to {city.path.name}."
        )
    if "service_name" not in mapping.fields:
        raise UserError("[requests.fields] maps no service_name: the request types are needed to draft services.")
    frame = read_history(mapping)
    formats = datetime_formats(mapping)
    frame["service_name"] = frame["service_name"].fillna("").str.strip()
    frame = frame[frame["service_name"] != ""]
    if frame.empty:
        raise UserError("The history has no request with a type (service_name): nothing to draft.")
    department = frame["department"].fillna("").str.strip() if "department" in frame else pd.Series("", frame.index)
    frame = frame.assign(department=department.replace("", "GENERAL"))
    requested = local_datetimes(frame["requested_at"], formats, city.timezone) if "requested_at" in frame else None
    hours = {}
    for column in ("due_at", "closed_at"):
        if column in frame and requested is not None:
            hours[column] = (
                local_datetimes(frame[column], formats, city.timezone) - requested
            ).dt.total_seconds() / 3600

    services: list[DraftService] = []
    codes: set[str] = set()
    for name, rows in sorted(frame.groupby("service_name"), key=lambda item: -len(item[1])):
        level, basis = _service_level({k: v.loc[rows.index] for k, v in hours.items()})
        services.append(
            DraftService(_code(name, codes), name, rows["department"].mode().iloc[0], len(rows), level, basis)
        )
    return DraftCatalogue(frame["department"].value_counts().to_dict(), services)


def _service_level(hours: dict[str, pd.Series]) -> tuple[dict[str, int], str]:
    """A service level and what it was drawn from: the city's target dates, else close times."""
    due = hours.get("due_at")
    if due is not None:
        due = due[due > 0]
        if len(due):
            return _level(float(due.median())), f"the median of {len(due):,} target dates in the history"
    closed = hours.get("closed_at")
    if closed is not None:
        closed = closed[closed >= 0]
        if len(closed):
            q = float(closed.quantile(CLOSE_QUANTILE))
            return _level(q), f"{CLOSE_QUANTILE:.0%} of {len(closed):,} closed requests closed within it"
    return {"business_days": 10}, "no dates to learn from: a placeholder of 10 business days"


def _level(hours: float) -> dict[str, int]:
    if hours <= MAX_HOURS:
        return {"hours": max(1, math.ceil(hours))}
    return {"business_days": max(1, math.ceil(hours / 24 * 5 / 7))}


def _code(name: str, taken: set[str]) -> str:
    """A unique service code from a type's name: lower-case letters, digits and -."""
    base = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60] or "service"
    code, n = base, 2
    while code in taken:
        code, n = f"{base}-{n}", n + 1
    taken.add(code)
    return code


def _string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid TOML basic string
