"""What part of the city a user's permissions reach.

Department staff and supervisors act on their department's requests; a council account
reads requests of its ward or district (maps and reports stay citywide); the other roles
reach the whole city. A request outside a user's scope is treated as not there (404), so
that its existence is not confirmed either.
"""

from __future__ import annotations

from accounts.models import StaffUser
from accounts.roles import ROLES, role_allows
from service_requests.models import ServiceRequest
from service_requests.selection import RequestFilter


def in_scope(user: StaffUser, request: ServiceRequest) -> bool:
    """Whether ``request`` is within ``user``'s scope."""
    scope = ROLES[user.role].scope if user.role in ROLES else None
    if scope == "city":
        return True
    if scope == "department":
        return request.department_code is not None and request.department_code == user.department_code
    if scope == "area":
        key = request.ward_key if user.area_role == "wards" else request.district_key
        return key is not None and key == user.area_key
    return False


def within_scope(user: StaffUser, flt: RequestFilter) -> RequestFilter:
    """``flt`` narrowed to ``user``'s scope: the same rule as :func:`in_scope`, for lists and exports."""
    scope = ROLES[user.role].scope if user.role in ROLES else None
    if scope == "department":
        return flt.replace(department=user.department_code)
    if scope == "area":
        return flt.replace(ward=user.area_key) if user.area_role == "wards" else flt.replace(district=user.area_key)
    return flt


def may(user: StaffUser | None, permission: str, request: ServiceRequest | None = None) -> bool:
    """Whether ``user`` has ``permission``, and, for a request, whether the request is in scope."""
    if user is None or not role_allows(user.role, permission):
        return False
    return request is None or in_scope(user, request)


def may_read_details(user: StaffUser | None, request: ServiceRequest) -> bool:
    """Whether ``user`` may read ``request``'s description and location note: the requester's own words,
    where names and phone numbers happen. Roles with requests.contact may; others (council, planners,
    analysts, the public) only once a staff member marked them public."""
    return bool(request.details_public) or may(user, "requests.contact", request)
