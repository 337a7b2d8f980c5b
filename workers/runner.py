"""Runs one job: start it, call the provider, and record the one decision about its outcome.

A message only wakes a job up. :func:`execute` starts the job only if its row says it is waiting and
due (so duplicate or early messages change nothing), runs it, asks the one retry policy
(:mod:`workers.lifecycle`) what the outcome means, and writes the job's state, attempt log, event,
integration state, audit rows and (for a retry) its outbox entry in one transaction. The actor never
raises for a job's outcome; dramatiq acks the message and runs no retries of its own.

Bookkeeping survives a database outage: each write is retried for ``db_outage_seconds``, so a side
effect done just before the outage is recorded when the database is back (the step log holds it),
never done twice. A worker process heartbeats every ``heartbeat_seconds``, renewing the leases of its
running jobs; a job whose worker stops heartbeating is taken over by the sweeper within
``lease_seconds`` plus one sweep, and resumes from its step log.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar, cast

import httpx
import structlog
from dramatiq.middleware import TimeLimitExceeded
from pydantic import ValidationError
from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

from config.catalog import AgentSpec, CatalogError
from config.catalog import agent as agent_spec
from config.catalog import integration as integration_spec
from config.messages import JobMessage
from config.settings import Settings
from config.providers.oauth import EXCHANGE_ACTION
from workers.broker import Enqueuer
from workers.credentials.base import CredentialSource
from workers.connection_state import record_connection
from workers.credentials.refresh import StoredRefresher
from workers.egress import ProviderHTTP, egress_transport
from workers.errors import (
    AgentError,
    AuthError,
    CredentialsUnavailable,
    IntegrationUnavailable,
    InvalidPayload,
    JobCancelled,
    NeedsReconnect,
    PermanentError,
    RateLimited,
    TimeLimitError,
    TransientError,
)
from workers.lifecycle import Decision, RetryPolicy, next_rate_limited_since, retry_at
from workers.providers import client_class
from workers.providers.base import CallRecord, record_intent
from workers.providers.keepalive import DAY_S, keep_alive
from workers.providers.oauth import OAuth2Client
from workers.store import attempts, events
from workers.store import jobs as job_store
from workers.store.db import atomic, connection_scope
from workers.store.tables import AUDIT_EVENTS, JOBS, WORKER_PROCESSES, utcnow

if TYPE_CHECKING:
    from sqlmodel import Session

    from workers.store.models import Job

# A worker's own statements are Core (start, outcome, steps, progress, heartbeat): its process goes without the
# ORM (issue 12: about 7 MB of each; :mod:`workers.store.tables`). The rare paths that work with ORM objects
# (a workflow's stages, an OAuth connection, an integration's changed state) import it when they first run.

log = structlog.get_logger("sintra.worker")
T = TypeVar("T")
#: How long a worker process trusts its last answer about an account's shared rate-limit pause.
PAUSE_CHECK_SECONDS = 0.25
#: What a workflow job's run returns when it started its next stage and waits for it (nothing to record).
WAITING = object()


def will_retry(retries: int, exc: BaseException, max_retries: int) -> bool:
    """Whether an error is of a retried kind and the budget allows another attempt (see workers.lifecycle)."""
    return isinstance(exc, TransientError) and retries < max_retries


@dataclass
class WorkerContext:
    """Process-wide resources of a worker: built at boot (after fork), closed at shutdown."""

    settings: Settings
    engine: Engine
    credentials: CredentialSource
    enqueuer: Enqueuer | None = None
    worker_id: str = field(default_factory=lambda: f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}")
    _http: OrderedDict[str, httpx.Client] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _redis: Any = None
    _creds: OrderedDict[tuple[str, ...], tuple[float, Any]] = field(default_factory=OrderedDict)
    #: pause key -> (answer valid until, paused until), monotonic seconds (see :meth:`paused_for`)
    _pauses: dict[str, tuple[float, float]] = field(default_factory=dict)
    #: Jobs running in this process, and those asked to cancel (polled with the heartbeat).
    running: set[str] = field(default_factory=set)
    cancelled: set[str] = field(default_factory=set)
    #: Most HTTP pools kept (one per provider base URL); the least recently used is closed.
    max_http_clients: int = 256
    #: Jobs this process runs at once (worker threads or greenlets): sizes the HTTP pools.
    concurrency: int = 8
    #: Group commits of starts and outcomes (PostgreSQL; see :class:`workers.store.attempts.GroupCommit`).
    _starts: attempts.GroupCommit[tuple[str, str], Any] | None = None
    _finishes: attempts.GroupCommit[attempts.Outcome, Any] | None = None

    def start_batched(self, job_id: str, workspace: str) -> Any:
        """Start a job in the next group commit: ``(job, state, True)``, or :data:`~workers.store.attempts.ALONE`
        (not started by the batch, or SQLite: the caller runs :func:`~workers.store.attempts.start` alone)."""
        if self.engine.dialect.name != "postgresql":
            return attempts.ALONE
        if self._starts is None:
            lease = timedelta(seconds=self.settings.lease_seconds)

            def run(jobs: list[tuple[str, str]]) -> list[Any]:
                now = utcnow()
                return atomic(self.engine, lambda conn: attempts.start_many(
                    conn, jobs, worker_id=self.worker_id, now=now, lease_until=now + lease))
            self._starts = attempts.GroupCommit(run, name="start")
        return self._starts((job_id, workspace))

    def finish_batched(self, outcome: attempts.Outcome | None) -> Any:
        """Record an outcome in the next group commit: whether the job was still ours, or
        :data:`~workers.store.attempts.ALONE` (the caller runs :func:`~workers.store.attempts.finish` alone)."""
        if outcome is None or self.engine.dialect.name != "postgresql":
            return attempts.ALONE
        if self._finishes is None:
            self._finishes = attempts.GroupCommit(lambda outcomes: atomic(
                self.engine, lambda conn: attempts.finish_many(conn, outcomes, worker_id=self.worker_id)),
                name="finish")
        return self._finishes(outcome)

    def credentials_for(self, job: Job, secret_fields: frozenset[str], version: int | None,
                        configured_at: datetime | None = None) -> Any:
        """Credentials from Vault, kept in this process for ``credential_cache_seconds`` (VAULT.md §2.7).

        The key includes the version the API last wrote and when it configured them, so a re-configure is
        seen at once, after a disconnect too (a disconnect deletes the secret with its versions: the next
        configure's version is 1 again); the job's integration state is checked in the database before every
        use, so a disconnect is too. The cache is bounded (``credential_cache_size``, least recently used first)
        and drops expired entries.
        """
        key = (job.workspace_id, job.agent, job.integration, str(version), str(configured_at))
        ttl = self.settings.credential_cache_seconds
        now = time.monotonic()
        with self._lock:
            hit = self._creds.get(key)
            if hit is not None and hit[0] > now:
                self._creds.move_to_end(key)
                return hit[1]
        creds = self.credentials.get(workspace=job.workspace_id, agent=job.agent, integration=job.integration,
                                     secret_fields=secret_fields)
        if ttl > 0:
            with self._lock:
                self._creds[key] = (now + ttl, creds)
                for stale in [k for k, (exp, _) in self._creds.items() if exp <= now]:
                    del self._creds[stale]
                while len(self._creds) > self.settings.credential_cache_size:
                    self._creds.popitem(last=False)
        return creds

    def forget_credentials(self, job: Job) -> None:
        """Drop cached credentials of an integration (after the provider rejected them)."""
        with self._lock:
            for key in [k for k in self._creds if k[:3] == (job.workspace_id, job.agent, job.integration)]:
                del self._creds[key]

    def redis(self) -> Any:
        """A Redis client (cross-process locks, the shared rate-limit pause), created on first use."""
        with self._lock:
            if self._redis is None:
                import redis

                self._redis = redis.Redis.from_url(self.settings.redis_url, socket_timeout=2,
                                                   socket_connect_timeout=2)
            return self._redis

    def http(self, base_url: str) -> httpx.Client:
        """A pooled HTTP client for ``base_url`` (bounded: the least recently used pool is closed)."""
        with self._lock:
            client = self._http.get(base_url)
            if client is None:
                client = ProviderHTTP(base_url=base_url, timeout=self.settings.provider_timeout,
                                     headers={"User-Agent": "sintra/0.1"},
                                     transport=egress_transport(self.settings.provider_urls,
                                                                self.settings.provider_root,
                                                                concurrency=self.concurrency))
                self._http[base_url] = client
                while len(self._http) > self.max_http_clients:
                    self._http.popitem(last=False)[1].close()
            else:
                self._http.move_to_end(base_url)
            return client

    def db(self, fn: Callable[[], T], what: str) -> T:
        """Run a bookkeeping transaction, retrying while the database is unreachable (``db_outage_seconds``)."""
        deadline = time.monotonic() + self.settings.db_outage_seconds
        delay = 0.2
        while True:
            try:
                return fn()
            except DBAPIError as exc:
                if not _is_outage(exc) or time.monotonic() + delay > deadline:
                    raise
                log.warning("db.unavailable", during=what, retry_in_s=delay, error=type(exc.orig).__name__)
                time.sleep(delay)
                delay = min(delay * 2, 5.0)

    # -- the shared rate-limit pause -------------------------------------------------------------
    @staticmethod
    def _pause_key(job: Job) -> str:
        return f"sintra:pause:{job.workspace_id}:{job.agent}:{job.integration}"

    def pause(self, job: Job, seconds: float) -> None:
        """The provider throttled this account: every job of it waits ``seconds`` before calling."""
        key = self._pause_key(job)
        now = time.monotonic()
        self._note_pause(key, now + seconds, now + seconds)  # this process's jobs see it at once
        try:
            self.redis().set(key, "1", px=max(1, int(seconds * 1000)))
        except Exception as exc:  # noqa: BLE001 - without Redis each job waits on its own
            log.warning("pause.unavailable", error=type(exc).__name__)

    def paused_for(self, job: Job) -> float:
        """Seconds left of the account's shared pause (0 when none, or when Redis cannot tell).

        Asked before every provider call, so the answer is kept for :data:`PAUSE_CHECK_SECONDS` per account
        (a Redis round trip per call was 3 % of a job's CPU): a pause set by another process takes
        effect here at most that much later (a job starting in between may still make its call, and a
        429 then pauses it too); one set by this process, at once.
        """
        key = self._pause_key(job)
        now = time.monotonic()
        hit = self._pauses.get(key)
        if hit is not None and hit[0] > now:
            return max(0.0, hit[1] - now)
        try:
            ms = self.redis().pttl(key)
        except Exception:  # noqa: BLE001
            return 0.0
        left = ms / 1000 if ms and ms > 0 else 0.0
        self._note_pause(key, now + PAUSE_CHECK_SECONDS, now + left)
        return left

    def _note_pause(self, key: str, valid_until: float, paused_until: float) -> None:
        if len(self._pauses) >= 4096:  # bounded: forget every account's answer (each costs one PTTL)
            self._pauses.clear()
        self._pauses[key] = (valid_until, paused_until)

    def close(self) -> None:
        """Close pooled HTTP clients."""
        with self._lock:
            for client in self._http.values():
                client.close()
            self._http.clear()


def _is_outage(exc: DBAPIError) -> bool:
    """A lost or refused connection (retry later), not a bug in a statement."""
    from sqlalchemy.exc import InterfaceError, OperationalError

    return exc.connection_invalidated or isinstance(exc, (OperationalError, InterfaceError))


class Heartbeat:
    """A worker process's heartbeat: its row in ``worker_processes``, its jobs' leases, cancel requests."""

    def __init__(self, ctx: WorkerContext, *, agent: str | None, queues: list[str]) -> None:
        self.ctx, self.agent, self.queues = ctx, agent, queues
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        now = utcnow()
        with connection_scope(self.ctx.engine) as conn:
            broker = getattr(self.ctx.enqueuer, "broker", None)
            conn.execute(insert(WORKER_PROCESSES).values(
                id=self.ctx.worker_id, agent=self.agent, hostname=socket.gethostname(), pid=os.getpid(),
                queues=self.queues, started_at=now, heartbeat_at=now, in_flight=0, stopped_at=None,
                broker_id=getattr(broker, "broker_id", None)))
        self._thread = threading.Thread(target=self._loop, name="sintra-heartbeat", daemon=True)
        self._thread.start()

    def beat(self) -> None:
        """Renew this process's row and its running jobs' leases; learn of cancel requests."""
        ctx = self.ctx
        now = utcnow()
        with connection_scope(ctx.engine) as s:
            s.execute(update(WORKER_PROCESSES).where(WORKER_PROCESSES.c.id == ctx.worker_id)
                      .values(heartbeat_at=now, in_flight=len(ctx.running)))
            running = list(ctx.running)  # only jobs a thread is really working on: a job whose thread
            if running:                  # died without recording its outcome loses its lease and is taken over
                s.execute(update(JOBS).where(JOBS.c.id.in_(running), JOBS.c.worker_id == ctx.worker_id,
                                             JOBS.c.status == "running")
                          .values(lease_expires_at=now + timedelta(seconds=ctx.settings.lease_seconds)))
                ctx.cancelled.update(s.execute(select(JOBS.c.id).where(
                    JOBS.c.id.in_(running), JOBS.c.cancel_requested_at.is_not(None))).scalars().all())

    def _loop(self) -> None:
        while not self._stop.wait(self.ctx.settings.heartbeat_seconds):
            try:
                self.beat()
            except Exception as exc:  # noqa: BLE001 - database down: the next beat tries again
                log.warning("heartbeat.failed", error=type(exc).__name__)

    def stop(self) -> None:
        """Stop beating; hand this process's still-running jobs back (they run again elsewhere)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        now = utcnow()
        try:
            with connection_scope(self.ctx.engine) as s:
                handed = hand_back(s, self.ctx.worker_id, now)
                s.execute(update(WORKER_PROCESSES).where(WORKER_PROCESSES.c.id == self.ctx.worker_id)
                          .values(stopped_at=now, heartbeat_at=now, in_flight=0))
            if handed:
                log.warning("worker.handed_back", jobs=handed)
        except Exception as exc:  # noqa: BLE001 - the sweeper takes them over after their lease
            log.warning("worker.hand_back_failed", error=type(exc).__name__)


def hand_back(session: Session | Connection, worker_id: str, now: Any) -> int:
    """Jobs still running on a stopping worker -> retrying, sent again at once (no failure counted)."""
    n = 0
    for job in session.execute(select(JOBS).where(JOBS.c.worker_id == worker_id, JOBS.c.status == "running")).all():
        entry = {"attempt": job.attempts, "at": now.isoformat(), "kind": "handed_back",
                 "message": "worker shut down before the attempt finished", "worker": worker_id}
        if job_store.finish_attempt(session=session, job_id=job.id, worker_id=worker_id,
                                    values={"status": "retrying", "dispatch_at": now, "not_before": None,
                                            "attempt_log": [*(job.attempt_log or []), entry]}):
            events.record(session, workspace=job.workspace_id, type="job.retrying", job_id=job.id,
                          data={"reason": "handed_back"})
            n += 1
    return n


class DbSteps:
    """A :class:`~workers.providers.base.StepLog` in ``job_steps``; also buffers the attempt's audit rows.

    Provider calls are audited in batches: written with the next step, progress or the outcome, in
    the same transaction (a crash loses at most the rows since the last step).
    """

    def __init__(self, ctx: WorkerContext, job: Job) -> None:
        self.ctx, self.job, self.job_id = ctx, job, job.id
        #: Stamped on objects a job creates (where the provider allows), so a retry can find them.
        self.marker = f"sintra-{job.id}"
        self.calls: list[CallRecord] = []

    def record(self, call: CallRecord) -> None:
        self.calls.append(call)

    def take_audit(self) -> list[dict[str, Any]]:
        """The buffered provider calls as audit rows (the buffer is emptied)."""
        job, now = self.job, utcnow()
        rows = []
        for call in self.calls:
            rl = call.rate_limit
            detail = None if rl is None else {"rate_limit": {"limit": rl.limit, "remaining": rl.remaining,
                                                             "reset_after": rl.reset_after}}
            rows.append(attempts.audit_row(
                at=now, actor=f"worker:{job.agent}", kind="provider_call", outcome=call.outcome,
                workspace_id=job.workspace_id, job_id=job.id, agent=job.agent, integration=job.integration,
                action=call.action or job.action, method=call.method, path=call.path, status=call.status,
                duration_ms=round(call.duration_ms, 2), detail=detail))
        self.calls = []
        return rows

    def flush(self, s: Session | Connection) -> None:
        """Write the buffered audit rows in ``s``'s transaction."""
        rows = self.take_audit()
        if rows:
            s.execute(insert(AUDIT_EVENTS), rows)

    def get(self, key: str) -> Any:
        def read() -> Any:
            with connection_scope(self.ctx.engine) as s:
                return job_store.get_step(session=s, job_id=self.job_id, key=key)
        return self.ctx.db(read, "step.get")

    def put(self, key: str, value: Any) -> None:
        def write() -> None:
            with connection_scope(self.ctx.engine) as s:
                self.flush(s)
                job_store.put_step(session=s, job_id=self.job_id, key=key, value=value)  # commits
        self.ctx.db(write, "step.put")
        self.check()

    def intent(self, key: str) -> bool:
        return record_intent(self, key)

    def progress(self, step: str, pct: float | None = None) -> None:
        def write() -> None:
            with connection_scope(self.ctx.engine) as s:
                self.flush(s)
                events.record(s, workspace=self.job.workspace_id, type="job.progress", job_id=self.job_id,
                              data={"step": step, "percent": pct})
                job_store.set_progress(session=s, job_id=self.job_id, step=step, pct=pct)
        self.ctx.db(write, "progress")
        log.info("job.progress", step=step, percent=pct)
        self.check()

    def check(self) -> None:
        """Stop here if the job was cancelled (called between steps and before each provider call)."""
        if self.job_id in self.ctx.cancelled:
            raise JobCancelled("cancelled while running; stopped before the next provider call")


def parse_message(payload: dict[str, Any]) -> JobMessage:
    """Validate a queue message or raise :class:`InvalidPayload` naming the bad fields."""
    try:
        return JobMessage.model_validate(payload)
    except ValidationError as exc:
        names = ", ".join(".".join(str(p) for p in e["loc"]) or "message" for e in exc.errors())
        raise InvalidPayload(f"queue message failed validation ({names})") from None


def execute(payload: dict[str, Any], *, ctx: WorkerContext) -> Any:
    """Run the job a message wakes up, if its row says it should run now; record the outcome."""
    try:
        msg = parse_message(payload)
    except InvalidPayload as exc:
        _fail_unparsed(ctx, payload, exc)
        return None
    lease = timedelta(seconds=ctx.settings.lease_seconds)

    def start() -> tuple[Job | None, attempts.StateRow | None, bool]:
        started = ctx.start_batched(msg.job_id, msg.workspace)  # with the other jobs starting meanwhile
        if started is not attempts.ALONE:
            return cast("tuple[Job | None, attempts.StateRow | None, bool]", started)
        now = utcnow()  # one statement: the job, its integration's state, running, its event
        return atomic(ctx.engine, lambda conn: attempts.start(
            conn, job_id=msg.job_id, workspace=msg.workspace, worker_id=ctx.worker_id, now=now,
            lease_until=now + lease))

    job, state, started = ctx.db(start, "start")
    if job is None:
        log.error("job.unknown", job_id=msg.job_id, workspace=msg.workspace)
        return None
    structlog.contextvars.bind_contextvars(agent=job.agent, integration=job.integration, action=job.action)
    if not started:  # finished, running elsewhere, or a retry not yet due: the row's own schedule stands
        log.debug("job.skipped", status=job.status, reason="not waiting or not due")  # duplicates are normal
        return None
    steps = DbSteps(ctx, job)
    ctx.running.add(job.id)
    result: Any = None
    error: AgentError | None = None
    began = time.perf_counter()
    try:
        if job.cancel_requested_at is not None:
            ctx.cancelled.add(job.id)
        steps.check()
        result = _combine(job, ctx) if job.kind == "workflow" else _run(job, ctx, state, steps)
    except AgentError as exc:
        error = exc
    except TimeLimitExceeded:
        error = TimeLimitError(f"job exceeded its time limit of {agent_spec(job.agent).time_limit_ms} ms")
    except Exception as exc:  # a bug, not a provider failure: keep the traceback in (redacted) logs only
        log.exception("job.internal_error")
        error = PermanentError(f"internal error in worker: {type(exc).__name__}")
    if result is WAITING:  # the stage's commit already put the workflow job back to waiting
        log.info("job.waiting", reason="next workflow stage started", attempt=job.attempts)
        return None
    try:
        _finish(ctx, job, steps, result, error, duration_ms=(time.perf_counter() - began) * 1000)
    finally:  # recorded, or not recordable: either way the heartbeat stops holding the job
        ctx.running.discard(job.id)
        ctx.cancelled.discard(job.id)
    return result


def _policy(ctx: WorkerContext, spec: AgentSpec) -> RetryPolicy:
    s = ctx.settings
    budget = spec.rate_limit_budget_seconds or s.rate_limit_budget_seconds
    return RetryPolicy(min_backoff=s.retry_min_backoff_ms / 1000, max_backoff=s.retry_max_backoff_ms / 1000,
                       rate_limit_budget=budget)


def _finish(ctx: WorkerContext, job: Job, steps: DbSteps, result: Any, error: AgentError | None, *,
            duration_ms: float) -> Decision:
    """Decide once, then write everything that follows from the decision in one transaction."""
    now = utcnow()
    spec = agent_spec(job.agent)
    max_retries = 0 if job.kind == "test_connection" else spec.max_retries
    entry: dict[str, Any] = {"attempt": job.attempts, "at": now.isoformat(), "worker": ctx.worker_id,
                             "duration_ms": round(duration_ms, 1),
                             "kind": error.kind if error else "succeeded"}
    if error is not None:
        entry["message"] = error.message
        if error.status is not None:
            entry["status"] = error.status
    attempt_log = [*(job.attempt_log or []), entry]
    rl_since = next_rate_limited_since(error, job.rate_limited_since, now)
    decision = _policy(ctx, spec).decide(error=error, cancelled=isinstance(error, JobCancelled),
                                         attempt_log=attempt_log, max_retries=max_retries,
                                         rate_limited_since=rl_since, now=now)
    err = None if error is None else {**error.as_dict(), **({"reason": decision.reason} if decision.reason else {})}
    values: dict[str, Any] = {"status": decision.status, "attempt_log": attempt_log, "rate_limited_since": rl_since}
    if decision.status == "succeeded":
        values.update(result=result, error=None, finished_at=now, not_before=None)
    elif decision.status == "retrying":
        at = retry_at(decision, now)
        values.update(error=err, not_before=at, dispatch_at=at)
    else:
        values.update(error=err, finished_at=now, not_before=None)

    event_data = {"attempt": job.attempts, "reason": decision.reason or None, **({"error": err} if err else {}),
                  **({"retry_in_s": round(decision.delay, 3)} if decision.status == "retrying" else {})}
    audit = steps.take_audit()
    # the integration state first, in the same transaction: whoever sees the job finished must see the
    # state it left (only a rejected credential or a connection test changes it)
    connection = isinstance(error, AuthError) or (job.kind == "test_connection" and decision.terminal)

    def write(conn: Connection) -> bool:
        if connection:
            record_connection(conn, job, error=error, outcome=decision.status, now=now)
        return attempts.finish(conn, job_id=job.id, workspace=job.workspace_id, worker_id=ctx.worker_id, now=now,
                               values=values, event_type=f"job.{decision.status}", event_data=event_data,
                               audit=audit)

    batched: attempts.Outcome | None = None
    if not connection:  # serialised here, in this job: a value that cannot be written fails only this job
        try:
            batched = attempts.outcome(job_id=job.id, now=now, values=values, event_type=f"job.{decision.status}",
                                       event_data=event_data, audit=audit)
        except Exception:  # noqa: BLE001 - the one-job statement raises it as it always did
            batched = None

    def record() -> tuple[bool, bool]:
        owned = ctx.finish_batched(batched)  # with the other jobs finishing meanwhile
        if owned is attempts.ALONE:
            owned = atomic(ctx.engine, write, single=not connection)
        claimed = False
        if owned and decision.terminal and job.parent_id:
            with connection_scope(ctx.engine) as s:
                claimed = job_store.claim_parent_for_combine(session=s, parent_id=job.parent_id)
        return owned, claimed

    owned, claimed = ctx.db(record, "finish")
    if isinstance(error, AuthError):
        ctx.forget_credentials(job)
    if isinstance(error, RateLimited) and not error.shared_pause:
        ctx.pause(job, error.retry_after)
    if claimed and ctx.enqueuer is not None:
        _dispatch(ctx, job.parent_id)
    elif owned and decision.status == "retrying" and decision.delay <= 0 and ctx.enqueuer is not None:
        _dispatch(ctx, job.id)
    log.info("job.finished", outcome=decision.status if owned else "taken_over", attempt=job.attempts,
             duration_ms=round(duration_ms, 1), reason=decision.reason or None,
             error_type=error.kind if error else None, error=error.message if error else None,
             retry_in_s=round(decision.delay, 3) if decision.status == "retrying" else None)
    return decision


def _dispatch(ctx: WorkerContext, job_id: str | None) -> None:
    """Send a job's outbox entry now instead of waiting for the relay."""
    from workers.dispatch import dispatch_now

    assert ctx.enqueuer is not None and job_id is not None
    with connection_scope(ctx.engine) as s:
        job = s.execute(select(JOBS).where(JOBS.c.id == job_id)).first()
        if job is not None and job.dispatch_at is not None:
            dispatch_now(s, ctx.enqueuer, job)


def _combine(parent: Job, ctx: WorkerContext) -> Any:
    """Start a workflow job's next stage (:data:`WAITING`), or build its report from its finished steps."""
    from sqlmodel import Session

    from workers.store.db import session_scope
    from workers.workflow_steps import dispatch_steps, start_next_stage
    from workers.workflows import combine

    def advance() -> bool:
        with Session(ctx.engine, expire_on_commit=False) as s:
            created = start_next_stage(session=s, parent=parent, worker_id=ctx.worker_id)
            if created is not None:  # no longer held here: its next run (the stage may end at once) is another
                ctx.running.discard(parent.id)
                ctx.cancelled.discard(parent.id)
            if created and ctx.enqueuer is not None:  # without one, the relay sends them
                dispatch_steps(s, ctx.enqueuer, parent.id, created)
            return created is not None

    if ctx.db(advance, "stage"):
        return WAITING

    def read() -> list[Job]:
        with session_scope(ctx.engine) as s:
            steps = job_store.children(session=s, parent_id=parent.id)
            # steps report progress concurrently and may land out of order: settle it here
            job_store.set_progress(session=s, job_id=parent.id,
                                   step=f"{len(steps)}/{len(steps)} steps done, combined", pct=100.0)
            return steps
    return combine(parent, ctx.db(read, "combine"))


def _fail_unparsed(ctx: WorkerContext, payload: dict[str, Any], exc: InvalidPayload) -> None:
    """A message that fails validation still fails its job (when it names one) instead of vanishing."""
    job_id = payload.get("job_id") if isinstance(payload, dict) else None
    log.error("job.invalid_message", error=exc.message, job_id=job_id if isinstance(job_id, str) else None)
    if isinstance(job_id, str) and job_id:
        with connection_scope(ctx.engine) as s:
            job_store.mark_failed(session=s, job_id=job_id, error=exc.as_dict())


def _checkpoint(ctx: WorkerContext, job: Job, steps: DbSteps) -> Callable[[], None]:
    """Before each provider call: stop if cancelled; wait (without calling) while the account is paused."""
    def check() -> None:
        steps.check()
        remaining = ctx.paused_for(job)
        if remaining > 0:
            raise RateLimited(f"{job.integration} is rate limited for this account (another job got a 429); "
                              f"waiting {remaining:.1f} s without calling", retry_after=remaining,
                              shared_pause=True)
    return check


def _run(job: Job, ctx: WorkerContext, state: attempts.StateRow | None, steps: DbSteps) -> Any:
    """Check the integration, load credentials, call the provider (everything read from the job row)."""
    try:
        spec = integration_spec(job.agent, job.integration)
    except CatalogError as exc:
        raise InvalidPayload(str(exc)) from None
    if state is None or state.status in ("not_configured", "disconnected"):
        when = f" at {state.disconnected_at:%Y-%m-%d %H:%M:%S} UTC" if state and state.disconnected_at else ""
        raise CredentialsUnavailable(
            f"integration {job.agent}/{job.integration} is {'disconnected' + when if state else 'not configured'}; "
            "the provider was not called")
    if state.status == "needs_reconnect" and job.kind != "test_connection":  # a test may find it healed
        raise NeedsReconnect(f"integration {job.agent}/{job.integration} needs reconnecting: {state.message}; "
                             "the provider was not called")
    cls = client_class(spec.provider)
    if cls is None or not spec.implemented:
        raise IntegrationUnavailable(f"{spec.name} is not implemented in Sintra yet")
    action = spec.action(job.action) if job.kind == "action" else None
    if job.kind == "action" and action is None:
        raise InvalidPayload(f"{spec.id} has no action {job.action!r}")
    if action is not None and action.restricted:
        raise IntegrationUnavailable(f"{spec.id}.{action.name} is restricted: {action.restricted}")
    if job.kind == "test_connection" and job.action == EXCHANGE_ACTION:  # "Connect with <provider>"
        from workers.oauth_exchange import exchange

        creds = exchange(ctx, job, spec)
    else:
        creds = ctx.credentials_for(job, spec.secret_fields, state.vault_version, state.configured_at)
    base_url = ctx.settings.provider_url(spec.provider) or cls.resolve_base_url(cls.definition().base_url, creds)
    extra: dict[str, Any] = {}
    if issubclass(cls, OAuth2Client):
        extra = {"refresher": StoredRefresher(ctx.credentials, ctx.redis(), job.workspace_id, job.agent,
                                              job.integration),
                 "token_url": ctx.settings.provider_token_url(spec.provider)}
    client = cls(http=ctx.http(base_url), credentials=creds, record=steps.record, action=job.action, **extra)
    client.checkpoint = _checkpoint(ctx, job, steps)
    if job.kind == "test_connection":
        if isinstance(client, OAuth2Client):
            keep_alive(client, overrides=ctx.settings.oauth_idle_expiry_days,
                       margin_s=max(DAY_S, 2 * ctx.settings.health_check_seconds))
        return client.test_connection()
    assert action is not None
    try:
        params = action.params.model_validate(job.params)
    except ValidationError as exc:
        names = ", ".join(".".join(str(p) for p in e["loc"]) for e in exc.errors())
        raise InvalidPayload(f"parameters failed validation ({names})") from None
    return client.run(job.action, params, steps)
