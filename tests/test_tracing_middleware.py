"""The worker's tracing middleware does nothing per job when there is nothing to record or carry on."""

from __future__ import annotations

import dramatiq
import pytest
from opentelemetry import trace

from workers.middleware.tracing import OPTION, Tracing

PARENT = {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}


def _message(options: dict[str, object]) -> dramatiq.Message[object]:
    return dramatiq.Message(queue_name="q", actor_name="a", args=(), kwargs={"job_id": "j1"}, options=options)


@pytest.mark.parametrize(("provider", "options", "opened"), [
    (trace.ProxyTracerProvider, {}, False),  # tracing off, no trace to carry on: skipped
    (trace.ProxyTracerProvider, {OPTION: PARENT}, True),  # off here, but the caller's trace is carried on
    (trace.NoOpTracerProvider, {}, True),  # a provider installed: the job's span is started
])
def test_a_job_span_is_opened_only_when_recorded_or_carried_on(monkeypatch: pytest.MonkeyPatch, provider: type,
                                                                options: dict[str, object], opened: bool) -> None:
    monkeypatch.setattr(trace, "get_tracer_provider", provider)
    middleware, message = Tracing(), _message(options)
    middleware.before_process_message(None, message)
    assert (message.message_id in middleware._open) is opened
    middleware.after_process_message(None, message)  # closes what was opened, and tolerates nothing opened
    assert middleware._open == {}
