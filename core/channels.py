"""How requests come in: each city's own channels, each in one family so that cities compare.

A city file may list its channels (``[channels.<code>] name = "...", family = "..."``)
and say which channel the built-in paths record: ``web_form`` (the resident form),
``open311`` (Open311 submissions) and ``staff_intake`` (the channels staff may pick at
intake). Without ``[channels]`` a city has :data:`DEFAULT_CHANNELS`, the nine of old.
Codes are what the database stores; names are what people read; families
(:data:`FAMILIES`) are what compares across cities.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from core.i18n import N_

#: The families every channel belongs to: code -> name for people.
FAMILIES: dict[str, str] = {
    "phone": N_("Phone"),
    "web": N_("Web"),
    "mobile_app": N_("Mobile app"),
    "email": N_("E-mail"),
    "social": N_("Social media"),
    "staff": N_("Staff"),
    "integration": N_("Integration"),
    "walk_in": N_("Walk-in"),
    "mail": N_("Mail"),
}
#: The keys of ``[channels]`` that are settings, not channels.
SETTINGS = ("web_form", "open311", "staff_intake")
#: A channel code: what ``service_request.channel`` (32 characters) stores.
CODE = re.compile(r"[a-z][a-z0-9_]{0,31}")
#: Families that staff do not take requests by (residents use them themselves).
_SELF_SERVICE = ("web", "mobile_app", "integration")


@dataclass(frozen=True)
class Channel:
    """One way a city's requests come in: its code, its name for people, its family."""

    code: str
    name: str
    family: str

    @property
    def family_name(self) -> str:
        return FAMILIES[self.family]


@dataclass(frozen=True)
class ChannelVocabulary:
    """A city's channels (in the city file's order) and which of them the built-in paths use."""

    channels: Mapping[str, Channel]
    web_form: str
    open311: str
    staff_intake: tuple[str, ...]
    own: bool = field(default=False)  # whether the city file lists its channels

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(self.channels)

    def __contains__(self, code: object) -> bool:
        return code in self.channels

    def name(self, code: str | None) -> str:
        """The city's name of ``code`` (the code itself for one the city does not have)."""
        channel = self.channels.get(code or "")
        return channel.name if channel else str(code or "unknown")

    def family(self, code: str | None) -> str | None:
        """The family of ``code``, None for a code the city does not have."""
        channel = self.channels.get(code or "")
        return channel.family if channel else None

    def names(self) -> dict[str, str]:
        """Code -> name, in the city's order (for forms and labels)."""
        return {code: c.name for code, c in self.channels.items()}

    def codes_of(self, families: tuple[str, ...] | list[str]) -> tuple[str, ...]:
        """The city's channels in any of ``families``."""
        return tuple(code for code, c in self.channels.items() if c.family in families)

    def problem(self, code: object) -> str | None:
        """None for a channel of the city, else one sentence saying which channels there are."""
        if isinstance(code, str) and code in self.channels:
            return None
        shown = "(none)" if code is None or code == "" else repr(code)
        listed = ", ".join(f"{c} ({ch.name})" for c, ch in self.channels.items())
        return f"There is no channel {shown} in this city; its channels are {listed}."

    def family_sql(self, column: str = "r.channel") -> str:
        """An SQL expression giving the family of ``column``'s channel (NULL for an unknown one).

        Codes match :data:`CODE` and families are :data:`FAMILIES` keys: both are checked
        when the city file is read, so they are safe as literals.
        """
        whens = " ".join(f"WHEN '{code}' THEN '{c.family}'" for code, c in self.channels.items())
        return f"(CASE {column} {whens} END)"


def _default() -> ChannelVocabulary:
    families = {
        "phone": "phone",
        "walk_in": "walk_in",
        "web": "web",
        "mobile_app": "mobile_app",
        "email": "email",
        "mail": "mail",
        "staff": "staff",
        "council_office": "staff",
        "open311": "integration",
    }
    names = {  # msgids: a page shows them in its language
        "phone": N_("Phone"),
        "walk_in": N_("Walk-in"),
        "web": N_("Web"),
        "mobile_app": N_("Mobile app"),
        "email": N_("E-mail"),
        "mail": N_("Mail"),
        "staff": N_("Staff"),
        "council_office": N_("Council office"),
        "open311": "Open311",
    }
    channels = {code: Channel(code, names.get(code, code.capitalize()), family) for code, family in families.items()}
    return ChannelVocabulary(
        channels, "web", "open311", tuple(c for c in channels if c not in ("web", "mobile_app", "open311"))
    )


#: The channels of a city whose file has no ``[channels]``: the nine of old, each in its family.
DEFAULT_CHANNELS = _default()


def parse_channels(raw: object, fail: Callable[[str, str], Exception]) -> ChannelVocabulary:
    """``[channels]`` of a city file (None: :data:`DEFAULT_CHANNELS`).

    ``fail(table, problem)`` returns the error to raise. ``web_form`` defaults to the
    channel ``web`` or else the first of family ``web``; ``open311`` to the channel
    ``open311`` or else the first of family ``integration``; ``staff_intake`` to every
    channel outside the families web, mobile app and integration.
    """
    if raw is None:
        return DEFAULT_CHANNELS
    if not isinstance(raw, dict):
        raise fail("channels", 'must be a table of channels: [channels.call] name = "Call", family = "phone"')
    channels: dict[str, Channel] = {}
    for code, spec in raw.items():
        if code in SETTINGS:
            continue
        table = f"channels.{code}"
        if not isinstance(spec, dict):
            raise fail("channels", f"{code!r} is neither a channel table nor one of the settings {', '.join(SETTINGS)}")
        if not CODE.fullmatch(code):
            raise fail(table, "a channel code is 1 to 32 lower-case letters, digits or _, starting with a letter")
        family = spec.get("family")
        if family not in FAMILIES:
            raise fail(
                table,
                f"family {family!r} is not a channel family; use one of {', '.join(FAMILIES)}"
                if family is not None
                else f'needs family = "...", one of {", ".join(FAMILIES)}',
            )
        name = spec.get("name", code.replace("_", " ").capitalize())
        if not isinstance(name, str) or not name.strip() or len(name) > 100:
            raise fail(table, "name must be a text of 1 to 100 characters")
        channels[code] = Channel(code, name.strip(), family)
    if not channels:
        raise fail("channels", "lists no channel; add [channels.<code>] tables or remove [channels]")

    def pick(key: str, preferred: str, family: str) -> str:
        value = raw.get(key)
        if value is None:
            if preferred in channels:
                return preferred
            found = [c for c, ch in channels.items() if ch.family == family]
            if not found:
                raise fail("channels", f'needs {key} = "...": no channel is of family {family!r} to default to')
            return found[0]
        if value not in channels:
            raise fail("channels", f"{key} = {value!r} is not one of its channels ({', '.join(channels)})")
        return str(value)

    web_form, open311 = pick("web_form", "web", "web"), pick("open311", "open311", "integration")
    staff = raw.get("staff_intake")
    if staff is None:
        staff_intake = tuple(c for c, ch in channels.items() if ch.family not in _SELF_SERVICE)
    else:
        if not isinstance(staff, list) or not all(isinstance(s, str) for s in staff):
            raise fail("channels", "staff_intake must be a list of channel codes")
        unknown = [s for s in staff if s not in channels]
        if unknown:
            raise fail(
                "channels", f"staff_intake names {unknown[0]!r}, not one of its channels ({', '.join(channels)})"
            )
        staff_intake = tuple(dict.fromkeys(staff))
    if not staff_intake:
        raise fail("channels", 'offers staff no channel at intake; list some in staff_intake = ["..."]')
    return ChannelVocabulary(channels, web_form, open311, staff_intake, own=True)
