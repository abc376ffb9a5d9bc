"""City configuration: one TOML file per city, so that a new city is data, not code.

A city file names its home jurisdiction, the neighboring agencies and where their
boundaries come from, the ward and district layers, the address and service-request
history sources with their field mappings, the time zone and the projected CRS used
for metric work. ``cities/la.toml`` is the annotated reference.

Data paths in the file are relative to the data folder (``GEO311_DATA_DIR``).
"""

from __future__ import annotations

import codecs
import contextlib
import difflib
import glob
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pyproj

from core.catalogue_file import Catalogue, parse_catalogue
from core.channels import DEFAULT_CHANNELS, ChannelVocabulary, parse_channels
from core.channels import SETTINGS as CHANNEL_SETTINGS
from core.errors import ConfigError, UserError
from core.i18n import SOURCE_LANGUAGE, language_problem
from core.replies_file import DEFAULT_REPLY_TEMPLATES, ReplyTemplate, parse_reply_templates
from core.states import STATES

#: The roles a boundary layer can play for a city.
LAYER_ROLES = ("jurisdiction", "agencies", "wards", "districts")
AREA_ROLES = ("wards", "districts")


@dataclass(frozen=True)
class FieldFilter:
    """Keep (or drop) features whose ``field`` has one of ``values``."""

    field: str
    values: tuple[str, ...]

    def matches(self, value: object) -> bool:
        return ("" if value is None else str(value)) in self.values


@dataclass(frozen=True)
class LayerSource:
    """Where a boundary layer's features come from."""

    path: Path
    layer: str | None = None  # a layer name inside a GeoPackage
    crs: str | None = None  # the CRS of the coordinates: overrides what the file declares or GDAL assumes
    where: FieldFilter | None = None


@dataclass(frozen=True)
class PopulationSpec:
    """Residents per area, for rates per 1,000: a field of the layer's features, or a CSV
    file (relative to the data folder) with a column of area ids and one of residents."""

    field: str | None = None
    path: Path | None = None
    key_column: str = "key"
    value_column: str = "population"


@dataclass(frozen=True)
class AreaLayerSpec:
    """A ward or district layer: one feature per area, with an id and a name."""

    role: str
    label: str
    source: LayerSource
    id_field: str
    name_field: str | None = None
    name_template: str = "{name}"
    population: PopulationSpec | None = None


@dataclass(frozen=True)
class Contact:
    """How to reach an agency."""

    name: str
    phone: str | None = None
    website: str | None = None
    #: the city's own contact only: the number to call from outside the city when ``phone`` is a short
    #: code such as 311 (``[city] phone_outside``)
    phone_outside: str | None = None


@dataclass(frozen=True)
class JurisdictionSpec:
    """The home jurisdiction: the dissolved union of the source's (filtered) features.

    Dissolving districts whose lines do not quite meet leaves sliver holes; holes
    smaller than ``fill_holes_below_m2`` are filled (and the load reports it).
    """

    contact: Contact
    source: LayerSource
    fill_holes_below_m2: float = 0.0


@dataclass(frozen=True)
class AgencyRule:
    """Contact details for every agency feature matching all the ``where`` filters.

    ``name`` may use ``{name}``, the feature's own name (e.g. "Unincorporated {name}").
    """

    where: tuple[FieldFilter, ...]
    name: str
    phone: str | None = None
    website: str | None = None


@dataclass(frozen=True)
class FallbackContact:
    """Whom to send a caller whose point lies in no layer: in neither the home jurisdiction
    nor any agency feature (a gap between the layers), e.g. the county."""

    name: str
    phone: str
    website: str
    note: str | None = None


#: Gaps between the layers smaller than this (m²) are slivers of digitizing, not reported.
DEFAULT_IGNORE_GAPS_BELOW_M2 = 10_000.0


@dataclass(frozen=True)
class AgenciesSpec:
    """Neighboring agencies: every feature of a layer except the home jurisdiction's.

    Features sharing a non-empty ``group_field`` value are one agency (the segments
    of a city); the others are an agency each, keyed by ``id_field``. Contact details
    come from ``contacts`` (by agency key), else from the first matching rule, else
    only the feature's name is known.

    ``fallback`` answers for points in no layer; the boundary load reports the gaps
    between the jurisdiction and the agencies of ``ignore_gaps_below_m2`` or more.
    """

    source: LayerSource
    id_field: str
    name_field: str
    group_field: str | None = None
    exclude: FieldFilter | None = None
    contacts: Mapping[str, Contact] = field(default_factory=dict)
    rules: tuple[AgencyRule, ...] = ()
    fallback: FallbackContact | None = None
    ignore_gaps_below_m2: float = DEFAULT_IGNORE_GAPS_BELOW_M2

    def contact_for(self, key: str, feature_name: str, properties: Mapping[str, Any]) -> Contact:
        """The contact of the agency ``key`` whose (first) feature is ``feature_name``."""
        if key in self.contacts:
            return self.contacts[key]
        for rule in self.rules:
            if all(f.matches(properties.get(f.field)) for f in rule.where):
                return Contact(rule.name.format(name=feature_name), rule.phone, rule.website)
        return Contact(feature_name)


#: A point of the request history is a placeholder (a city hall, a district centroid) when at least
#: this many requests with at least this many different addresses share it; a city may set both in
#: ``[requests]`` (``placeholder_min_requests``, ``placeholder_min_addresses``).
PLACEHOLDER_MIN_REQUESTS = 10
PLACEHOLDER_MIN_ADDRESSES = 5


@dataclass(frozen=True)
class SourceMapping:
    """A tabular source (addresses, request history) and how its columns map to ours."""

    paths: tuple[Path, ...]
    fields: Mapping[str, str]
    where: FieldFilter | None = None
    options: Mapping[str, Any] = field(default_factory=dict)


def file_names(paths: tuple[Path, ...] | list[Path]) -> str:
    """The files of a source for a message: all their names when few, else how many and the first and last."""
    names = [p.name for p in paths]
    if len(names) <= 3:
        return ", ".join(names)
    return f"{len(names)} files ({names[0]} ... {names[-1]})"


#: The kinds of address source and the rank each takes unless the city file gives one
#: (lower is more authoritative): where two sources hold the same address, the better
#: ranked one is kept.
ADDRESS_SOURCE_KINDS: Mapping[str, int] = {"points": 10, "parcels": 20, "centerlines": 30, "list": 40, "history": 90}


@dataclass(frozen=True)
class AddressSource:
    """One source of the address database: its kind, rank, owner and field mapping.

    ``agency`` names the neighbouring agency whose data it is (None: the city's own).
    A ``list`` source has no coordinates: its addresses are placed on the address
    ranges of the centerline source ``place_on``.
    """

    key: str
    kind: str
    rank: int
    mapping: SourceMapping
    agency: str | None = None
    place_on: str | None = None


@dataclass(frozen=True)
class AddressSettings:
    """The address database of a city: its sources, and how typed places are read.

    ``place_names``: per agency key, the names and aliases people type for it
    ("WEHO"); its official name is always known. ``zipcodes``: per agency key, its ZIP
    codes. Interpolation between two known numbers on one side of a street is allowed
    when they are at most ``interpolation_max_gap`` numbers and
    ``interpolation_max_distance_m`` metres apart.
    """

    sources: tuple[AddressSource, ...]
    place_names: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    zipcodes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    home_place_names: tuple[str, ...] = ()
    interpolation_max_gap: int = 200
    interpolation_max_distance_m: float = 600.0

    def source(self, key: str) -> AddressSource:
        for source in self.sources:
            if source.key == key:
                return source
        raise KeyError(key)

    @property
    def paths(self) -> tuple[Path, ...]:
        return tuple(p for s in self.sources for p in s.mapping.paths)

    @classmethod
    def single(cls, mapping: SourceMapping, kind: str = "points", key: str = "addresses") -> AddressSettings:
        """One source read through ``mapping`` (the original, single-table form of ``[addresses]``)."""
        return cls((AddressSource(key, kind, ADDRESS_SOURCE_KINDS[kind], mapping),))


@dataclass(frozen=True)
class IntakeSettings:
    """Duplicate hints at intake (open requests of the same service this close and this recent), and the
    candidate duplicates a staff request page lists (open or closed, within days of the request's time)."""

    duplicate_radius_public_m: float = 250.0
    duplicate_radius_staff_m: float = 1000.0
    duplicate_days: int = 30
    candidate_radius_m: float = 200.0
    candidate_days: int = 30

    def radius(self, staff: bool) -> float:
        return self.duplicate_radius_staff_m if staff else self.duplicate_radius_public_m


@dataclass(frozen=True)
class PublicMapSettings:
    """The public map and list of reports (``[public_map]``): which requests anyone may see.

    Open requests made in the last ``open_days`` days and requests closed in the last
    ``closed_days`` days (``older_closed_days`` when a visitor asks for older ones), at most
    ``max_points`` of them, the newest first; each point moved to a grid of ``snap_m`` metres
    so that no one's door is pointed at.
    """

    open_days: int = 90
    closed_days: int = 30
    older_closed_days: int = 365
    max_points: int = 1000
    snap_m: float = 30.0


@dataclass(frozen=True)
class Open311Settings:
    """How the city presents itself on the Open311 GeoReport v2 API.

    ``jurisdiction_id`` is what clients send as ``jurisdiction_id`` (the spec suggests the
    city's web domain without ``www``); the city key is accepted too.
    ``publish_descriptions``: whether GET responses carry the requester's own words
    (names and phone numbers happen in them, so by default they do not).
    ``client_updates_public``: whether the comments and status changes API clients post
    (servicerequestupdates) are public (status page, GET answers) or kept for staff only.
    """

    jurisdiction_id: str
    publish_descriptions: bool = False
    contact: str | None = None
    key_service: str | None = None
    client_updates_public: bool = False


#: The keys of the city file's [open311] table.
_OPEN311_KEYS = ("jurisdiction_id", "publish_descriptions", "contact", "key_service", "client_updates_public")


@dataclass(frozen=True)
class ReportSettings:
    """Performance reports: the month the city's fiscal year starts (1 = January, 7 = July)."""

    fiscal_year_start_month: int = 7


@dataclass(frozen=True)
class PhotoSettings:
    """Photos attached to requests (``[photos]``): how many per request, how large a file and an image may be,
    and the longest side they are stored at (larger ones are scaled down)."""

    max_per_request: int = 3
    max_bytes: int = 10_000_000
    max_pixels: int = 40_000_000
    longest_side: int = 1600


#: The keys of ``[photos]`` and the range each accepts.
_PHOTO_LIMITS = {
    "max_per_request": (0, 20),
    "max_bytes": (10_000, 50_000_000),
    "max_pixels": (10_000, 200_000_000),
    "longest_side": (200, 8000),
}


@dataclass(frozen=True)
class CityConfig:
    """Everything that makes one city different from another."""

    key: str
    name: str
    timezone: str
    projected_crs: str
    contact: Contact
    jurisdiction: JurisdictionSpec
    agencies: AgenciesSpec | None
    areas: Mapping[str, AreaLayerSpec]
    addresses: AddressSettings | None
    requests: SourceMapping | None
    path: Path
    data_dir: Path
    catalogue: Catalogue = field(default_factory=Catalogue)
    intake: IntakeSettings = field(default_factory=lambda: IntakeSettings())
    open311: Open311Settings = field(default_factory=lambda: Open311Settings(jurisdiction_id=""))
    reports: ReportSettings = field(default_factory=ReportSettings)
    photos: PhotoSettings = field(default_factory=PhotoSettings)
    public_map: PublicMapSettings = field(default_factory=PublicMapSettings)
    channels: ChannelVocabulary = DEFAULT_CHANNELS
    reply_templates: tuple[ReplyTemplate, ...] = DEFAULT_REPLY_TEMPLATES
    #: The languages the city offers (``[city] languages``), its default first; the web offers those
    #: with a catalogue (:func:`core.i18n.offered_languages`).
    languages: tuple[str, ...] = (SOURCE_LANGUAGE,)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def ward_layer(self) -> AreaLayerSpec | None:
        return self.areas.get("wards")

    @property
    def district_layer(self) -> AreaLayerSpec | None:
        return self.areas.get("districts")

    def roles(self) -> tuple[str, ...]:
        """The layer roles this city configures, in load order."""
        roles = ["jurisdiction"]
        if self.agencies is not None:
            roles.append("agencies")
        roles.extend(role for role in AREA_ROLES if role in self.areas)
        return tuple(roles)


# -- the keys a city file may use --------------------------------------------------------

#: Our field names that an address source may map to its columns (address_db/loader.py).
ADDRESS_FIELDS = (
    "full_address",
    "house_number",
    "number_suffix",
    "predirectional",
    "street_pretype",
    "street_article",
    "street_name",
    "suffix",
    "postdirectional",
    "unit_type",
    "unit",
    "zipcode",
    "postal_city",
    "postal_cities",
    "legal_city",
    "parcel_number",
    "address_id",
    "location_key",
    "source_ref",
    "latitude",
    "longitude",
    # centerlines
    "full_name",
    "left_from",
    "left_to",
    "right_from",
    "right_to",
    "road_class",
)
#: Our field names that the request history may map (service_requests/importer.py).
REQUEST_FIELDS = (
    "source_id",
    "requested_at",
    "updated_at",
    "closed_at",
    "due_at",
    "service_name",
    "department",
    "status",
    "channel",
    "address",
    "zipcode",
    "latitude",
    "longitude",
    "description",
)
#: The request-history fields without which no row can be imported.
REQUIRED_REQUEST_FIELDS = ("source_id", "requested_at", "service_name", "status", "channel")

_FILTER_KEYS = ("field", "values", "equals")
_LAYER_KEYS = ("source", "layer", "crs", "where")
_MAPPING_KEYS = ("sources", "files", "fields", "where", "layer", "crs", "encoding")
_ADDRESS_SETTINGS = (
    "sources",
    "place_names",
    "zipcodes",
    "home_place_names",
    "interpolation_max_gap",
    "interpolation_max_distance_m",
)
_INTAKE_KEYS = (
    "duplicate_radius_public_m",
    "duplicate_radius_staff_m",
    "duplicate_days",
    "candidate_radius_m",
    "candidate_days",
)
#: The keys of ``[public_map]`` with the bounds each takes (fields of :class:`PublicMapSettings`).
_PUBLIC_MAP_KEYS = {
    "open_days": (1, 3650),
    "closed_days": (1, 3650),
    "older_closed_days": (1, 3650),
    "max_points": (1, 20_000),
    "snap_m": (5, 500),
}
_TOP_LEVEL = (
    "city",
    "jurisdiction",
    "agencies",
    "layers",
    "addresses",
    "requests",
    "intake",
    "open311",
    "reports",
    "public_map",
    "departments",
    "services",
    "channels",
    "reply_templates",
    "photos",
)
_SERVICE_KEYS = (
    "code",
    "name",
    "department",
    "service_level",
    "description",
    "group",
    "keywords",
    "default_assignee",
    "contact",
    "location",
    "attributes",
    "source_name",
    "public_photos",
    "translations",
)
_ATTRIBUTE_KEYS = ("code", "datatype", "values", "description", "required", "order", "datatype_description")


def _unknown(table: str, raw: object, allowed: tuple[str, ...] | set[str]) -> list[tuple[str, str, tuple[str, ...]]]:
    if not isinstance(raw, dict):
        return []
    return [(table, str(key), tuple(allowed)) for key in raw if key not in allowed]


def _filters(table: str, raw: object) -> list[tuple[str, str, tuple[str, ...]]]:
    filters = raw if isinstance(raw, list) else [raw]
    return [u for f in filters for u in _unknown(table, f, _FILTER_KEYS)]


def _tables(raw: object) -> list[Any]:
    return [t for t in raw if isinstance(t, dict)] if isinstance(raw, list) else []


def unknown_keys(raw: Mapping[str, Any]) -> list[tuple[str, str, tuple[str, ...]]]:
    """Every key of a parsed city file that no part of geo311 reads: (table, key, the keys that table takes).

    Tables whose keys are the city's own names (agency keys in ``contacts``, source
    values in ``status_map``) take any key.
    """
    found = _unknown("top level", raw, _TOP_LEVEL)
    found += _unknown(
        "city",
        raw.get("city"),
        ("key", "name", "phone", "phone_outside", "website", "timezone", "projected_crs", "languages"),
    )
    jurisdiction = raw.get("jurisdiction")
    found += _unknown("jurisdiction", jurisdiction, _LAYER_KEYS + ("fill_holes_below_m2",))
    if isinstance(jurisdiction, dict):
        found += _filters("jurisdiction.where", jurisdiction.get("where"))
    agencies = raw.get("agencies")
    if isinstance(agencies, dict):
        found += _unknown(
            "agencies",
            agencies,
            _LAYER_KEYS
            + (
                "id_field",
                "name_field",
                "group_field",
                "exclude",
                "contacts",
                "rules",
                "fallback",
                "ignore_gaps_below_m2",
            ),
        )
        found += _filters("agencies.where", agencies.get("where"))
        found += _filters("agencies.exclude", agencies.get("exclude"))
        contacts = agencies.get("contacts")
        for key, contact in contacts.items() if isinstance(contacts, dict) else ():
            found += _unknown(f"agencies.contacts.{key}", contact, ("name", "phone", "website"))
        for i, rule in enumerate(_tables(agencies.get("rules"))):
            found += _unknown(f"agencies.rules #{i + 1}", rule, ("where", "name", "phone", "website"))
            found += _filters(f"agencies.rules #{i + 1}.where", rule.get("where"))
        found += _unknown("agencies.fallback", agencies.get("fallback"), ("name", "phone", "website", "note"))
    layers = raw.get("layers")
    for role, layer in layers.items() if isinstance(layers, dict) else ():
        table = f"layers.{role}"
        found += _unknown(
            table, layer, _LAYER_KEYS + ("label", "id_field", "name_field", "name_template", "population")
        )
        if isinstance(layer, dict):
            found += _filters(f"{table}.where", layer.get("where"))
            found += _unknown(
                f"{table}.population", layer.get("population"), ("field", "source", "key_column", "value_column")
            )
    addresses = raw.get("addresses")
    if isinstance(addresses, dict):
        sources = _tables(addresses.get("sources"))
        if sources:
            found += _unknown("addresses", addresses, _ADDRESS_SETTINGS)
            for i, source in enumerate(sources):
                table = f"addresses.sources.{source.get('key') or f'#{i + 1}'}"
                found += _unknown(table, source, _MAPPING_KEYS + ("key", "kind", "rank", "agency", "place_on"))
                found += _unknown(f"{table}.fields", source.get("fields"), ADDRESS_FIELDS)
                found += _filters(f"{table}.where", source.get("where"))
        else:
            found += _unknown("addresses", addresses, _ADDRESS_SETTINGS + _MAPPING_KEYS + ("kind",))
            found += _unknown("addresses.fields", addresses.get("fields"), ADDRESS_FIELDS)
            found += _filters("addresses.where", addresses.get("where"))
    requests = raw.get("requests")
    if isinstance(requests, dict):
        found += _unknown(
            "requests",
            requests,
            _MAPPING_KEYS[:4]
            + (
                "encoding",
                "datetime_formats",
                "status_map",
                "channel_map",
                "snap_within_m",
                "placeholder_min_requests",
                "placeholder_min_addresses",
            ),
        )
        found += _unknown("requests.fields", requests.get("fields"), REQUEST_FIELDS)
        found += _filters("requests.where", requests.get("where"))
    found += _unknown("intake", raw.get("intake"), _INTAKE_KEYS)
    found += _unknown("open311", raw.get("open311"), _OPEN311_KEYS)
    found += _unknown("reports", raw.get("reports"), ("fiscal_year_start_month",))
    found += _unknown("photos", raw.get("photos"), tuple(_PHOTO_LIMITS))
    found += _unknown("public_map", raw.get("public_map"), tuple(_PUBLIC_MAP_KEYS))
    channels = raw.get("channels")
    for code, channel in channels.items() if isinstance(channels, dict) else ():
        if code not in CHANNEL_SETTINGS:
            found += _unknown(f"channels.{code}", channel, ("name", "family"))
    for i, department in enumerate(_tables(raw.get("departments"))):
        found += _unknown(
            f"departments #{i + 1}", department, ("code", "name", "supervisor_email", "priorities", "crews")
        )
    for i, service in enumerate(_tables(raw.get("services"))):
        table = f"services #{i + 1}"
        found += _unknown(table, service, _SERVICE_KEYS)
        found += _unknown(f"{table}.service_level", service.get("service_level"), ("hours", "business_days"))
        for j, attribute in enumerate(_tables(service.get("attributes"))):
            found += _unknown(f"{table} attribute #{j + 1}", attribute, _ATTRIBUTE_KEYS)
            for value in _tables(attribute.get("values")):
                found += _unknown(f"{table} attribute #{j + 1} values", value, ("key", "name"))
    return found


def unknown_key_message(table: str, key: str, allowed: tuple[str, ...]) -> str:
    """``[table] does not know 'key'`` with the likeliest intended key, or the keys there are."""
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    if close:
        return f"does not know {key!r}: did you mean {close[0]!r}? Rename it"
    return f"does not know {key!r}: remove it or use one of {', '.join(allowed)}"


def requests_option(mapping: SourceMapping, key: str, default: float, whole: bool = False) -> float:
    """The number ``key`` of ``[requests]`` (``snap_within_m``, ``placeholder_min_*``), or ``default``."""
    value = mapping.options.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 or (whole and value != int(value)):
        kind = "a whole number, 0 or more" if whole else "a number of metres, 0 or more"
        raise UserError(f"[requests] {key} must be {kind}, not {value!r}.")
    return int(value) if whole else float(value)


def default_jurisdiction_id(key: str, website: str | None) -> str:
    """The host of the city's website without ``www.`` (``https://www.sfgov.org/x`` -> ``sfgov.org``), else its key."""
    if website:
        host = urlsplit(website if "//" in website else f"//{website}").hostname or ""
        host = host.removeprefix("www.")
        if host:
            return host
    return key


def is_pattern(value: str) -> bool:
    """Whether a source path is a glob pattern (``*``, ``?`` or ``[...]``)."""
    return glob.has_magic(value)


def available_cities(cities_dir: Path) -> list[str]:
    """The names of the city configurations in ``cities_dir``."""
    return sorted(p.stem for p in cities_dir.glob("*.toml"))


def load_city(name: str, cities_dir: Path, data_dir: Path) -> CityConfig:
    """Read and check the city configuration ``<cities_dir>/<name>.toml``.

    Raises :class:`ConfigError` with the file and key at fault.
    """
    path = cities_dir / f"{name}.toml"
    if not name or not name.replace("-", "").replace("_", "").isalnum() or not path.is_file():
        known = ", ".join(available_cities(cities_dir)) or "none"
        raise ConfigError(
            f"Unknown city {name!r}: there is no {path.name} in {cities_dir} "
            f"(known cities: {known}); set GEO311_CITY to one of them or add the file."
        )
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML ({exc}); fix the file.") from exc
    return _CityParser(path, data_dir).parse(raw, name)


class _CityParser:
    """Turns the TOML tables into checked dataclasses, naming the key at fault."""

    def __init__(self, path: Path, data_dir: Path, *, check_keys: bool = True) -> None:
        self.path = path
        self.data_dir = data_dir
        self.checks_keys = check_keys

    def check_keys(self, raw: Mapping[str, Any]) -> None:
        """Refuse the first key no part of geo311 reads (a typo would otherwise go unnoticed)."""
        for table, key, allowed in unknown_keys(raw):
            raise self.fail(table, unknown_key_message(table, key, allowed))

    def fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError(f"{self.path.name}: [{key}] {problem}.")

    def table(self, raw: Mapping[str, Any], key: str, *, required: bool = True) -> dict[str, Any] | None:
        value = raw.get(key.rsplit(".", 1)[-1])
        if value is None:
            if required:
                raise self.fail(key, "is missing; add the table")
            return None
        if not isinstance(value, dict):
            raise self.fail(key, "must be a table")
        return value

    def string(self, raw: Mapping[str, Any], table: str, key: str, *, required: bool = True) -> str | None:
        value = raw.get(key)
        if value is None or value == "":
            if required:
                raise self.fail(table, f'needs {key} = "..."')
            return None
        if not isinstance(value, str):
            raise self.fail(table, f"{key} must be a string")
        return value

    def data_path(self, table: str, value: object) -> Path:
        """One file; a pattern (``wards/*.geojson``) must match exactly one."""
        if not isinstance(value, str) or not value:
            raise self.fail(table, "source must be a file path relative to the data folder")
        if not is_pattern(value):
            return (self.data_dir / value).resolve()
        paths = self.data_paths(table, [value])
        if len(paths) > 1:
            names = ", ".join(p.name for p in paths[:5]) + (", ..." if len(paths) > 5 else "")
            raise self.fail(
                table,
                f"source pattern {value!r} matches {len(paths)} files ({names}) but a layer "
                "is read from one file; make the pattern name a single file",
            )
        return paths[0]

    def data_paths(self, table: str, values: list[str]) -> tuple[Path, ...]:
        """The files of a sources list, relative to the data folder; glob patterns
        (``311/*.csv``, ``**`` for subfolders) are expanded, sorted, and must match a file."""
        paths: list[Path] = []
        for value in values:
            if not is_pattern(value):
                paths.append((self.data_dir / value).resolve())
                continue
            matched = sorted(
                Path(p).resolve() for p in glob.glob(str(self.data_dir / value), recursive=True) if Path(p).is_file()
            )
            if not matched:
                raise self.fail(
                    table,
                    f"the pattern {value!r} matches no file in {self.data_dir}; fix the pattern or put the files there",
                )
            paths.extend(matched)
        return tuple(dict.fromkeys(paths))

    def filter(self, table: str, raw: object) -> FieldFilter | None:
        if raw is None:
            return None
        if not isinstance(raw, dict) or "field" not in raw:
            raise self.fail(table, 'filters are written { field = "...", values = ["..."] }')
        values = raw.get("values", [raw["equals"]] if "equals" in raw else None)
        if not isinstance(values, list) or not values:
            raise self.fail(table, f"the filter on {raw['field']!r} needs a non-empty values list")
        return FieldFilter(str(raw["field"]), tuple(str(v) for v in values))

    def source(self, table: str, raw: Mapping[str, Any]) -> LayerSource:
        return LayerSource(
            path=self.data_path(table, raw.get("source")),
            layer=self.string(raw, table, "layer", required=False),
            crs=self.crs(table, raw.get("crs")) if raw.get("crs") else None,
            where=self.filter(table, raw.get("where")),
        )

    def crs(self, table: str, value: object) -> str:
        try:
            pyproj.CRS.from_user_input(value)
        except (pyproj.exceptions.CRSError, TypeError) as exc:
            raise self.fail(table, f'{value!r} is not a CRS pyproj knows (use e.g. "EPSG:32611")') from exc
        return str(value)

    def contact(self, table: str, raw: Mapping[str, Any], default_name: str | None = None) -> Contact:
        name = self.string(raw, table, "name", required=default_name is None) or default_name
        return Contact(
            name=str(name),
            phone=self.string(raw, table, "phone", required=False),
            website=self.string(raw, table, "website", required=False),
        )

    def parse(self, raw: Mapping[str, Any], expected_key: str) -> CityConfig:
        if self.checks_keys:
            self.check_keys(raw)
        city = self.table(raw, "city")
        assert city is not None
        key = self.string(city, "city", "key")
        if key != expected_key:
            raise self.fail("city", f"key is {key!r} but the file is {self.path.name}; make them agree")
        timezone = self.string(city, "city", "timezone")
        try:
            ZoneInfo(str(timezone))
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise self.fail(
                "city", f"timezone {timezone!r} is not an IANA time zone (e.g. America/Los_Angeles)"
            ) from exc
        projected = self.crs("city", self.string(city, "city", "projected_crs"))
        if not pyproj.CRS.from_user_input(projected).is_projected:
            raise self.fail(
                "city", f"projected_crs {projected!r} is geographic; name a projected CRS in metres or feet"
            )

        jurisdiction_raw = self.table(raw, "jurisdiction")
        assert jurisdiction_raw is not None
        contact = replace(
            self.contact("city", city), phone_outside=self.string(city, "city", "phone_outside", required=False)
        )
        fill = jurisdiction_raw.get("fill_holes_below_m2", 0)
        if not isinstance(fill, (int, float)) or fill < 0:
            raise self.fail("jurisdiction", "fill_holes_below_m2 must be a number of square metres, 0 or more")
        jurisdiction = JurisdictionSpec(
            contact=contact, source=self.source("jurisdiction", jurisdiction_raw), fill_holes_below_m2=float(fill)
        )

        agencies = None
        agencies_raw = self.table(raw, "agencies", required=False)
        if agencies_raw is not None:
            agencies = self.agencies(agencies_raw)

        areas: dict[str, AreaLayerSpec] = {}
        layers_raw = self.table(raw, "layers", required=False) or {}
        for role, layer_raw in layers_raw.items():
            areas[role] = self.area_layer(role, layer_raw)

        return CityConfig(
            key=str(key),
            name=contact.name,
            timezone=str(timezone),
            projected_crs=projected,
            contact=contact,
            jurisdiction=jurisdiction,
            agencies=agencies,
            areas=areas,
            addresses=self.addresses(raw),
            requests=self.requests(raw),
            path=self.path,
            data_dir=self.data_dir,
            catalogue=(catalogue := parse_catalogue(raw, self.fail)),
            intake=self.intake(raw),
            reply_templates=parse_reply_templates(raw.get("reply_templates"), set(catalogue.services), self.fail),
            open311=self.open311(raw, str(key), contact.website),
            reports=self.reports(raw),
            photos=self.photos(raw),
            public_map=self.public_map(raw),
            channels=self.channels(raw),
            languages=self.languages(city),
        )

    def languages(self, city: Mapping[str, Any]) -> tuple[str, ...]:
        """``[city] languages``: language codes, the default first (default: English only)."""
        raw = city.get("languages", [SOURCE_LANGUAGE])
        if not isinstance(raw, list) or not raw:
            raise self.fail("city", 'languages must be a list of language codes, the default first, e.g. ["en", "es"]')
        for code in raw:
            problem = language_problem(code)
            if problem:
                raise self.fail("city", f"languages: {problem}")
        if len(set(raw)) != len(raw):
            raise self.fail("city", "languages lists a language twice")
        return tuple(raw)

    def channels(self, raw: Mapping[str, Any]) -> ChannelVocabulary:
        """``[channels]``: the city's channels and their families (core/channels.py); every value of
        ``[requests.channel_map]`` must be one of them."""
        vocabulary = parse_channels(raw.get("channels"), self.fail)
        requests = raw.get("requests")
        channel_map = requests.get("channel_map") if isinstance(requests, dict) else None
        for source, code in channel_map.items() if isinstance(channel_map, dict) else ():
            if code not in vocabulary:
                raise self.fail(
                    "requests.channel_map",
                    f"maps {source!r} to {code!r}, which is not a channel of the "
                    f"city; use one of {', '.join(vocabulary.codes)}",
                )
        return vocabulary

    def area_layer(self, role: str, layer_raw: object) -> AreaLayerSpec:
        """``[layers.<role>]``: a ward or district layer."""
        table = f"layers.{role}"
        if role not in AREA_ROLES:
            raise self.fail(table, f"is not a known layer; use one of {', '.join(AREA_ROLES)}")
        if not isinstance(layer_raw, dict):
            raise self.fail(table, "must be a table")
        name_field = self.string(layer_raw, table, "name_field", required=False)
        template = self.string(layer_raw, table, "name_template", required=False)
        if not name_field and not template:
            raise self.fail(table, "needs name_field or name_template (which may use {id})")
        return AreaLayerSpec(
            role=role,
            label=self.string(layer_raw, table, "label") or role,
            source=self.source(table, layer_raw),
            id_field=str(self.string(layer_raw, table, "id_field")),
            name_field=name_field,
            name_template=template or "{name}",
            population=self.population(f"{table}.population", layer_raw.get("population")),
        )

    def requests(self, raw: Mapping[str, Any]) -> SourceMapping | None:
        """``[requests]``: the history's mapping; its optional numbers are checked here.

        ``snap_within_m`` (metres outside the city limit an imported request still counts
        as the city's), ``placeholder_min_requests`` and ``placeholder_min_addresses``
        (what makes a point a placeholder).
        """
        mapping = self.mapping(raw, "requests")
        if mapping is None:
            return None
        for key, whole in (
            ("snap_within_m", False),
            ("placeholder_min_requests", True),
            ("placeholder_min_addresses", True),
        ):
            value = mapping.options.get(key)
            if value is None:
                continue
            if (
                isinstance(value, bool)
                or not isinstance(value, int if whole else (int, float))
                or value < (1 if whole else 0)
            ):
                raise self.fail(
                    "requests",
                    f"{key} must be " + ("a whole number, 1 or more" if whole else "a number of metres, 0 or more"),
                )
        status_map = mapping.options.get("status_map", {})
        if not isinstance(status_map, dict):
            raise self.fail("requests.status_map", "must be a table of source status = state")
        for source, state in status_map.items():
            if state not in STATES:
                raise self.fail(
                    "requests.status_map",
                    f"maps {source!r} to {state!r}, which is not a request state; use one of {', '.join(STATES)}",
                )
        return mapping

    def reports(self, raw: Mapping[str, Any]) -> ReportSettings:
        table = self.table(raw, "reports", required=False) or {}
        unknown = sorted(set(table) - {"fiscal_year_start_month"})
        if unknown:
            raise self.fail("reports", f"does not know {unknown[0]!r}")
        month = table.get("fiscal_year_start_month", 7)
        if not isinstance(month, int) or isinstance(month, bool) or not 1 <= month <= 12:
            raise self.fail("reports", "fiscal_year_start_month must be a month number from 1 to 12")
        return ReportSettings(fiscal_year_start_month=month)

    def photos(self, raw: Mapping[str, Any]) -> PhotoSettings:
        """``[photos]``: whole numbers within their ranges; a key left out keeps its default."""
        table = self.table(raw, "photos", required=False) or {}
        unknown = sorted(set(table) - set(_PHOTO_LIMITS))
        if unknown:
            raise self.fail("photos", f"does not know {unknown[0]!r}")
        for key, (low, high) in _PHOTO_LIMITS.items():
            value = table.get(key)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high
            ):
                raise self.fail("photos", f"{key} must be a whole number from {low:,} to {high:,} (it is {value!r})")
        return PhotoSettings(**{key: table[key] for key in _PHOTO_LIMITS if key in table})

    def public_map(self, raw: Mapping[str, Any]) -> PublicMapSettings:
        table = self.table(raw, "public_map", required=False) or {}
        unknown = sorted(set(table) - set(_PUBLIC_MAP_KEYS))
        if unknown:
            raise self.fail("public_map", f"does not know {unknown[0]!r}")
        defaults = PublicMapSettings()
        values: dict[str, Any] = {}
        for key, (low, high) in _PUBLIC_MAP_KEYS.items():
            value = table.get(key, getattr(defaults, key))
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not low <= value <= high:
                raise self.fail("public_map", f"{key} must be a number from {low} to {high:,} (it is {value!r})")
            values[key] = float(value) if key == "snap_m" else int(value)
        if values["older_closed_days"] < values["closed_days"]:
            raise self.fail("public_map", "older_closed_days must be at least closed_days (it shows more, not fewer)")
        return PublicMapSettings(**values)

    def open311(self, raw: Mapping[str, Any], key: str, website: str | None) -> Open311Settings:
        table = self.table(raw, "open311", required=False) or {}
        unknown = sorted(set(table) - set(_OPEN311_KEYS))
        if unknown:
            raise self.fail("open311", f"does not know {unknown[0]!r}")
        jurisdiction_id = self.string(table, "open311", "jurisdiction_id", required=False)
        if jurisdiction_id is not None and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9.\-_]{0,99}", jurisdiction_id):
            raise self.fail("open311", 'jurisdiction_id must be a domain-like id such as "lacity.org"')
        publish = table.get("publish_descriptions", False)
        if not isinstance(publish, bool):
            raise self.fail("open311", "publish_descriptions must be true or false")
        updates_public = table.get("client_updates_public", False)
        if not isinstance(updates_public, bool):
            raise self.fail("open311", "client_updates_public must be true or false")
        return Open311Settings(
            jurisdiction_id=jurisdiction_id or default_jurisdiction_id(key, website),
            publish_descriptions=publish,
            contact=self.string(table, "open311", "contact", required=False),
            key_service=self.string(table, "open311", "key_service", required=False),
            client_updates_public=updates_public,
        )

    def population(self, table: str, raw: object) -> PopulationSpec | None:
        if raw is None:
            return None
        if not isinstance(raw, dict) or bool(raw.get("field")) == bool(raw.get("source")):
            raise self.fail(table, 'needs either field = "..." (a property of the features) or source = "file.csv"')
        unknown = sorted(set(raw) - {"field", "source", "key_column", "value_column"})
        if unknown:
            raise self.fail(table, f"does not know {unknown[0]!r}")
        if raw.get("field"):
            return PopulationSpec(field=str(self.string(raw, table, "field")))
        return PopulationSpec(
            path=self.data_path(table, raw.get("source")),
            key_column=self.string(raw, table, "key_column", required=False) or "key",
            value_column=self.string(raw, table, "value_column", required=False) or "population",
        )

    def intake(self, raw: Mapping[str, Any]) -> IntakeSettings:
        table = self.table(raw, "intake", required=False) or {}
        defaults = IntakeSettings()
        values: dict[str, Any] = {}
        for key in _INTAKE_KEYS:
            value = table.get(key, getattr(defaults, key))
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 < value <= 100_000:
                raise self.fail("intake", f"{key} must be a positive number (it is {value!r})")
            values[key] = int(value) if key.endswith("_days") else float(value)
        unknown = sorted(set(table) - set(values))
        if unknown:
            raise self.fail("intake", f"does not know {unknown[0]!r}")
        return IntakeSettings(**values)

    def agencies(self, raw: Mapping[str, Any]) -> AgenciesSpec:
        contacts_raw = raw.get("contacts", {})
        if not isinstance(contacts_raw, dict):
            raise self.fail("agencies.contacts", "must be a table of agency key = { name, phone, website }")
        contacts = {key: self.contact(f"agencies.contacts.{key}", value) for key, value in contacts_raw.items()}
        rules = []
        for i, rule in enumerate(raw.get("rules", [])):
            table = f"agencies.rules #{i + 1}"
            where_raw = rule.get("where")
            where = tuple(
                f
                for f in (self.filter(table, w) for w in (where_raw if isinstance(where_raw, list) else [where_raw]))
                if f is not None
            )
            if not where:
                raise self.fail(table, "needs a where filter")
            rules.append(
                AgencyRule(
                    where=where,
                    name=str(self.string(rule, table, "name")),
                    phone=self.string(rule, table, "phone", required=False),
                    website=self.string(rule, table, "website", required=False),
                )
            )
        gaps = raw.get("ignore_gaps_below_m2", DEFAULT_IGNORE_GAPS_BELOW_M2)
        if not isinstance(gaps, (int, float)) or isinstance(gaps, bool) or gaps < 0:
            raise self.fail("agencies", "ignore_gaps_below_m2 must be a number of square metres, 0 or more")
        return AgenciesSpec(
            source=self.source("agencies", raw),
            id_field=str(self.string(raw, "agencies", "id_field")),
            name_field=str(self.string(raw, "agencies", "name_field")),
            group_field=self.string(raw, "agencies", "group_field", required=False),
            exclude=self.filter("agencies", raw.get("exclude")),
            contacts=contacts,
            rules=tuple(rules),
            fallback=self.fallback(raw.get("fallback")),
            ignore_gaps_below_m2=float(gaps),
        )

    def fallback(self, raw: object) -> FallbackContact | None:
        """``[agencies.fallback]``: name, phone and website required, ``note`` optional."""
        table = "agencies.fallback"
        if raw is None:
            return None
        if not isinstance(raw, dict):
            raise self.fail(table, "must be a table with name, phone, website and an optional note")
        unknown = sorted(set(raw) - {"name", "phone", "website", "note"})
        if unknown:
            raise self.fail(table, f"does not know {unknown[0]!r} (it takes name, phone, website and note)")
        name, phone, website = (str(self.string(raw, table, key)).strip() for key in ("name", "phone", "website"))
        if not (name and phone and website):
            raise self.fail(table, "name, phone and website must not be blank")
        if urlsplit(website).scheme not in ("http", "https") or not urlsplit(website).netloc:
            raise self.fail(table, f'website {website!r} must be a full http(s) address such as "https://example.gov"')
        return FallbackContact(
            name=name, phone=phone, website=website, note=self.string(raw, table, "note", required=False)
        )

    def addresses(self, raw: Mapping[str, Any]) -> AddressSettings | None:
        """``[addresses]``: either one table (sources = ["file", ...] with fields) or
        ``[[addresses.sources]]``, one table per source with its kind, rank and owner."""
        table = self.table(raw, "addresses", required=False)
        if table is None:
            return None
        sources = table.get("sources")
        names = self.name_lists(table, "addresses.place_names")
        zipcodes = self.name_lists(table, "addresses.zipcodes")
        for key, codes in zipcodes.items():
            bad = [c for c in codes if not re.fullmatch(r"\d{5}", c)]
            if bad:
                raise self.fail("addresses.zipcodes", f"{key}: {bad[0]!r} is not a five-digit ZIP code")
        home = self.string_list(table, "addresses", "home_place_names")
        gap = table.get("interpolation_max_gap", 200)
        distance = table.get("interpolation_max_distance_m", 600)
        if not isinstance(gap, int) or isinstance(gap, bool) or gap < 0:
            raise self.fail(
                "addresses", "interpolation_max_gap must be a whole number of house numbers (0 turns it off)"
            )
        if not isinstance(distance, (int, float)) or isinstance(distance, bool) or distance <= 0:
            raise self.fail("addresses", "interpolation_max_distance_m must be a positive number of metres")
        extra: dict[str, Any] = dict(
            place_names=names,
            zipcodes=zipcodes,
            home_place_names=home,
            interpolation_max_gap=gap,
            interpolation_max_distance_m=float(distance),
        )
        if isinstance(sources, list) and sources and all(isinstance(s, dict) for s in sources):
            parsed = tuple(self.address_source(s, i) for i, s in enumerate(sources))
            keys = [s.key for s in parsed]
            repeated = sorted({k for k in keys if keys.count(k) > 1})
            if repeated:
                raise self.fail("addresses.sources", f"two sources are named {repeated[0]!r}; give each its own key")
            for source in parsed:
                if source.kind == "list":
                    target = next((s for s in parsed if s.key == source.place_on), None)
                    if target is None or target.kind != "centerlines":
                        raise self.fail(
                            f"addresses.sources.{source.key}",
                            "is a list without coordinates: place_on must name a centerlines source",
                        )
            return AddressSettings(parsed, **extra)
        kind = table.get("kind", "points")
        if kind not in ADDRESS_SOURCE_KINDS:
            raise self.fail("addresses", f"kind must be one of {', '.join(ADDRESS_SOURCE_KINDS)}")
        mapping = self.mapping(raw, "addresses")
        assert mapping is not None
        mapping = SourceMapping(
            mapping.paths,
            mapping.fields,
            mapping.where,
            {
                k: v
                for k, v in mapping.options.items()
                if k
                not in (
                    "kind",
                    "place_names",
                    "zipcodes",
                    "home_place_names",
                    "interpolation_max_gap",
                    "interpolation_max_distance_m",
                )
            },
        )
        return AddressSettings((AddressSource("addresses", kind, ADDRESS_SOURCE_KINDS[kind], mapping),), **extra)

    def address_source(self, raw: Any, index: int) -> AddressSource:
        if not isinstance(raw.get("key"), str) or not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,40}", raw["key"]):
            raise self.fail(f"addresses.sources #{index + 1}", 'needs key = "..." (lower-case letters, digits, - or _)')
        key = raw["key"]
        table = f"addresses.sources.{key}"
        kind = raw.get("kind")
        if kind not in ADDRESS_SOURCE_KINDS:
            raise self.fail(table, f"kind must be one of {', '.join(ADDRESS_SOURCE_KINDS)}")
        rank = raw.get("rank", ADDRESS_SOURCE_KINDS[kind])
        if not isinstance(rank, int) or isinstance(rank, bool) or not 0 <= rank <= 1000:
            raise self.fail(table, "rank must be a whole number from 0 (most authoritative) to 1000")
        mapping = self.mapping({key: raw}, key, table=table, skip=("key", "kind", "rank", "agency", "place_on"))
        assert mapping is not None
        return AddressSource(
            key,
            kind,
            rank,
            mapping,
            agency=self.string(raw, table, "agency", required=False),
            place_on=self.string(raw, table, "place_on", required=False),
        )

    def name_lists(self, raw: Mapping[str, Any], key: str) -> dict[str, tuple[str, ...]]:
        table = self.table(raw, key, required=False) or {}
        lists = {}
        for agency, names in table.items():
            if not isinstance(names, list) or not all(isinstance(n, str) and n.strip() for n in names):
                raise self.fail(key, f"{agency} must be a list of strings")
            lists[str(agency)] = tuple(n.strip().upper() for n in names)
        return lists

    def string_list(self, raw: Mapping[str, Any], table: str, key: str) -> tuple[str, ...]:
        value = raw.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise self.fail(table, f"{key} must be a list of strings")
        return tuple(v.strip().upper() for v in value)

    def encoding(self, table: str, value: Any) -> str:
        """A CSV source's ``encoding``: the name of a text encoding Python knows (``utf-8``, ``latin-1``, ``cp1252``)."""
        try:
            if not isinstance(value, str):
                raise LookupError(value)
            codecs.lookup(value)  # a LookupError for a name that is no codec
            # a LookupError for a codec that is not of text (base64); a UnicodeDecodeError is
            # fine: a text encoding in which one byte is no character (UTF-16)
            with contextlib.suppress(UnicodeDecodeError):
                b"a".decode(value)
        except LookupError:
            raise self.fail(
                table,
                f"encoding {value!r} is not an encoding Python knows; name the file's encoding, "
                'for example "utf-8", "latin-1" or "cp1252"',
            ) from None
        return value

    def mapping(
        self, raw: Mapping[str, Any], key: str, table: str | None = None, skip: tuple[str, ...] = ()
    ) -> SourceMapping | None:
        raw_table = raw.get(key) if table else self.table(raw, key, required=False)
        table = table or key
        if raw_table is None:
            return None
        sources = raw_table.get("sources", raw_table.get("files"))
        if isinstance(sources, str):
            sources = [sources]
        if not isinstance(sources, list) or not sources or not all(isinstance(x, str) for x in sources):
            raise self.fail(table, 'needs sources = ["file", ...] relative to the data folder')
        fields = raw_table.get("fields")
        if not isinstance(fields, dict) or not fields:
            raise self.fail(f"{table}.fields", "is missing; map our field names to the source's columns")
        bad = [k for k, v in fields.items() if not isinstance(v, (str, list))]
        if bad:
            raise self.fail(f"{table}.fields", f"{bad[0]} must name a column (or a list of columns)")
        options = {
            k: v
            for k, v in raw_table.items()
            if k not in ("sources", "files", "fields", "where", "place_names", "zipcodes") + skip
        }
        if options.get("crs"):
            options["crs"] = self.crs(table, options["crs"])
        if "encoding" in options:
            options["encoding"] = self.encoding(table, options["encoding"])
        return SourceMapping(
            paths=self.data_paths(table, sources),
            fields={str(k): (",".join(v) if isinstance(v, list) else str(v)) for k, v in fields.items()},
            where=self.filter(key, raw_table.get("where")),
            options=options,
        )
