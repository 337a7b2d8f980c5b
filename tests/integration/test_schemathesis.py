"""Schemathesis against the running API: every answer matches its documented schema, and none is a 500."""

from __future__ import annotations

import uuid

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance, \
    status_code_conformance

from tests.integration.conftest import Stack
from workers.store.db import session_scope
from workers.store.keys import create_key


@pytest.fixture
def fuzz_key(stack: Stack) -> str:
    """A workspace of its own, so random calls (disconnect, delete) touch no other test's state."""
    with session_scope(stack.engine) as s:
        return create_key(session=s, workspace=f"fz-{uuid.uuid4().hex[:6]}")


@pytest.fixture
def api_schema(stack: Stack, api_url: str) -> schemathesis.schemas.BaseSchema:
    schema = schemathesis.openapi.from_dict(stack.api.get("/openapi.json").json())
    schema.config.update(base_url=api_url)
    return schema


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.exclude(path_regex=r".*/events$").parametrize()  # endless streams: covered by test_stream_and_client
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_every_answer_matches_the_documented_schema(case: schemathesis.Case, fuzz_key: str) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {fuzz_key}"}, timeout=30,
                           checks=[not_a_server_error, status_code_conformance, content_type_conformance,
                                   response_schema_conformance])
