"""Who a request can be assigned to: active staff of its department, shown by name."""

from __future__ import annotations

import pytest

from accounts.assignees import AssigneeError, assignee_names, check_assignee, department_staff
from accounts.users import find_user
from tests.helpers.staff import make_user


def test_department_staff_are_listed_and_accepted(session):
    make_user(session, "department", "ana", department_code="OCB")
    make_user(session, "supervisor", "sam", department_code="BSS")
    assert "ana" in [u.username for u in department_staff(session, "la", "OCB")]
    assert "sam" not in [u.username for u in department_staff(session, "la", "OCB")]
    assert check_assignee(session, "la", "OCB", "user:ana") == "user:ana"
    assert check_assignee(session, "la", "OCB", "") is None
    assert assignee_names(session, "la", ["user:ana", "Crew 9"]) == {"user:ana": "Test department", "Crew 9": "Crew 9"}


def test_others_are_refused_with_a_reason(session):
    make_user(session, "supervisor", "sam", department_code="BSS")
    make_user(session, "intake", "ivy")
    with pytest.raises(AssigneeError, match="not staff of department OCB"):
        check_assignee(session, "la", "OCB", "user:sam")
    with pytest.raises(AssigneeError, match="not staff"):
        check_assignee(session, "la", "OCB", "user:ivy")
    with pytest.raises(AssigneeError, match="no staff account"):
        check_assignee(session, "la", "OCB", "user:nobody")
    with pytest.raises(AssigneeError, match="from the list"):
        check_assignee(session, "la", "OCB", "Bob in the truck")


def test_a_disabled_account_is_refused(session):
    make_user(session, "department", "dan", department_code="OCB")
    user = find_user(session, "la", "dan")
    user.active = False
    session.commit()
    with pytest.raises(AssigneeError, match="disabled"):
        check_assignee(session, "la", "OCB", "user:dan")


def test_saved_views_are_per_user_named_and_deletable(session):
    from accounts.saved_views import SavedViewError, delete_view, list_views, save_view

    ana = find_user(session, "la", make_user(session, "department", department_code="OCB"))
    bob = find_user(session, "la", make_user(session, "department", department_code="OCB"))
    saved = save_view(session, ana, "  Late  ones ", "?overdue=1&sort=age&page=3")
    assert saved.name == "Late ones" and saved.query == "overdue=1&sort=age"  # the page is not part of a view
    save_view(session, ana, "Late ones", "mine=1")  # the same name replaces
    assert [(v.name, v.query) for v in list_views(session, ana)] == [("Late ones", "mine=1")]
    assert list_views(session, bob) == []
    with pytest.raises(SavedViewError, match="no such"):
        delete_view(session, bob, saved.id)
    with pytest.raises(SavedViewError, match="name"):
        save_view(session, ana, "   ", "mine=1")
    delete_view(session, ana, saved.id)
    assert list_views(session, ana) == []


def test_named_crews_of_the_department_are_assignable_by_name(session, la, gardena):
    from accounts.assignees import department_assignees

    make_user(session, "department", "ana", department_code="OCB")
    choices = department_assignees(session, "la", "OCB", la.catalogue.crews)
    assert [(a.value, a.kind) for a in choices][-1] == ("crew:graffiti-3", "crew")
    assert "user:ana" in [a.value for a in choices]
    assert check_assignee(session, "la", "OCB", "crew:graffiti-3", la.catalogue.crews) == "crew:graffiti-3"
    assert assignee_names(session, "la", ["crew:graffiti-3"], la.catalogue.crews) == {
        "crew:graffiti-3": "Graffiti crew 3 (crew)"
    }
    # Another department's crew, an unknown one, or crews not given: refused with the reason.
    for value, crews in (
        ("crew:bulky-east", la.catalogue.crews),
        ("crew:nope", la.catalogue.crews),
        ("crew:graffiti-3", None),
    ):
        with pytest.raises(AssigneeError, match="no crew"):
            check_assignee(session, "la", "OCB", value, crews)
    # Another city's crews come from its own file.
    assert [a.value for a in department_assignees(session, "gardena", "PW", gardena.catalogue.crews)] == [
        "crew:streets_1"
    ]


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("tree crew", "must be a list"),
        ([{"code": "a b", "name": "X"}], "code must be"),
        ([{"code": "t1"}], "needs a name"),
        ([{"code": "t1", "name": "X", "size": 3}], "unknown key"),
        ([{"code": "t1", "name": "X"}, {"code": "t1", "name": "Y"}], "repeats"),
    ],
)
def test_bad_crews_are_refused_naming_the_table(raw, problem):
    from core.catalogue_file import parse_crews
    from core.errors import ConfigError

    def fail(table: str, message: str) -> ConfigError:
        return ConfigError(f"{table}: {message}")

    with pytest.raises(ConfigError, match=problem) as raised:
        parse_crews(raw, "departments #2", fail)
    assert "departments #2" in str(raised.value)
