"""Bind job context to every log line and emit one ``job.finished`` summary per attempt."""

from __future__ import annotations

import time
from typing import Any

import dramatiq
import structlog
from dramatiq.middleware import Middleware

log = structlog.get_logger("sintra.worker")


class JobLog(Middleware):
    """Clear and bind ``job_id, agent, integration, action, message_id, attempt``; time the attempt."""

    def before_process_message(self, broker: dramatiq.Broker, message: dramatiq.Message) -> None:
        kw: dict[str, Any] = message.kwargs or {}
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(
            job_id=kw.get("job_id"), workspace=kw.get("workspace"), agent=kw.get("agent"),
            integration=kw.get("integration"), action=kw.get("action"), message_id=message.message_id,
            attempt=message.options.get("retries", 0) + 1)
        message.options["_sintra_started"] = time.perf_counter()

    def after_process_message(self, broker: dramatiq.Broker, message: dramatiq.Message, *,
                              result: Any = None, exception: BaseException | None = None) -> None:
        started = message.options.pop("_sintra_started", None)
        duration = round((time.perf_counter() - started) * 1000, 1) if started else None
        if exception is None:
            outcome = "succeeded"
        elif isinstance(exception, dramatiq.Retry) or getattr(exception, "kind", "") in ("transient", "rate_limited"):
            outcome = "retrying"
        else:
            outcome = "failed"
        error = None if exception is None else f"{type(exception).__name__}: {exception}"
        log.info("job.finished", outcome=outcome, duration_ms=duration, error=error)
        structlog.contextvars.clear_contextvars()

    after_skip_message = after_process_message


class Resources(Middleware):
    """Close the process's pooled connections at shutdown."""

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        from workers.context import close_context

        close_context()
