"""schemathesis over the OpenAPI document: bounded examples per operation, never a server error.

Every operation is called with generated path, query and body values (NULs and other control
characters included) with a valid key, against the real stack; any 5xx fails the test.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from tests.stack import Stack

#: Examples generated per operation (bounded: the suite shares two cores).
EXAMPLES = 12


@pytest.fixture
def api_schema(stack: Stack):  # type: ignore[no-untyped-def]
    """The API's own OpenAPI document, served in-process by the stack's app."""
    return schemathesis.openapi.from_asgi("/openapi.json", stack.api.app)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_operation_answers_a_server_error(case, stack: Stack) -> None:  # type: ignore[no-untyped-def]
    if case.path.endswith("/events"):  # the live streams: keep a generated cursor, but end the stream within 1 s
        case.query = {**(case.query or {}), "max_seconds": 1}
    response = case.call(headers=stack.headers())
    case.validate_response(response, checks=[not_a_server_error])
