"""A request filed through intake as the tests need one: Graffiti Removal at a real LA address."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from address_db.validation import Validator
from core.city import CityConfig
from service_requests.intake import RequestInput, create_request
from service_requests.models import ServiceRequest

#: What a graffiti request by phone at 2111 W Bellevue Ave (ward 13) is filed with; tests change fields.
GRAFFITI: dict[str, Any] = dict(
    service_code="graffiti", channel="phone", address="2111 W Bellevue Ave", attributes={"surface": "wall"}
)


def file_graffiti(session: Session, city: CityConfig, validator: Validator, **changes: Any) -> ServiceRequest:
    """File (and commit) a graffiti request with ``changes`` over :data:`GRAFFITI`."""
    return create_request(session, city, validator, RequestInput(**{**GRAFFITI, **changes})).request
