"""Worker middleware: job context on every log line, and the process's resources."""

from __future__ import annotations

import os
import sys
from typing import Any

import dramatiq
import structlog
from dramatiq.middleware import Middleware


class JobLog(Middleware):
    """Clear and bind ``job_id, workspace, message_id`` around each message.

    The runner binds agent, integration and action from the job row and writes the one
    ``job.finished`` line from the lifecycle decision; this middleware only scopes the context.
    """

    def before_process_message(self, broker: dramatiq.Broker, message: dramatiq.MessageProxy) -> None:
        kw: dict[str, Any] = message.kwargs or {}
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(job_id=kw.get("job_id"), workspace=kw.get("workspace"),
                                               message_id=message.message_id)

    def after_process_message(self, broker: dramatiq.Broker, message: dramatiq.MessageProxy, *,
                              result: Any = None, exception: BaseException | None = None) -> None:
        structlog.contextvars.clear_contextvars()

    after_skip_message = after_process_message


class Resources(Middleware):
    """Build the worker's resources at boot; close them after the worker threads have stopped."""

    def before_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        # before dramatiq starts its consumers and worker threads: no message is processed without it
        from workers.context import BootError, boot

        try:
            boot(broker, worker)
        except BootError as exc:
            # dramatiq logs and ignores middleware errors; a worker that cannot work must not look ready
            structlog.get_logger("sintra.worker").error("worker.boot_failed", error=str(exc))
            print(f"sintra worker: {exc}", file=sys.stderr, flush=True)
            os._exit(3)

    def after_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        from workers.context import shutdown

        shutdown(broker)
