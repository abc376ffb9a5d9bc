"""The city file's service catalogue: departments, services, their rules and their questions.

Each service (request type) says which department it goes to (and which assignee), its
service level, whether contact data is asked, required or never collected (sensitive
services collect none, so that nobody can learn who reported), whether a location is
required, optional (a general location or cross streets) or not asked, and its own
questions in the Open311 service-definition model, and its words in the city's other
languages (``translations``, :func:`parse_translations`). The catalogue is part of the city
file (``[[departments]]``, ``[[services]]``); ``flask services sync`` copies it into the
database, where the admin page edits it (:mod:`service_requests.catalogue_db`, whose
table's attributes have the names of the fields here).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from core.errors import ConfigError
from core.i18n import language_problem

DATATYPES = ("string", "number", "datetime", "text", "singlevaluelist", "multivaluelist")
CONTACT_POLICIES = ("ask", "require", "never")
LOCATION_POLICIES = ("required", "optional", "none")


@dataclass(frozen=True)
class Priority:
    """A priority a department works to, e.g. "Emergency" within 4 hours, or "Routine" (no time)."""

    name: str
    hours: int | None = None

    @property
    def label(self) -> str:
        """E.g. "Emergency: 4 hours" or "Routine"."""
        return f"{self.name}: {self.hours} hour{'s' if self.hours != 1 else ''}" if self.hours else self.name


@dataclass(frozen=True)
class Crew:
    """A named crew of a department (e.g. "Tree crew 3"), assignable like its staff."""

    code: str
    name: str


def parse_crews(raw: Any, table: str, fail: Callable[[str, str], ConfigError]) -> tuple[Crew, ...]:
    """A department's ``crews``: a list of tables with a ``code`` (letters, digits, - and _) and a ``name``."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise fail(table, 'crews must be a list such as [{ code = "tree-3", name = "Tree crew 3" }]')
    found: list[Crew] = []
    for j, entry in enumerate(raw):
        where = f"{table} crew #{j + 1}"
        if not isinstance(entry, dict):
            raise fail(where, 'must be a table such as { code = "tree-3", name = "Tree crew 3" }')
        unknown = set(entry) - {"code", "name"}
        if unknown:
            raise fail(where, f"has unknown key(s) {', '.join(sorted(unknown))}; a crew has code and name")
        code, name = entry.get("code"), entry.get("name")
        if not isinstance(code, str) or not re.fullmatch(r"[A-Za-z0-9_-]{1,32}", code):
            raise fail(where, f"code must be 1 to 32 letters, digits, - or _, not {code!r}")
        if not isinstance(name, str) or not name.strip():
            raise fail(where, "needs a name")
        if any(c.code == code for c in found):
            raise fail(where, f"repeats the crew code {code!r}")
        found.append(Crew(code, name.strip()[:100]))
    return tuple(found)


@dataclass(frozen=True)
class CatalogueDepartment:
    """A department of the city file's catalogue (stored as :class:`service_requests.models.Department`)."""

    code: str
    name: str
    supervisor_email: str | None = None


def parse_priorities(raw: Any, table: str, fail: Callable[[str, str], ConfigError]) -> tuple[Priority, ...]:
    """A department's ``priorities``: a list of tables with a ``name`` and optional whole ``hours``."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise fail(table, 'priorities must be a list such as [{ name = "Emergency", hours = 4 }, { name = "Routine" }]')
    found: list[Priority] = []
    for j, entry in enumerate(raw):
        where = f"{table} priority #{j + 1}"
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) or not entry["name"].strip():
            raise fail(where, "needs a name")
        unknown = set(entry) - {"name", "hours"}
        if unknown:
            raise fail(where, f"has unknown key(s) {', '.join(sorted(unknown))}; a priority has name and hours")
        hours = entry.get("hours")
        if hours is not None and (isinstance(hours, bool) or not isinstance(hours, int) or hours < 1):
            raise fail(where, f"hours must be a whole number of 1 or more, not {hours!r}")
        name = entry["name"].strip()[:60]
        if any(p.name == name for p in found):
            raise fail(where, f"repeats the priority {name!r}")
        found.append(Priority(name, hours))
    return tuple(found)


@dataclass(frozen=True)
class ServiceLevel:
    """How long the city gives itself: ``hours`` of clock time or ``business_days``."""

    hours: int | None = None
    business_days: int | None = None

    def describe(self) -> str:
        if self.hours is not None:
            return f"{self.hours} hours"
        return f"{self.business_days} business day{'s' if self.business_days != 1 else ''}"

    def describe_in(self, ngettext: Callable[[str, str, int], str]) -> str:
        """The service level in the words of a catalogue's ``ngettext`` ("48 horas", "5 días hábiles")."""
        if self.hours is not None:
            return ngettext("%(num)d hour", "%(num)d hours", self.hours) % {"num": self.hours}
        days = self.business_days or 0
        return ngettext("%(num)d business day", "%(num)d business days", days) % {"num": days}

    def as_dict(self) -> dict[str, int]:
        return {k: v for k, v in (("hours", self.hours), ("business_days", self.business_days)) if v is not None}

    @classmethod
    def from_description(cls, text: str | None) -> ServiceLevel | None:
        """The service level that :meth:`describe` wrote as ``text`` (a request keeps its promise in those
        words), to write it again in another language; None for words it did not write."""
        found = re.fullmatch(r"(\d{1,6}) (hours|business days?)", (text or "").strip())
        if found is None:
            return None
        number = int(found.group(1))
        return cls(hours=number) if found.group(2) == "hours" else cls(business_days=number)


@dataclass(frozen=True)
class AttributeValue:
    key: str
    name: str


@dataclass(frozen=True)
class Attribute:
    """A service-specific question (Open311 ``attribute``)."""

    code: str
    description: str
    datatype: str
    required: bool = False
    order: int = 0
    datatype_description: str | None = None
    values: tuple[AttributeValue, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "description": self.description,
            "datatype": self.datatype,
            "required": self.required,
            "order": self.order,
            "datatype_description": self.datatype_description,
            "values": [{"key": v.key, "name": v.name} for v in self.values],
        }

    @classmethod
    def from_dict(cls, stored: Mapping[str, Any]) -> Attribute:
        """The attribute of its :meth:`as_dict` (as the database stores it)."""
        return cls(
            code=stored["code"],
            description=stored["description"],
            datatype=stored["datatype"],
            required=stored["required"],
            order=stored.get("order", 0),
            datatype_description=stored.get("datatype_description"),
            values=tuple(AttributeValue(v["key"], v["name"]) for v in stored.get("values", [])),
        )


@dataclass(frozen=True)
class Service:
    """A request type and its rules."""

    code: str
    name: str
    department: str
    service_level: ServiceLevel
    description: str = ""
    group: str = ""
    keywords: tuple[str, ...] = ()
    default_assignee: str | None = None
    contact: str = "ask"
    location: str = "required"
    attributes: tuple[Attribute, ...] = ()
    source_name: str | None = None  # the name the city's history files use
    public_photos: bool = False  # whether the public status page and Open311 show the requests' photos
    #: The service's words in other languages, by language code (the city file's
    #: ``[services.translations.es]``): see :func:`parse_translations` for the shape.
    translations: Mapping[str, Mapping[str, Any]] = field(default_factory=dict, hash=False)

    @property
    def sensitive(self) -> bool:
        return self.contact == "never"

    def in_language(self, language: str | None) -> Service:
        """The service with its words (name, group, description, keywords, questions and answers) in
        ``language`` where a translation gives them; codes and keys never change."""
        words = self.translations.get(language or "")
        if not words:
            return self
        questions = words.get("attributes", {})
        attributes = tuple(
            replace(
                a,
                description=questions.get(a.code, {}).get("description", a.description),
                datatype_description=questions.get(a.code, {}).get("datatype_description", a.datatype_description),
                values=tuple(
                    AttributeValue(v.key, questions.get(a.code, {}).get("values", {}).get(v.key, v.name))
                    for v in a.values
                ),
            )
            for a in self.attributes
        )
        return replace(
            self,
            name=words.get("name", self.name),
            group=words.get("group", self.group),
            description=words.get("description", self.description),
            keywords=tuple(words["keywords"]) if "keywords" in words else self.keywords,
            attributes=attributes,
        )

    def as_entry(self) -> dict[str, Any]:
        """The service in the city file's shape (what :func:`parse_service` reads back as this service)."""
        entry: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self)}
        entry.update(
            service_level=self.service_level.as_dict(),
            keywords=list(self.keywords),
            attributes=[a.as_dict() for a in self.attributes],
            translations={language: dict(words) for language, words in self.translations.items()},
        )
        return entry


@dataclass(frozen=True)
class Catalogue:
    departments: Mapping[str, CatalogueDepartment] = field(default_factory=dict)
    services: Mapping[str, Service] = field(default_factory=dict)
    #: Each department's priorities (the file's ``priorities = [{ name = "Emergency", hours = 4 }, { name =
    #: "Routine" }]`` in its ``[[departments]]`` entry), most urgent first: what its staff may set on a request.
    #: Read from the city file, not stored; a department without any is left out.
    priorities: Mapping[str, tuple[Priority, ...]] = field(default_factory=dict)
    #: Each department's named crews (``crews = [{ code = "tree-3", name = "Tree crew 3" }]`` in its
    #: ``[[departments]]`` entry), assignable beside its staff accounts. Read from the city file, not stored.
    crews: Mapping[str, tuple[Crew, ...]] = field(default_factory=dict)


def parse_catalogue(raw: Mapping[str, Any], fail: Callable[[str, str], ConfigError]) -> Catalogue:
    """The ``[[departments]]`` and ``[[services]]`` of a city file, checked."""
    departments: dict[str, CatalogueDepartment] = {}
    priorities: dict[str, tuple[Priority, ...]] = {}
    crews: dict[str, tuple[Crew, ...]] = {}
    for i, entry in enumerate(raw.get("departments", [])):
        table = f"departments #{i + 1}"
        code, name = entry.get("code"), entry.get("name")
        if not isinstance(code, str) or not code or not isinstance(name, str) or not name:
            raise fail(table, "needs code and name")
        departments[code] = CatalogueDepartment(code, name, entry.get("supervisor_email"))
        priorities[code] = parse_priorities(entry.get("priorities"), table, fail)
        crews[code] = parse_crews(entry.get("crews"), table, fail)

    services: dict[str, Service] = {}
    for i, entry in enumerate(raw.get("services", [])):
        service = parse_service(entry, departments, fail, f"services #{i + 1}")
        if service.code in services:
            raise fail(f"services #{i + 1}", f"repeats the code {service.code!r}")
        services[service.code] = service
    return Catalogue(
        departments,
        services,
        {code: found for code, found in priorities.items() if found},
        {code: found for code, found in crews.items() if found},
    )


def parse_service(
    entry: Mapping[str, Any],
    departments: Collection[str],
    fail: Callable[[str, str], Exception],
    table: str = "service",
) -> Service:
    """One service in the city file's shape (also what the admin page submits), checked.

    ``fail(table, message)`` builds the exception to raise, so that the city file and the
    admin page each report problems in their own terms.
    """
    code = entry.get("code")
    if not isinstance(code, str) or not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,63}", code):
        raise fail(table, "needs a code of lower-case letters, digits and - (it appears in URLs)")
    department = entry.get("department")
    if department not in departments:
        raise fail(table, f"names department {department!r}, which is not among the departments")
    contact, location = entry.get("contact", "ask"), entry.get("location", "required")
    if contact not in CONTACT_POLICIES:
        raise fail(table, f"contact must be one of {', '.join(CONTACT_POLICIES)}")
    if location not in LOCATION_POLICIES:
        raise fail(table, f"location must be one of {', '.join(LOCATION_POLICIES)}")
    attributes = tuple(
        _attribute(f"{table} attribute #{j + 1}", a, j, fail) for j, a in enumerate(entry.get("attributes", []))
    )
    codes = [a.code for a in attributes]
    if len(set(codes)) != len(codes):
        raise fail(table, "gives two attributes the same code")
    public_photos = entry.get("public_photos", False)
    if not isinstance(public_photos, bool):
        raise fail(table, "public_photos must be true or false")
    return Service(
        code=code,
        name=str(entry.get("name") or code),
        department=str(department),
        service_level=_service_level(table, entry.get("service_level"), fail),
        description=str(entry.get("description", "")),
        group=str(entry.get("group", "")),
        keywords=tuple(str(k) for k in entry.get("keywords", [])),
        default_assignee=entry.get("default_assignee"),
        contact=contact,
        location=location,
        attributes=attributes,
        source_name=entry.get("source_name"),
        public_photos=public_photos,
        translations=parse_translations(entry.get("translations"), attributes, table, fail),
    )


#: What a service's translation may give: its words, never its codes or rules.
TRANSLATED_FIELDS = ("name", "group", "description", "keywords", "attributes")
TRANSLATED_ATTRIBUTE_FIELDS = ("description", "datatype_description", "values")


def parse_translations(
    raw: Any, attributes: tuple[Attribute, ...], table: str, fail: Callable[[str, str], Exception]
) -> dict[str, dict[str, Any]]:
    """A service's ``translations``: per language code, its words in that language, checked.

    In the city file, after the service's ``[[services]]`` entry::

        [services.translations.es]
        name = "Grafiti"
        description = "Eliminación de grafiti de paredes, cercas y postes."
        keywords = ["pintura", "vandalismo"]
        attributes.surface = { description = "¿Dónde está el grafiti?", values = { wall = "Pared", fence = "Cerca" } }

    Every part is optional (what is missing is shown in the default language); an attribute or
    answer must be one the service has, so that a typo is caught instead of silently ignored.
    """
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise fail(table, "translations must be a table of languages, e.g. [services.translations.es]")
    by_code = {a.code: a for a in attributes}
    found: dict[str, dict[str, Any]] = {}
    for language, words in raw.items():
        where = f"{table} translations.{language}"
        problem = language_problem(language)
        if problem:
            raise fail(where, problem)
        if not isinstance(words, Mapping):
            raise fail(where, 'must be a table such as { name = "...", description = "..." }')
        unknown = set(words) - set(TRANSLATED_FIELDS)
        if unknown:
            raise fail(
                where,
                f"has unknown key(s) {', '.join(sorted(unknown))}; a translation has {', '.join(TRANSLATED_FIELDS)}",
            )
        entry: dict[str, Any] = {}
        for key in ("name", "group", "description"):
            if key in words:
                entry[key] = _text(words[key], f"{where} {key}", fail)
        if "keywords" in words:
            if not isinstance(words["keywords"], list):
                raise fail(where, 'keywords must be a list of words, e.g. ["sofá", "colchón"]')
            entry["keywords"] = [_text(k, f"{where} keywords", fail) for k in words["keywords"]]
        questions = words.get("attributes", {})
        if not isinstance(questions, Mapping):
            raise fail(where, "attributes must be a table of the service's attribute codes")
        entry_questions: dict[str, dict[str, Any]] = {}
        for code, question in questions.items():
            attribute = by_code.get(code)
            if attribute is None:
                raise fail(
                    where,
                    f"translates the attribute {code!r}, which the service does not have"
                    f" (it has: {', '.join(by_code) or 'none'})",
                )
            entry_questions[code] = _attribute_translation(question, attribute, f"{where} attribute {code}", fail)
        if entry_questions:
            entry["attributes"] = entry_questions
        found[language] = entry
    return found


def _attribute_translation(
    raw: Any, attribute: Attribute, where: str, fail: Callable[[str, str], Exception]
) -> dict[str, Any]:
    if not isinstance(raw, Mapping):
        raise fail(where, 'must be a table such as { description = "...", values = { key = "..." } }')
    unknown = set(raw) - set(TRANSLATED_ATTRIBUTE_FIELDS)
    if unknown:
        raise fail(
            where,
            f"has unknown key(s) {', '.join(sorted(unknown))}; it may give {', '.join(TRANSLATED_ATTRIBUTE_FIELDS)}",
        )
    entry: dict[str, Any] = {}
    for key in ("description", "datatype_description"):
        if key in raw:
            entry[key] = _text(raw[key], f"{where} {key}", fail)
    if "values" in raw:
        values = raw["values"]
        keys = {v.key for v in attribute.values}
        if not isinstance(values, Mapping):
            raise fail(where, 'values must be a table of the answer keys, e.g. values = { yes = "Sí", no = "No" }')
        for key in values:
            if key not in keys:
                raise fail(
                    where, f"translates the answer {key!r}, which is not among its answers ({', '.join(sorted(keys))})"
                )
        entry["values"] = {key: _text(name, f"{where} answer {key}", fail) for key, name in values.items()}
    return entry


def _text(value: Any, where: str, fail: Callable[[str, str], Exception]) -> str:
    if not isinstance(value, str) or not value.strip():
        raise fail(where, "must be a text that is not empty")
    return value.strip()


def _service_level(table: str, raw: object, fail: Callable[[str, str], Exception]) -> ServiceLevel:
    if not isinstance(raw, dict) or len(raw) != 1 or not set(raw) <= {"hours", "business_days"}:
        raise fail(table, "needs service_level = { hours = N } or { business_days = N }")
    ((unit, amount),) = raw.items()
    if not isinstance(amount, int) or amount <= 0:
        raise fail(table, "the service level must be a whole number above 0")
    return ServiceLevel(**{unit: amount})


def _attribute(table: str, raw: Mapping[str, Any], order: int, fail: Callable[[str, str], Exception]) -> Attribute:
    code, datatype = raw.get("code"), raw.get("datatype")
    if not isinstance(code, str) or not re.fullmatch(r"[A-Za-z0-9_]{1,64}", code):
        raise fail(table, "needs a code of letters, digits and _")
    if datatype not in DATATYPES:
        raise fail(table, f"datatype must be one of {', '.join(DATATYPES)}")
    raw_values = raw.get("values", [])
    if not isinstance(raw_values, list) or not all(
        isinstance(v, Mapping) and str(v.get("key", "")).strip() for v in raw_values
    ):
        raise fail(table, "gives a value without a key: write values = [{ key = ..., name = ... }, ...]")
    values = tuple(AttributeValue(str(v["key"]).strip(), str(v.get("name") or v["key"]).strip()) for v in raw_values)
    if len({v.key for v in values}) != len(values):
        raise fail(table, "repeats a value key")
    if datatype.endswith("valuelist") and not values:
        raise fail(table, f"a {datatype} needs values = [{{ key = ..., name = ... }}, ...]")
    return Attribute(
        code=code,
        description=str(raw.get("description", code)),
        datatype=datatype,
        required=bool(raw.get("required", False)),
        order=int(raw.get("order", order + 1)),
        datatype_description=raw.get("datatype_description"),
        values=values,
    )
