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
