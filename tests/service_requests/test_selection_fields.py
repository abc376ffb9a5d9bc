"""The filter fields are defined once (the metadata of RequestFilter's fields): the parser, the query
string, the words, the checks, the SQL, the analysts' keywords and the filter form all follow it.

No database: a city file and a plain Jinja environment are enough.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import jinja2
import pytest

from core.settings import PROJECT_ROOT
from geo.api import FILTER_KEYWORDS, build_filter, filter_keywords, make_filter
from service_requests.selection import (
    SCOPES,
    STATUSES,
    FilterChoices,
    FilterError,
    RequestFilter,
    Widget,
    _code_problem,
    _define,
    _equals,
    _value_words,
    check_filter,
    filter_fields,
    parse_filter,
)

CHOICES = FilterChoices(
    services={"graffiti": "Graffiti Removal", "bulky-items": "Bulky Items"},
    departments={"BOS": "Sanitation"},
    wards={"01": "Ward One"},
    districts={"x1": "District X"},
    groups={"Streets": "Streets"},
    channels={"phone": "Phone", "web": "Web"},
)
#: A value for each field that is not its default, so that the field is a condition.
SET_VALUES: dict[str, Any] = {
    "services": ("bulky-items", "graffiti"),
    "group": "Streets",
    "department": "BOS",
    "status": "open",
    "states": ("in_progress",),
    "channels": ("phone",),
    "families": ("web",),
    "date_from": date(2024, 1, 1),
    "date_to": date(2024, 1, 31),
    "ward": "01",
    "district": "x1",
    "overdue": True,
    "scope": "city",
}
FULL = RequestFilter(**SET_VALUES)


def render_form(flt: RequestFilter, choices: FilterChoices, **options: object) -> str:
    """The filter form of ``_filters.html`` for ``flt``, rendered without the app."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(PROJECT_ROOT / "app" / "templates"), autoescape=True)
    macro = env.get_template("_filters.html").module.request_filter  # type: ignore[attr-defined]
    return str(macro(flt, choices, choices.channels, **options))


def test_the_fields_are_the_dataclass_fields():
    assert [f.name for f in filter_fields()] == list(SET_VALUES)
    assert len({f.arg for f in filter_fields()}) == len(filter_fields())


@pytest.mark.parametrize("spec", filter_fields(), ids=lambda f: f.name)
def test_each_field_round_trips_through_the_query_string(spec):
    flt = RequestFilter(**{spec.name: SET_VALUES[spec.name]})
    assert list(flt.args()) == [spec.arg]
    assert parse_filter(flt.args()) == flt
    assert parse_filter({}) == RequestFilter()


def test_the_query_string_words_and_sql_of_a_full_filter_are_unchanged(la):
    assert list(FULL.args().items()) == [
        ("service", ["bulky-items", "graffiti"]),
        ("group", ["Streets"]),
        ("department", ["BOS"]),
        ("status", ["open"]),
        ("state", ["in_progress"]),
        ("channel", ["phone"]),
        ("family", ["web"]),
        ("from", ["2024-01-01"]),
        ("to", ["2024-01-31"]),
        ("ward", ["01"]),
        ("district", ["x1"]),
        ("overdue", ["1"]),
        ("scope", ["city"]),
    ]
    assert FULL.describe() == (
        "bulky-items, graffiti; group Streets; department BOS; open; overdue; in progress; by phone; by web; "
        "2024-01-01 to 2024-01-31; ward 01; district x1"
    )
    assert FULL.describe(CHOICES) == (
        "Bulky Items, Graffiti Removal; group Streets; department Sanitation; open; overdue; in progress; by Phone; "
        "by web; 2024-01-01 to 2024-01-31; Ward One; District X"
    )
    assert RequestFilter(date_to=date(2024, 3, 1)).describe() == "the start to 2024-03-01"
    assert RequestFilter().describe() == "all requests"
    where, params = FULL.sql(la, now=datetime(2024, 5, 1, tzinfo=UTC))
    assert where == (
        "r.city = :f_city AND r.in_jurisdiction IS NOT FALSE AND r.service_code = ANY(:f_services) "
        "AND r.service_code IN (SELECT g.code FROM service g WHERE g.city = :f_city AND g.group_name = :f_group) "
        "AND r.department_code = :f_department AND r.is_open AND r.status = ANY(:f_states) "
        "AND r.channel = ANY(:f_channels) "
        "AND r.channel = ANY(:f_family_channels) AND r.requested_at >= :f_from AND r.requested_at < :f_to "
        "AND r.ward_key = :f_ward AND r.district_key = :f_district AND r.is_open AND r.due_at < :f_now"
    )
    assert set(params) == {
        "f_city",
        "f_services",
        "f_group",
        "f_department",
        "f_states",
        "f_channels",
        "f_family_channels",
        "f_from",
        "f_to",
        "f_ward",
        "f_district",
        "f_now",
    }
    closed = RequestFilter(status="closed", scope="left_out").sql(la)[0]
    assert "NOT r.is_open AND r.status <> 'cancelled'" in closed and "NOT coalesce(" in closed


def test_every_field_with_choices_is_checked_against_them():
    checked = {f.name for f in filter_fields() if f.choices}
    assert checked == {"services", "group", "department", "channels", "ward", "district"}
    for name in checked:
        spec = next(f for f in filter_fields() if f.name == name)
        bad = ("nope",) if spec.kind == "codes" else "nope"
        with pytest.raises(FilterError, match=f"There is no {spec.what} 'nope'; known {spec.what}s: "):
            check_filter(RequestFilter(**{name: bad}), CHOICES)
    assert check_filter(FULL, CHOICES) == FULL


def test_a_ward_typed_as_its_number_is_the_ward_as_stored():
    assert check_filter(RequestFilter(ward="1"), CHOICES).ward == "01"
    assert parse_filter({"ward": ["001"]}, CHOICES).ward == "01"
    with pytest.raises(FilterError, match="There is no ward '2'"):
        parse_filter({"ward": ["2"]}, CHOICES)
    with pytest.raises(FilterError, match="There is no district '1'"):
        parse_filter({"district": ["1"]}, CHOICES)  # x1 is not a number


def test_every_field_is_an_analysts_keyword_with_help():
    assert list(FILTER_KEYWORDS) == [
        "services",
        "group",
        "department",
        "status",
        "states",
        "channels",
        "families",
        "date_from",
        "date_to",
        "period",
        "ward",
        "district",
        "overdue",
        "scope",
    ]
    for spec in filter_fields():
        assert FILTER_KEYWORDS[spec.name] == spec.help != ""
    assert all(f"'{s}'" in FILTER_KEYWORDS["status"] for s in STATUSES)  # cancelled too
    assert all(f"'{s}'" in FILTER_KEYWORDS["scope"] for s in SCOPES)


def test_the_analysts_keywords_make_every_field_as_the_web_parses_it():
    keywords = {**SET_VALUES, "date_from": "2024-01-01", "services": ["graffiti", "bulky-items"]}
    assert make_filter(**keywords) == FULL == parse_filter(FULL.args())
    assert make_filter(group="Streets").group == "Streets"
    assert make_filter(status="cancelled").status == "cancelled"


def test_every_field_is_in_the_form_or_said_not_to_be():
    assert {f.name for f in filter_fields() if f.form is None} == {"states", "families", "overdue", "scope"}
    html = render_form(FULL, CHOICES, areas="select")
    ids = re.findall(r'id="f-([a-z]+)"', html)
    assert ids == [f.arg for f in RequestFilter.form_fields()]
    assert ids == ["department", "group", "service", "status", "ward", "district", "channel", "from", "to"]
    for spec in RequestFilter.form_fields():
        assert spec.form is not None
        assert f'<label for="f-{spec.arg}">{spec.form.label}</label>' in html
    assert '<option value="cancelled" >Cancelled</option>' in html
    assert '<option value="BOS" selected>Sanitation</option>' in html
    assert '<option value="graffiti" selected>Graffiti Removal</option>' in html
    assert '<input id="f-from" type="date" name="from" value="2024-01-01">' in html
    assert html.count('<div class="maps-dates">') == 1


def test_the_forms_parameters_still_choose_its_parts():
    kept = render_form(FULL, CHOICES, areas="keep", status=False, distinct=True)
    assert 'id="f-ward"' not in kept and 'id="f-status"' not in kept
    assert '<input type="hidden" name="ward" value="01">' in kept
    assert '<input type="hidden" name="district" value="x1">' in kept
    assert 'name="distinct" value="1" checked' in kept
    plain = render_form(RequestFilter(), CHOICES)
    assert 'name="ward"' not in plain and 'name="distinct"' not in plain and 'id="f-status"' in plain


# --- a new field is one declaration -----------------------------------------------------------------


@dataclass(frozen=True)
class PriorityChoices(FilterChoices):
    priorities: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class PriorityFilter(RequestFilter):
    """A filter with one more field, declared as the real ones are."""

    priority: str | None = _define(
        None,
        "priority",
        "code",
        "priority code, e.g. 'high'",
        clause=_equals("priority", "f_priority"),
        words=_value_words("priority {}"),
        problem=_code_problem,
        choices="priorities",
        what="priority",
        form=Widget("select", "Priority", 3.5, blank="All priorities"),
    )


def test_a_new_field_flows_to_the_parser_query_words_sql_keywords_and_form(la):
    choices = PriorityChoices(**vars(CHOICES), priorities={"high": "High", "low": "Low"})
    flt = parse_filter({"priority": ["high"], "service": ["graffiti"]}, choices, filter_type=PriorityFilter)
    assert isinstance(flt, PriorityFilter) and flt.priority == "high"
    assert flt.args() == {"service": ["graffiti"], "priority": ["high"]}
    assert parse_filter(flt.args(), filter_type=PriorityFilter) == flt
    assert flt.describe(choices) == "Graffiti Removal; priority high"
    where, params = flt.sql(la)
    assert where.endswith("AND r.priority = :f_priority") and params["f_priority"] == "high"
    with pytest.raises(FilterError, match="There is no priority 'urgent'; known prioritys: high, low"):
        parse_filter({"priority": ["urgent"]}, choices, filter_type=PriorityFilter)
    with pytest.raises(FilterError, match="is not a code"):
        PriorityFilter(priority="\x00")
    assert filter_keywords(PriorityFilter)["priority"] == "priority code, e.g. 'high'"
    assert build_filter(PriorityFilter, priority="high", services="graffiti") == flt
    html = render_form(flt, choices)
    assert re.findall(r'id="f-([a-z]+)"', html)[2:5] == ["service", "priority", "status"]
    assert '<option value="high" selected>High</option>' in html
    assert "priority" not in FILTER_KEYWORDS and "priority" not in RequestFilter().args()  # the real one untouched
