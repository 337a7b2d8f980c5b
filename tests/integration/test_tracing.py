"""Tracing (off by default): one trace from the API request through the message to the provider call."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.conftest import Stack
from tests.integration.helpers import GOOD_MAILCHIMP, configure, wait_job


@pytest.fixture(scope="session")
def spans() -> Iterator[object]:
    """An in-memory exporter behind the process's tracer provider (OpenTelemetry allows setting it once)."""
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    yield exporter
    provider.shutdown()


def test_one_trace_runs_from_the_request_through_the_worker_to_each_provider_call(stack: Stack,
                                                                                  spans: object) -> None:
    configure(stack, "emmie", "mailchimp", GOOD_MAILCHIMP)
    spans.clear()  # type: ignore[attr-defined]
    parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"  # a caller's own trace continues
    r = stack.api.post("/api/jobs", json={"agent": "emmie", "integration": "mailchimp", "action": "list_campaigns",
                                          "params": {"limit": 1}}, headers={**stack.headers(), "traceparent": parent})
    assert wait_job(stack, r.json()["id"])["status"] == "succeeded"
    trace_id = int("4bf92f3577b34da6a3ce929d0e0e4736", 16)
    mine = [s for s in spans.get_finished_spans() if s.context.trace_id == trace_id]  # type: ignore[attr-defined]
    by_name = {s.name: s for s in mine}
    request, job = by_name["POST /api/jobs"], by_name["job run_emmie_job"]
    calls = [s for s in mine if s.name.startswith("mailchimp GET")]
    assert request.parent.span_id == int("00f067aa0ba902b7", 16)
    parents = {s.context.span_id: (s.parent.span_id if s.parent else None) for s in mine}
    chain, at = [], job.parent.span_id
    while at in parents:
        chain.append(at)
        at = parents[at]
    assert request.context.span_id in chain  # the job descends from the request: carried in the message
    assert job.attributes["sintra.job_id"] == r.json()["id"]
    assert calls and all(c.parent.span_id == job.context.span_id for c in calls)
    assert calls[0].attributes["http.response.status_code"] == 200
    assert job.end_time >= calls[-1].end_time


def test_without_a_tracer_provider_nothing_is_put_in_messages(stack: Stack) -> None:
    import dramatiq

    from workers.middleware.tracing import OPTION, Tracing

    message = dramatiq.Message(queue_name="q", actor_name="a", args=(), kwargs={}, options={})
    Tracing().before_enqueue(stack.broker, message, None)
    assert OPTION not in message.options
