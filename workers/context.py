"""The worker process's resources, built once after fork (hvac and httpx pools are not fork-safe)."""

from __future__ import annotations

import os
import threading

from config.settings import get_settings
from workers.credentials.routing import PerAgentCredentials
from workers.runner import WorkerContext
from workers.store.db import build_engine

_lock = threading.Lock()
_ctx: WorkerContext | None = None


def get_context() -> WorkerContext:
    """This process's :class:`WorkerContext`, created on first use.

    ``SINTRA_WORKER_AGENT`` pins the process to one agent's Vault identity (the run command and
    docker-compose set it); without it the process logs in as whichever agent a job belongs to.
    """
    global _ctx
    with _lock:
        if _ctx is None:
            settings = get_settings()
            source = PerAgentCredentials(settings, only=os.environ.get("SINTRA_WORKER_AGENT"))
            _ctx = WorkerContext(settings=settings, engine=build_engine(settings.db_url), credentials=source)
        return _ctx


def close_context() -> None:
    """Close pooled connections at worker shutdown."""
    global _ctx
    with _lock:
        if _ctx is not None:
            _ctx.close()
            _ctx.engine.dispose()
            _ctx = None
