"""OpenTelemetry spans from the API request through the message to the worker and each provider call.

FastAPI opens the request's server span (honouring a caller's ``traceparent``). The trace context
rides in the message's options (``trace_context``): the producer injects it in ``before_enqueue``,
the worker extracts it and runs the job inside a consumer span, and every provider call becomes a
child span. Off by default: with no tracer provider installed
(``SINTRA_TRACING=""``) every call here is OpenTelemetry's no-op.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from dramatiq.middleware import Middleware
from opentelemetry import context, propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from workers.telemetry import configure_tracing

#: The message option that carries the trace context.
OPTION = "trace_context"
tracer = trace.get_tracer("sintra")


class Tracing(Middleware):
    """Carries the trace context in messages and runs each job inside a consumer span."""

    def __init__(self) -> None:
        self._open: dict[str, tuple[Any, Any]] = {}
        self._lock = threading.Lock()

    def after_worker_boot(self, broker: Any, worker: Any) -> None:
        from config.settings import get_settings

        settings = get_settings()
        configure_tracing(settings.tracing, "sintra-worker")

    def before_enqueue(self, broker: Any, message: Any, delay: Any) -> None:
        carrier: dict[str, str] = {}
        propagate.inject(carrier)
        if carrier:
            message.options[OPTION] = carrier

    def before_process_message(self, broker: Any, message: Any) -> None:
        carrier = message.options.get(OPTION)
        if not carrier and not recording():
            # nothing to record and no trace to carry on: the no-op span, its context and the bookkeeping
            # were 3.5% of a worker's CPU at 256 in flight (py-spy), for nothing
            return
        parent = propagate.extract(carrier or {})
        kwargs = message.kwargs or {}
        span = tracer.start_span(f"job {message.actor_name}", context=parent, kind=SpanKind.CONSUMER,
                                 attributes={"sintra.job_id": str(kwargs.get("job_id", "")),
                                             "messaging.destination.name": message.queue_name,
                                             "messaging.message.id": message.message_id})
        token = context.attach(trace.set_span_in_context(span))
        with self._lock:
            self._open[message.message_id] = (span, token)

    def after_process_message(self, broker: Any, message: Any, *, result: Any = None,
                              exception: BaseException | None = None) -> None:
        with self._lock:
            item = self._open.pop(message.message_id, None)
        if item is None:
            return
        span, token = item
        if exception is not None:
            span.record_exception(exception)
            span.set_status(Status(StatusCode.ERROR, type(exception).__name__))
        span.end()
        context.detach(token)

    after_skip_message = after_process_message


def recording() -> bool:
    """Whether this process has a tracer provider (else every span is OpenTelemetry's no-op). Read each time:
    one may be installed after the broker is built (a test's, for one)."""
    return not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)


def traced_record(record: Callable[[Any], None]) -> Callable[[Any], None]:
    """Wrap a provider call recorder so that each call also becomes a span of the current job."""

    def both(call: Any) -> None:
        if not recording():  # the span would be a no-op
            record(call)
            return
        end = time.time_ns()
        span = tracer.start_span(f"{call.provider} {call.method} {call.path}", kind=SpanKind.CLIENT,
                                 start_time=end - int(call.duration_ms * 1_000_000),
                                 attributes={"sintra.provider": call.provider, "sintra.action": call.action,
                                             "http.request.method": call.method, "url.path": call.path,
                                             "http.response.status_code": call.status or 0,
                                             "sintra.outcome": call.outcome})
        if call.outcome != "ok":
            span.set_status(Status(StatusCode.ERROR, call.outcome))
        span.end(end_time=end)
        record(call)

    return both
