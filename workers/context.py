"""The worker process's resources: built at worker boot (after fork), closed at shutdown.

Nothing happens at import. The ``Resources`` middleware calls :func:`boot` from dramatiq's
``before_worker_boot`` hook, before any consumer or worker thread starts: it configures logging,
builds the context (database engine, Vault identity, HTTP pools), checks that the database, Redis
and Vault answer (a worker that cannot reach them says so and does not start), and starts the heartbeat
and the relay/sweeper threads.
:func:`shutdown` runs after dramatiq has stopped and joined the worker threads, so in-flight jobs
finish with their connections open; jobs still running then are handed back.
"""

from __future__ import annotations

import gc
import os
import threading
from typing import Any

import structlog

from config.logging import configure_logging
from config.settings import get_settings
from workers.broker import Enqueuer
from workers.credentials.routing import PerAgentCredentials
from workers.dispatch import Maintenance
from workers.runner import Heartbeat, WorkerContext
from workers.store.db import build_engine

log = structlog.get_logger("sintra.worker")

_lock = threading.Lock()
#: One context per broker (a process normally has one; tests run a Redis and a RabbitMQ worker side by side).
_contexts: dict[int, WorkerContext] = {}
_owned: set[int] = set()  # built here (and so disposed here), not installed by a test
_threads: dict[int, list[Any]] = {}


class BootError(RuntimeError):
    """A dependency the worker needs does not answer at boot."""


def get_context(broker: Any) -> WorkerContext:
    """The :class:`WorkerContext` of ``broker``'s worker in this process (built at worker boot)."""
    ctx = _contexts.get(id(broker))
    if ctx is None:
        raise BootError("the worker context is built at worker boot by the Resources middleware; "
                        "run workers with `dramatiq workers.agents`")
    return ctx


def install(broker: Any, ctx: WorkerContext | None) -> None:
    """Use ``ctx`` for ``broker``'s worker (tests build their own); None removes it."""
    with _lock:
        if ctx is None:
            _contexts.pop(id(broker), None)
        else:
            _contexts[id(broker)] = ctx


def check_dependencies(ctx: WorkerContext) -> None:
    """Fail with a clear message when the database, Redis or Vault does not answer."""
    import httpx
    import redis
    from sqlalchemy import text

    s = ctx.settings
    try:
        with ctx.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        raise BootError(f"worker cannot reach the database ({ctx.engine.url.render_as_string(hide_password=True)}): "
                        f"{type(exc).__name__}") from None
    try:
        redis.Redis.from_url(s.redis_url, socket_connect_timeout=3).ping()
    except Exception as exc:
        raise BootError(f"worker cannot reach Redis at {s.redis_url.split('@')[-1]}: {type(exc).__name__}") from None
    try:
        httpx.get(f"{s.vault_addr}/v1/sys/health", timeout=3)
    except httpx.HTTPError as exc:
        raise BootError(f"worker cannot reach Vault at {s.vault_addr}: {type(exc).__name__}") from None


def boot(broker: Any, worker: Any = None) -> WorkerContext:
    """Build (or adopt) the context, check dependencies, start heartbeat and maintenance."""
    key = id(broker)
    served = os.environ.get("SINTRA_WORKER_AGENT")  # the one agent this process serves (unset: every agent)
    with _lock:
        if key not in _contexts:
            settings = get_settings()
            configure_logging(fmt=settings.log_format, level=settings.log_level)
            source = PerAgentCredentials(settings, only=served)
            # a job holds a connection for one statement at a time: a few serve all of the process's jobs
            # (PostgreSQL forks a backend per connection), plus the heartbeat, relay and sweeper loops
            threads = int(getattr(worker, "worker_threads", 8) or 8)
            pool = min(threads, settings.worker_db_connections) + 4
            # no overflow: a connection opened beyond the pool is closed when returned, and under load the
            # jobs would open and close connections all the time; they wait for a pooled one instead
            built = WorkerContext(settings=settings, engine=build_engine(settings.db_url, pool_size=pool,
                                                                         max_overflow=0),
                                  credentials=source, concurrency=threads)
            check_dependencies(built)
            _contexts[key] = built
            _owned.add(key)
        ctx = _contexts[key]
        if ctx.enqueuer is None:
            ctx.enqueuer = Enqueuer(broker)
        queues = sorted(getattr(worker, "consumer_whitelist", None) or broker.get_declared_queues())
        heartbeat = Heartbeat(ctx, agent=served, queues=queues)
        heartbeat.start()
        maintenance = Maintenance(ctx.engine, ctx.enqueuer, ctx.settings)
        maintenance.start()
        _threads[key] = [maintenance, heartbeat]
        if key in _owned:
            warm_up(served, ctx)
            # A worker process: what exists now (modules, the catalog, pools) lives as long as it does, so
            # out of the collector's sight. Why: a full collection walks every tracked object, and under
            # gevent every job of the process stands still meanwhile; measured, 60-170 ms each, about one
            # per 10 s per process under load (the pickup p99 tail). Collected first: no garbage frozen.
            # (Not for a context a test installed: its process is the test run, which must collect.)
            gc.collect()
            gc.freeze()
        log.info("worker.booted", worker_id=ctx.worker_id, queues=queues)
        return ctx


def warm_up(agent_id: str | None, ctx: WorkerContext | None = None) -> None:
    """Import before the first job what it would otherwise import then: for a worker of one agent, its
    providers' client modules, and the Vault client's modules.

    Why: under gevent the first job's CPU stops every greenlet of the process; jobs picked up meanwhile
    waited 50-110 ms (the pickup p99 tail after a worker starts). Measured, hvac's import was ~45 ms of it
    (workers no longer load hvac), a provider module ~4 ms. The provider pools' one TLS context
    (:func:`workers.egress.tls_context`, the CA bundle loaded: 35-90 ms of CPU, measured in the first job's
    profile on RabbitMQ) is built here for every worker; the provider modules only for one agent (a worker
    of every agent would load every provider: memory). Best effort: what fails here, the job meets and
    reports.
    """
    try:
        from workers.egress import tls_context

        tls_context()
    except Exception as exc:  # noqa: BLE001 - an optimisation only
        log.warning("worker.warm_up_failed", error=type(exc).__name__)
    if ctx is not None:
        try:
            _warm_statements(ctx)
        except Exception as exc:  # noqa: BLE001 - an optimisation only
            log.warning("worker.warm_up_failed", error=type(exc).__name__)
    if not agent_id:
        return
    warm = getattr(ctx.credentials if ctx is not None else None, "warm", None)
    if warm is not None:  # its Vault login (a test's own credential source may have none)
        try:
            warm(agent_id)
        except Exception as exc:  # noqa: BLE001 - the first job logs in then, and reports what fails
            log.warning("worker.warm_up_failed", error=type(exc).__name__)
    try:
        from config.catalog import agent as agent_spec
        from workers.credentials.vault import VaultCredentialSource  # noqa: F401 - imported for its cost
        from workers.providers import client_class
        from workers.vault.client import VaultSession  # noqa: F401 - imported for its cost

        for spec in agent_spec(agent_id).integrations:
            client_class(spec.provider)
    except Exception as exc:  # noqa: BLE001 - an optimisation only
        log.warning("worker.warm_up_failed", error=type(exc).__name__)


def _warm_statements(ctx: WorkerContext) -> None:
    """Run a job's start statements (alone and batched) once for no job, so that SQLAlchemy compiles and
    caches them now.

    Why: its first compilation (a CTE of an UPDATE, an INSERT and a join) is ~6 ms of CPU in the first job,
    during which every greenlet of the process stands still. Matching no row, it changes nothing.
    """
    from datetime import timedelta

    from workers.store import attempts
    from workers.store.db import atomic
    from workers.store.tables import utcnow

    now = utcnow()
    atomic(ctx.engine, lambda conn: attempts.start(conn, job_id="", workspace="", worker_id=ctx.worker_id,
                                                   now=now, lease_until=now + timedelta(seconds=1)))
    ctx.start_batched("", "")  # PostgreSQL's batched start (the usual path there), for no job too


def shutdown(broker: Any) -> None:
    """Stop maintenance and heartbeat (handing back unfinished jobs), close pools."""
    key = id(broker)
    with _lock:
        for thread in _threads.pop(key, []):
            thread.stop()
        ctx = _contexts.get(key)
        if ctx is not None:
            ctx.close()
            if key in _owned:
                ctx.engine.dispose()
                del _contexts[key]
                _owned.discard(key)
