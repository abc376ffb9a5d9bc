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
