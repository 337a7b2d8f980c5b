"""``/api/integrations``: list, configure, connect and disconnect an agent's integrations."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

import anyio.to_thread
from anyio import CapacityLimiter
from anyio.lowlevel import RunVar
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import update
from sqlmodel import Session, col, select

from config.catalog import AgentSpec, CatalogError, IntegrationSpec, agent, agents, integration
from config.logging import register_secrets
from config.messages import CredentialsIn, JobCreate
from producers.api.deps import CallerDep, EnqueuerDep, SessionDep, SettingsDep, get_writer
from producers.api.errors import ApiError
from producers.api.views import agent_view, integration_view
from workers.dispatch import dispatch_now
from workers.store import events
from producers.schemas import (COMMON_ERRORS, AgentPublic, AgentsPublic, ConnectResult, DisconnectResult,
                               IntegrationPublic, errors)
from workers.store import jobs as job_store
from workers.store.audit import record_event
from workers.store.integrations import forget_app, get_state, remember_app, stage_state, states_for, upsert_state
from workers.store.models import Job, utcnow
from workers.store.schedules import pause_for_integration

T = TypeVar("T")

router = APIRouter(prefix="/api/integrations", tags=["integrations"], responses=COMMON_ERRORS)


def _lookup(agent_id: str, integration_id: str | None = None) -> tuple[AgentSpec, IntegrationSpec | None]:
    try:
        a = agent(agent_id)
        return a, (integration(agent_id, integration_id) if integration_id is not None else None)
    except CatalogError as exc:
        raise ApiError(404, "not_found", str(exc)) from None


@router.get("/", response_model=AgentsPublic)
def list_all(caller: CallerDep, session: SessionDep) -> dict[str, Any]:
    """Every agent with its integrations, actions and this workspace's state."""
    states = states_for(session=session, workspace=caller.workspace)
    return {"agents": [agent_view(a, states) for a in agents()]}


@router.get("/{agent_id}", response_model=AgentPublic, responses=errors(404))
def list_agent(agent_id: str, caller: CallerDep, session: SessionDep) -> dict[str, Any]:
    """One agent's integrations."""
    a, _ = _lookup(agent_id)
    return agent_view(a, states_for(session=session, workspace=caller.workspace))


@router.get("/{agent_id}/{integration_id}", response_model=IntegrationPublic, responses=errors(404))
def get_one(agent_id: str, integration_id: str, caller: CallerDep, session: SessionDep) -> dict[str, Any]:
    """One integration: catalog facts, actions, parameter schemas and state."""
    a, spec = _lookup(agent_id, integration_id)
    assert spec is not None
    state = get_state(session=session, workspace=caller.workspace, agent=a.id, integration=spec.id)
    return integration_view(a, spec, state)


def _check_fields(spec: IntegrationSpec, values: dict[str, str]) -> None:
    known = {f.name for f in spec.credential_fields}
    missing = sorted(f.name for f in spec.credential_fields if f.required and not values.get(f.name, "").strip())
    unknown = sorted(set(values) - known)
    invalid = spec.credential_problems(values)
    if missing or unknown or invalid:
        parts = ([f"missing: {', '.join(missing)}"] if missing else []) + \
                ([f"unknown: {', '.join(unknown)}"] if unknown else []) + \
                [f"{name} {why}" for name, why in sorted(invalid.items())]
        raise ApiError(422, "invalid_credentials", f"credentials for {spec.id}: {'; '.join(parts)}",
                       missing=missing, unknown=unknown, invalid=invalid, expected=sorted(known))


@router.post("/{agent_id}/{integration_id}/configure", response_model=IntegrationPublic,
             responses=errors(404, 503))
def configure(agent_id: str, integration_id: str, body: CredentialsIn, caller: CallerDep,
              session: SessionDep, request: Request) -> dict[str, Any]:
    """Validate credentials against the catalog, write them to Vault only, record which fields are set."""
    a, spec = _lookup(agent_id, integration_id)
    assert spec is not None
    values = {k: v for k, v in body.credentials.items()}
    _check_fields(spec, values)
    register_secrets(values[name] for name in spec.secret_fields if values.get(name))
    version = get_writer(request).write(caller.workspace, a.id, spec.id, values)
    now = utcnow()
    state = stage_state(session=session, workspace=caller.workspace, agent=a.id, integration=spec.id,
                        status="configured", message="credentials stored; run connect to test them",
                        fields_set=sorted(values), vault_version=version, configured_at=now,
                        disconnected_at=None)
    # the client id for authorize, in the same transaction as the state (the caller's commit below)
    remember_app(session=session, workspace=caller.workspace, agent=a.id, spec=spec, values=values)
    record_event(session=session, actor=caller.actor, kind="api", outcome="configured", workspace=caller.workspace,
                 agent=a.id, integration=spec.id, action="configure", detail={"fields_set": sorted(values)})
    session.commit()
    return integration_view(a, spec, state)


@router.post("/{agent_id}/{integration_id}/connect", response_model=ConnectResult,
             responses={202: {"model": ConnectResult, "description": "The test did not finish in time: poll "
                              "the job."}, **errors(404, 409, 501, 503)})
async def connect(agent_id: str, integration_id: str, caller: CallerDep, session: SessionDep,
                  enqueuer: EnqueuerDep, settings: SettingsDep) -> JSONResponse:
    """Run the provider's test call from the agent's worker; answer within a bounded time, else 202.

    Async: a waiting connect holds no API thread and no connection; one poller per process reads every
    waiting connect's job in one query (:class:`JobWaiter`). That read and the start run on connect's own
    thread (:func:`_connect_threads`), so a burst of connects cannot take the thread pool from other
    requests.
    """
    job = await anyio.to_thread.run_sync(_start_connect, agent_id, integration_id, caller, session, enqueuer,
                                         limiter=_connect_threads())
    finished = await _waiter(session.get_bind()).wait(job.id, settings.connect_wait_seconds)
    if finished is not None:
        return JSONResponse(_connect_outcome(finished))
    return JSONResponse({"status": "pending", "job_id": job.id, "poll": f"/api/jobs/{job.id}",
                         "message": f"the connection test did not finish within {settings.connect_wait_seconds:g} s"},
                        status_code=202)


#: How often the poller reads the waiting connects' jobs: one query per interval, however many wait.
CONNECT_POLL_INTERVAL = 0.05
#: Threads connect's database work (its start and its polls) may use at once, per event loop. One: a
#: connect's start is CPU under the GIL (ORM job, event, audit row, enqueue), so more threads start a burst
#: no sooner, but each is one more thread contending for the GIL with every other request's thread and the
#: event loop. Measured, 60 connects at once: with 4 threads another workspace's GET /api/jobs took
#: p99 40-81 ms (max 44-212) while they started; with 1, p99 17-22 ms (max 20-45), and the connects
#: started as fast (the last answered after 10.9-11.3 s both ways, 10 s of it the wait).
CONNECT_THREADS = 1
_connect_limiter: RunVar[CapacityLimiter] = RunVar("sintra_connect_limiter")


def _connect_threads() -> CapacityLimiter:
    """The capacity limiter of connect's thread work (one per event loop, like anyio's default one).

    Why not the shared thread pool: its 40 tokens are handed out first come, first served, so 60 connects
    sent at once (each a start, then a poll every 20 ms to 500 ms) queued every other request behind
    them, and 40 threads' worth of connects shared the GIL with it: another workspace's GET /api/jobs
    took 150-300 ms. A connect is a slow call by nature (it waits on the provider), so its own work
    queuing behind its one thread (:data:`CONNECT_THREADS`) costs it little, and the rest of the API keeps
    its pool.

    Safe only because a connect waits for these tokens holding no database connection (``get_caller``
    ends its transaction; the start commits; each poll opens its own session). A connect queued here
    with a connection would starve the few threads here of the pool: without that, a GET waited out
    the pool's 30 s timeout.
    """
    return _per_loop(_connect_limiter, lambda: CapacityLimiter(CONNECT_THREADS))


def _per_loop(var: RunVar[T], make: Callable[[], T]) -> T:
    """``var``'s value in this event loop, made on first use (a limiter or futures belong to one loop)."""
    try:
        return var.get()
    except LookupError:
        value = make()
        var.set(value)
        return value


def _start_connect(agent_id: str, integration_id: str, caller: Any, session: Any, enqueuer: Any) -> Job:
    a, spec = _lookup(agent_id, integration_id)
    assert spec is not None
    state = get_state(session=session, workspace=caller.workspace, agent=a.id, integration=spec.id)
    if state is None or state.status in ("not_configured", "disconnected"):
        status = "not configured" if state is None else "disconnected"
        raise ApiError(409, "not_configured", f"{a.id}/{spec.id} is {status}: configure credentials first")
    if not spec.implemented:
        raise ApiError(501, "not_implemented", f"{spec.name} is declared in the catalog but Sintra has no client "
                       "for it yet, so its connection cannot be tested")
    req = JobCreate(agent=a.id, integration=spec.id, action="test_connection", params={})
    job, _ = job_store.create_job(session=session, workspace=caller.workspace, req=req, kind="test_connection")
    record_event(session=session, actor=caller.actor, kind="api", outcome="connect_requested",
                 workspace=caller.workspace, agent=a.id, integration=spec.id, action="connect", job_id=job.id)
    session.commit()
    dispatch_now(session, enqueuer, job)
    return job


class JobWaiter:
    """Every connect waiting on its test job, answered by one poller: one query per interval for all of them.

    Why not a poll per connect: 60 connects waiting on a hung provider, each polling on its own (every 20 ms
    doubling to 500 ms), made 120-240 reads and thread hand-overs a second; here they make one read every
    :data:`CONNECT_POLL_INTERVAL`, and the poller stops when nobody waits. A failed read (the database is
    down) is raised in every connect waiting then, as their own read would have been.
    """

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.waiting: dict[str, list[asyncio.Future[Job]]] = {}
        self.task: asyncio.Task[None] | None = None

    async def wait(self, job_id: str, timeout: float) -> Job | None:
        """The job once it has succeeded or failed, or ``None`` after ``timeout`` seconds."""
        future: asyncio.Future[Job] = asyncio.get_running_loop().create_future()
        self.waiting.setdefault(job_id, []).append(future)
        if self.task is None or self.task.done():
            self.task = asyncio.create_task(self._poll())
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            return None
        finally:
            futures = self.waiting.get(job_id, [])
            if future in futures:
                futures.remove(future)
            if not futures:
                self.waiting.pop(job_id, None)

    async def _poll(self) -> None:
        while self.waiting:
            await asyncio.sleep(CONNECT_POLL_INTERVAL)
            ids = list(self.waiting)
            if not ids:
                break
            try:
                done = await anyio.to_thread.run_sync(self._finished, ids, limiter=_connect_threads())
            except Exception as exc:  # noqa: BLE001 - handed to the waiting requests (503 by the error handlers)
                for future in [f for i in ids for f in self.waiting.pop(i, [])]:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for job in done:
                for future in self.waiting.pop(job.id, []):
                    if not future.done():
                        future.set_result(job)

    def _finished(self, ids: list[str]) -> list[Job]:
        with Session(self.engine, expire_on_commit=False) as s:
            jobs = list(s.exec(select(Job).where(col(Job.id).in_(ids), col(Job.status).in_(("succeeded", "failed")))))
            s.expunge_all()
            return jobs


_waiters: RunVar[dict[Any, JobWaiter]] = RunVar("sintra_connect_waiters")


def _waiter(engine: Any) -> JobWaiter:
    """This event loop's waiter for ``engine`` (per loop, as the futures it holds are)."""
    waiters = _per_loop(_waiters, dict)
    if engine not in waiters:
        waiters[engine] = JobWaiter(engine)
    return waiters[engine]


def _connect_outcome(job: Job) -> dict[str, Any]:
    if job.status == "succeeded":
        return {"status": "connected", "job_id": job.id, "account": job.result, "message": "connection test succeeded"}
    err = job.error or {}
    outcome = {"auth": "auth_failed", "transient": "provider_unreachable",
               "rate_limited": "provider_unreachable"}.get(str(err.get("type")), "error")
    return {"status": outcome, "job_id": job.id, "message": err.get("message"), "error": err}


@router.post("/{agent_id}/{integration_id}/disconnect", response_model=DisconnectResult,
             responses=errors(404, 503))
def disconnect(agent_id: str, integration_id: str, caller: CallerDep, session: SessionDep,
               request: Request) -> dict[str, Any]:
    """Delete the credentials (all versions) and fail this integration's queued jobs."""
    a, spec = _lookup(agent_id, integration_id)
    assert spec is not None
    get_writer(request).delete(caller.workspace, a.id, spec.id)
    forget_app(session=session, workspace=caller.workspace, agent=a.id, integration=spec.id)  # upsert commits it
    now = utcnow()
    state = upsert_state(session=session, workspace=caller.workspace, agent=a.id, integration=spec.id,
                         status="disconnected", message="credentials deleted; reconfigure to use it again",
                         fields_set=[], vault_version=None, disconnected_at=now)
    reason = {"type": "disconnected",
              "message": f"integration {a.id}/{spec.id} was disconnected at {now:%Y-%m-%d %H:%M:%S} UTC "
                         "before the job ran; the provider was not called"}
    result = session.execute(
        update(Job).where(col(Job.workspace_id) == caller.workspace, col(Job.agent) == a.id,
                          col(Job.integration) == spec.id, col(Job.status).in_(("scheduled", "queued", "retrying")))
        .values(status="failed", error=reason, finished_at=now, updated_at=now, dispatch_at=None)
        .returning(col(Job.id)))
    failed_ids = list(result.scalars())
    for job_id in failed_ids:
        events.record(session, workspace=caller.workspace, type="job.failed", job_id=job_id, data={"error": reason})
    session.flush()  # the job.failed events before the schedule.paused ones
    paused = pause_for_integration(session.connection(), workspace=caller.workspace, agent=a.id, integration=spec.id,
                                   reason=f"integration {a.id}/{spec.id} was disconnected at "
                                          f"{now:%Y-%m-%d %H:%M:%S} UTC; resume it after reconnecting")
    events.record(session, workspace=caller.workspace, type="integration.disconnected",
                  data={"agent": a.id, "integration": spec.id, "jobs_failed": len(failed_ids),
                        "schedules_paused": paused})
    record_event(session=session, actor=caller.actor, kind="api", outcome="disconnected", workspace=caller.workspace,
                 agent=a.id, integration=spec.id, action="disconnect",
                 detail={"jobs_failed": len(failed_ids), "schedules_paused": paused})
    session.commit()
    return {**integration_view(a, spec, state), "jobs_failed": len(failed_ids), "schedules_paused": paused}
