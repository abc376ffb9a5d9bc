"""Reply templates of a city file (``[[reply_templates]]``): what staff send residents, per service and status.

A template's text may name {reference}, {service}, {status} and {address}; staff edit the
filled-in text before it is sent. A city that defines none gets :data:`DEFAULT_REPLY_TEMPLATES`.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from core.errors import ConfigError
from core.states import STATES

#: The placeholders a template's text may use.
PLACEHOLDERS = ("reference", "service", "status", "address")
#: The longest text a template (and a reply) may have.
MAX_REPLY = 2000
TEMPLATE_KEYS = ("name", "services", "statuses", "text")


@dataclass(frozen=True)
class ReplyTemplate:
    """A reply for the requests of some services (all when empty) in some states (all when empty)."""

    name: str
    text: str
    services: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()

    def fits(self, service_code: str, status: str) -> bool:
        """Whether the template is meant for a request of this service in this state."""
        return (not self.services or service_code in self.services) and (not self.statuses or status in self.statuses)

    def fill(self, values: Mapping[str, str]) -> str:
        """The text with its placeholders replaced by ``values`` (reference, service, status, address)."""
        return self.text.format_map({key: values.get(key, "") for key in PLACEHOLDERS})


DEFAULT_REPLY_TEMPLATES = (
    ReplyTemplate(
        "Received",
        "Thank you for your request {reference} ({service}) at {address}. We have it and will keep you informed.",
    ),
    ReplyTemplate(
        "Work scheduled",
        "Your request {reference} ({service}) is {status}. A crew will come to {address}.",
        statuses=("acknowledged", "in_progress", "scheduled"),
    ),
    ReplyTemplate(
        "Closed",
        "Your request {reference} ({service}) at {address} is closed: {status}. Thank you for reporting it.",
        statuses=tuple(s for s in STATES if s not in ("submitted", "acknowledged", "in_progress", "scheduled")),
    ),
)


def parse_reply_templates(
    raw: object, service_codes: set[str], fail: Callable[[str, str], ConfigError]
) -> tuple[ReplyTemplate, ...]:
    """``[[reply_templates]]`` checked: a name, a text whose placeholders are known, known services and states."""
    if raw is None:
        return DEFAULT_REPLY_TEMPLATES
    if not isinstance(raw, list) or not all(isinstance(t, dict) for t in raw):
        raise fail("reply_templates", "must be written as [[reply_templates]] tables (name, text, services, statuses)")
    templates: list[ReplyTemplate] = []
    for i, entry in enumerate(raw):
        table = f"reply_templates #{i + 1}"
        unknown = sorted(set(entry) - set(TEMPLATE_KEYS))
        if unknown:
            raise fail(table, f"does not know {unknown[0]!r}; use {', '.join(TEMPLATE_KEYS)}")
        name, text = entry.get("name"), entry.get("text")
        if not isinstance(name, str) or not name.strip():
            raise fail(table, 'needs name = "..."')
        if not isinstance(text, str) or not text.strip():
            raise fail(table, f'({name}) needs text = "..."')
        if len(text) > MAX_REPLY:
            raise fail(table, f"({name}) text is {len(text)} characters; at most {MAX_REPLY}")
        try:
            fields = [f for _, f, _, _ in string.Formatter().parse(text) if f is not None]
        except ValueError as exc:
            raise fail(
                table, f"({name}) text has a broken placeholder ({exc}); write {{{{ and }}}} for braces"
            ) from exc
        for placeholder in fields:
            if placeholder not in PLACEHOLDERS:
                raise fail(
                    table,
                    f"({name}) text names {{{placeholder}}}; use " + ", ".join("{" + p + "}" for p in PLACEHOLDERS),
                )
        services = _names(entry, "services", table, fail)
        for code in services:
            if code not in service_codes:
                raise fail(table, f"({name}) names service {code!r}, which is not in the city's [[services]]")
        statuses = _names(entry, "statuses", table, fail)
        for status in statuses:
            if status not in STATES:
                raise fail(table, f"({name}) names status {status!r}; use one of {', '.join(STATES)}")
        templates.append(ReplyTemplate(name.strip(), text.strip(), services, statuses))
    names = [t.name for t in templates]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise fail("reply_templates", f"two templates are named {duplicated[0]!r}; give each its own name")
    return tuple(templates)


def _names(entry: Mapping[str, Any], key: str, table: str, fail: Callable[[str, str], ConfigError]) -> tuple[str, ...]:
    value = entry.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise fail(table, f'{key} must be a list of names, e.g. {key} = ["a", "b"]')
    return tuple(v.strip() for v in value)
