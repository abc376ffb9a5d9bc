"""The Open311 API against its own OpenAPI document (schemathesis, bounded): no server error, ever.

Every operation gets generated requests, valid and invalid; each answer must not be a
server error, must use a status code, content type and body the document declares, and
an invalid request must be refused. (Accepting every valid-looking request cannot be
checked: some rules, such as a point outside the city or a window over 90 days, are no
part of any schema.)
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
BUDGET = settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def test_open311_answers_as_its_document_says(app):
    schema = schemathesis.openapi.from_wsgi("/open311/v2/openapi.json", app)
    tested = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @BUDGET
        @given(case=operation.as_strategy())
        def exercise(case) -> None:
            # schemathesis's WSGI calls send requests' "Accept-Encoding: gzip, deflate" but do not
            # decode: ask for the plain bytes (gzip is tested in test_caching.py)
            case.call_and_validate(checks=CHECKS, headers={"Accept-Encoding": "identity"})

        exercise()
        tested.append(f"{operation.method.upper()} {operation.path}")
    assert len(tested) >= 8, tested
