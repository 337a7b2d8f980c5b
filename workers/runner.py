"""Runs one job: state transitions, credentials from Vault, the provider call, result and audit rows."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import dramatiq
import httpx
import structlog
from dramatiq.middleware import TimeLimitExceeded
from pydantic import ValidationError
from sqlalchemy.engine import Engine

from config.catalog import CatalogError
from config.catalog import agent as agent_spec
from config.catalog import integration as integration_spec
from config.messages import TERMINAL_STATUSES, JobMessage
from config.settings import Settings
from workers.broker import Enqueuer
from workers.credentials.base import CredentialSource
from workers.credentials.refresh import StoredRefresher
from workers.errors import (
    AgentError,
    AuthError,
    CredentialsUnavailable,
    IntegrationUnavailable,
    InvalidPayload,
    PermanentError,
    RateLimited,
    TransientError,
)
from workers.providers import client_class
from workers.providers.base import CallRecord, record_intent
from workers.providers.oauth import OAuth2Client
from workers.store import jobs as job_store
from workers.store.audit import record_event
from workers.store.db import session_scope
from workers.store.integrations import get_state, upsert_state
from workers.store.models import IntegrationState, Job, utcnow
from workers.workflows import combine

log = structlog.get_logger("sintra.worker")

#: How long past an attempt's time limit its "running" state still holds off a second delivery.
LEASE_MARGIN = timedelta(seconds=30)


def will_retry(retries: int, exc: BaseException, max_retries: int) -> bool:
    """The one retry policy: transient errors (and explicit Retry) until ``max_retries``."""
    return isinstance(exc, (TransientError, dramatiq.Retry)) and retries < max_retries


@dataclass
class WorkerContext:
    """Process-wide resources of a worker: created after fork, closed at shutdown."""

    settings: Settings
    engine: Engine
    credentials: CredentialSource
    _http: dict[str, httpx.Client] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _redis: Any = None
    _creds: dict[tuple[str, ...], tuple[float, Any]] = field(default_factory=dict)

    def credentials_for(self, msg: JobMessage, secret_fields: frozenset[str], version: int | None) -> Any:
        """Credentials from Vault, kept in this process for ``credential_cache_seconds`` (VAULT.md §2.7).

        The key includes the version the API last wrote, so a re-configure is seen at once; the job's
        integration state is checked in the database before every use, so a disconnect is too.
        """
        key = (msg.workspace, msg.agent, msg.integration, str(version))
        ttl = self.settings.credential_cache_seconds
        with self._lock:
            hit = self._creds.get(key)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        creds = self.credentials.get(workspace=msg.workspace, agent=msg.agent, integration=msg.integration,
                                     secret_fields=secret_fields)
        if ttl > 0:
            with self._lock:
                self._creds[key] = (time.monotonic() + ttl, creds)
        return creds

    def forget_credentials(self, msg: JobMessage) -> None:
        """Drop cached credentials of an integration (after the provider rejected them)."""
        with self._lock:
            for key in [k for k in self._creds if k[:3] == (msg.workspace, msg.agent, msg.integration)]:
                del self._creds[key]

    def redis(self) -> Any:
        """A Redis client (for cross-process locks), created on first use."""
        with self._lock:
            if self._redis is None:
                import redis

                self._redis = redis.Redis.from_url(self.settings.redis_url)
            return self._redis

    def http(self, base_url: str) -> httpx.Client:
        """A pooled HTTP client for ``base_url``."""
        with self._lock:
            client = self._http.get(base_url)
            if client is None:
                client = httpx.Client(base_url=base_url, timeout=self.settings.provider_timeout,
                                      headers={"User-Agent": "sintra/0.1"})
                self._http[base_url] = client
            return client

    def close(self) -> None:
        """Close pooled HTTP clients."""
        with self._lock:
            for client in self._http.values():
                client.close()
            self._http.clear()


class DbSteps:
    """A :class:`~workers.providers.base.StepLog` stored in ``job_steps`` and the job's progress."""

    def __init__(self, engine: Engine, job_id: str) -> None:
        self.engine, self.job_id = engine, job_id
        #: Stamped on objects a job creates (where the provider allows), so a retry can find them.
        self.marker = f"sintra-{job_id}"

    def get(self, key: str) -> Any:
        with session_scope(self.engine) as s:
            return job_store.get_step(session=s, job_id=self.job_id, key=key)

    def put(self, key: str, value: Any) -> None:
        with session_scope(self.engine) as s:
            job_store.put_step(session=s, job_id=self.job_id, key=key, value=value)

    def intent(self, key: str) -> bool:
        return record_intent(self, key)

    def progress(self, step: str, pct: float | None = None) -> None:
        with session_scope(self.engine) as s:
            job_store.set_progress(session=s, job_id=self.job_id, step=step, pct=pct)
        log.info("job.progress", step=step, percent=pct)


def parse_message(payload: dict[str, Any]) -> JobMessage:
    """Validate a queue message or raise :class:`InvalidPayload` naming the bad fields."""
    try:
        return JobMessage.model_validate(payload)
    except ValidationError as exc:
        names = ", ".join(".".join(str(p) for p in e["loc"]) or "message" for e in exc.errors())
        raise InvalidPayload(f"queue message failed validation ({names})") from None


def execute(payload: dict[str, Any], *, ctx: WorkerContext, retries: int = 0) -> Any:
    """Run the job a message names; raise a mapped error for the Retries middleware."""
    try:
        msg = parse_message(payload)
    except InvalidPayload as exc:
        _fail_unparsed(ctx, payload, exc)
        raise
    # a connection test answers a waiting user: no retries, report the first outcome
    max_retries = 0 if msg.kind == "test_connection" else agent_spec(msg.agent).max_retries
    with session_scope(ctx.engine) as s:  # one transaction: the job, its integration's state, running
        job = job_store.get_job(session=s, job_id=msg.job_id, workspace=msg.workspace)
        if job is None:
            raise InvalidPayload(f"job {msg.job_id} does not exist in workspace {msg.workspace}")
        state = get_state(session=s, workspace=msg.workspace, agent=msg.agent, integration=msg.integration)
        lease = timedelta(milliseconds=agent_spec(msg.agent).time_limit_ms) + LEASE_MARGIN
        if not job_store.mark_running(session=s, job_id=job.id, lease=lease):
            return _not_started(job, lease)
    try:
        result = _combine(job, ctx) if msg.kind == "workflow" else _run(job, msg, ctx, state)
    except AgentError as exc:
        if isinstance(exc, AuthError):
            ctx.forget_credentials(msg)
        _record_failure(ctx, job, msg, exc, retry=will_retry(retries, exc, max_retries))
        if not will_retry(retries, exc, max_retries):
            _after_step(ctx, job)
        if isinstance(exc, RateLimited) and will_retry(retries, exc, max_retries):
            raise dramatiq.Retry(exc.message, delay=int(exc.retry_after * 1000)) from None
        raise exc from None
    except TimeLimitExceeded:
        err = TransientError(f"job exceeded its time limit of {agent_spec(msg.agent).time_limit_ms} ms")
        _record_failure(ctx, job, msg, err, retry=will_retry(retries, err, max_retries))
        raise err from None
    except Exception as exc:  # a bug, not a provider failure: keep the traceback in (redacted) logs only
        log.exception("job.internal_error")
        err = PermanentError(f"internal error in worker: {type(exc).__name__}")
        _record_failure(ctx, job, msg, err, retry=False)
        _after_step(ctx, job)
        raise err from None
    with session_scope(ctx.engine) as s:
        if msg.kind == "test_connection":
            upsert_state(session=s, workspace=msg.workspace, agent=msg.agent, integration=msg.integration,
                         status="connected", message="connection test succeeded", connected_at=utcnow())
        job_store.mark_succeeded(session=s, job_id=job.id, result=result)
    _after_step(ctx, job)
    return result


def _not_started(job: Job, lease: timedelta) -> None:
    """A message for a job that is finished (skip it) or running elsewhere (come back after its lease)."""
    if job.status in TERMINAL_STATUSES:
        log.info("job.skipped", reason="already finished", status=job.status)
        return None
    started = job.started_at or utcnow()
    wait_ms = max(1000, int((started + lease - utcnow()).total_seconds() * 1000))
    log.warning("job.duplicate_delivery", status=job.status, retry_in_ms=wait_ms)
    raise dramatiq.Retry(f"job {job.id} is running in another worker; checking again after its lease",
                         delay=wait_ms)


def _combine(parent: Job, ctx: WorkerContext) -> Any:
    """Build a workflow job's report from its finished steps."""
    with session_scope(ctx.engine) as s:
        steps = job_store.children(session=s, parent_id=parent.id)
        # steps report progress concurrently and may land out of order: settle it here
        job_store.set_progress(session=s, job_id=parent.id, step=f"{len(steps)}/{len(steps)} sources done, combined",
                               pct=100.0)
    return combine(parent, steps)


def _after_step(ctx: WorkerContext, job: Job) -> None:
    """When the last step of a workflow finishes, enqueue the workflow's combine, exactly once."""
    if not job.parent_id:
        return
    with session_scope(ctx.engine) as s:
        claimed = job_store.claim_parent_for_combine(session=s, parent_id=job.parent_id)
        parent = job_store.get_job(session=s, job_id=job.parent_id) if claimed else None
    if parent is not None:
        Enqueuer(dramatiq.get_broker()).enqueue(job_store.message_for(parent))


def _fail_unparsed(ctx: WorkerContext, payload: dict[str, Any], exc: InvalidPayload) -> None:
    """A message that fails validation still fails its job (when it names one) instead of vanishing."""
    job_id = payload.get("job_id") if isinstance(payload, dict) else None
    log.error("job.invalid_message", error=exc.message, job_id=job_id if isinstance(job_id, str) else None)
    if isinstance(job_id, str) and job_id:
        with session_scope(ctx.engine) as s:
            job_store.mark_failed(session=s, job_id=job_id, error=exc.as_dict())


def _run(job: Job, msg: JobMessage, ctx: WorkerContext, state: IntegrationState | None) -> Any:
    """Check the integration, load credentials, call the provider."""
    try:
        spec = integration_spec(msg.agent, msg.integration)
    except CatalogError as exc:
        raise InvalidPayload(str(exc)) from None
    if state is None or state.status in ("not_configured", "disconnected"):
        when = f" at {state.disconnected_at:%Y-%m-%d %H:%M:%S} UTC" if state and state.disconnected_at else ""
        raise CredentialsUnavailable(
            f"integration {msg.agent}/{msg.integration} is {'disconnected' + when if state else 'not configured'}; "
            "the provider was not called")
    cls = client_class(spec.provider)
    if cls is None or not spec.implemented:
        raise IntegrationUnavailable(f"{spec.name} is not implemented in Sintra yet")
    action = spec.action(msg.action) if msg.kind == "action" else None
    if msg.kind == "action" and action is None:
        raise InvalidPayload(f"{spec.id} has no action {msg.action!r}")
    if action is not None and action.restricted:
        raise IntegrationUnavailable(f"{spec.id}.{action.name} is restricted: {action.restricted}")
    creds = ctx.credentials_for(msg, spec.secret_fields, state.vault_version)
    base_url = ctx.settings.provider_urls.get(spec.provider) or cls.resolve_base_url(spec.base_url, creds)
    extra: dict[str, Any] = {}
    if issubclass(cls, OAuth2Client):
        extra = {"refresher": StoredRefresher(ctx.credentials, ctx.redis(), msg.workspace, msg.agent,
                                              msg.integration),
                 "token_url": ctx.settings.provider_urls.get(f"{spec.provider}_token")}
    client = cls(http=ctx.http(base_url), credentials=creds, record=_recorder(ctx, msg), action=msg.action,
                 **extra)
    if msg.kind == "test_connection":
        return client.test_connection()
    assert action is not None
    try:
        params = action.params.model_validate(job.params)
    except ValidationError as exc:
        names = ", ".join(".".join(str(p) for p in e["loc"]) for e in exc.errors())
        raise InvalidPayload(f"parameters failed validation ({names})") from None
    return client.run(msg.action, params, DbSteps(ctx.engine, job.id))


def _recorder(ctx: WorkerContext, msg: JobMessage):  # type: ignore[no-untyped-def]
    def record(call: CallRecord) -> None:
        rl = call.rate_limit
        detail = None if rl is None else {"rate_limit": {"limit": rl.limit, "remaining": rl.remaining,
                                                         "reset_after": rl.reset_after}}
        with session_scope(ctx.engine) as s:
            record_event(session=s, actor=f"worker:{msg.agent}", kind="provider_call", outcome=call.outcome,
                         workspace=msg.workspace, job_id=msg.job_id, agent=msg.agent,
                         integration=msg.integration, action=call.action or msg.action, method=call.method,
                         path=call.path, status=call.status, duration_ms=round(call.duration_ms, 2), detail=detail)
    return record


def _record_failure(ctx: WorkerContext, job: Job, msg: JobMessage, exc: AgentError, *, retry: bool) -> None:
    error = exc.as_dict()
    with session_scope(ctx.engine) as s:
        # the integration state first: whoever sees the job finished must see the state it left
        if isinstance(exc, AuthError) or (msg.kind == "test_connection" and not retry):
            upsert_state(session=s, workspace=msg.workspace, agent=msg.agent, integration=msg.integration,
                         status="error", message=exc.message)
        if retry:
            job_store.mark_retrying(session=s, job_id=job.id, error=error)
        else:
            job_store.mark_failed(session=s, job_id=job.id, error=error)
    log.warning("job.attempt_failed", error_type=exc.kind, error=exc.message, will_retry=retry)
