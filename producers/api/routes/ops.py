"""``/api/ops``: queue statistics, workers, job search; audit rows of a job or an integration; schedule run-now.

Everything is scoped to the caller's workspace; an operator key sees every workspace, and only an
operator sees the broker's own counts (queues are shared by all workspaces).
"""

from __future__ import annotations

from datetime import datetime, timedelta, UTC
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from config.catalog import agents
from config.messages import JobCreate, JobPublic, JobStatus
from producers.api.deps import Caller, CallerDep, EnqueuerDep, SessionDep, SettingsDep
from producers.api.errors import ApiError
from producers.ops_schemas import (
    IntegrationAudit,
    JobAudit,
    JobSearchPage,
    QueuesPublic,
    ScheduleFirings,
    WorkersPublic,
)
from producers.api.queue_depth import broker_depth
from producers.api.routes.submit import submit_in_tx
from producers.api.routes.integrations import _lookup
from producers.schemas import COMMON_ERRORS, errors
from workers.store import ops
from workers.store import schedules as schedule_store
from workers.store.jobs import get_job, to_public
from workers.store.models import AuditEvent, Job, utcnow

router = APIRouter(tags=["ops"], responses=COMMON_ERRORS)
#: Longest statistics window.
MAX_WINDOW_MINUTES = 24 * 60
#: Deepest page of the jobs table (narrow the filter to look further back).
MAX_OFFSET = 100_000
#: A catalog id as a filter.
Name = Annotated[str | None, Query(max_length=64, pattern=r"^[a-z][a-z0-9_]*$")]
#: Text without control characters (PostgreSQL refuses NUL in a string).
PRINTABLE = r"^[^\x00-\x1f\x7f]*$"


def scope(caller: Caller) -> str | None:
    """The workspace a caller's reads are limited to (None: an operator, every workspace)."""
    return None if getattr(caller, "operator", False) else caller.workspace


def audit_view(row: AuditEvent) -> dict[str, Any]:
    """One audit row as the API shows it (never a body, header, query string or value)."""
    return {"id": row.id, "at": row.at, "workspace": row.workspace_id, "actor": row.actor, "kind": row.kind,
            "job_id": row.job_id, "agent": row.agent, "integration": row.integration, "action": row.action,
            "method": row.method, "path": row.path, "status": row.status, "duration_ms": row.duration_ms,
            "outcome": row.outcome, "detail": row.detail}


def job_or_404(session: Any, caller: Caller, job_id: str) -> Job:
    """A job the caller may see, or 404."""
    job = get_job(session=session, job_id=job_id, workspace=scope(caller))
    if job is None:
        raise ApiError(404, "not_found", f"no job {job_id!r} in workspace {caller.workspace!r}")
    return job


def queue_stats(session: Any, caller: Caller, broker: Any, minutes: int) -> dict[str, Any]:
    """Per agent: jobs by status, the window's throughput and percentiles, and (operators) the broker's counts."""
    workspace = scope(caller)
    counts = ops.status_counts(session=session, workspace=workspace)
    window = ops.window_stats(session=session, workspace=workspace, since=utcnow() - timedelta(minutes=minutes))
    queues = []
    for a in agents():
        by_status = counts.get(a.id, {})
        stats = window.get(a.id, {"finished": 0, "failed": 0, "pickup_s": ops.percentiles([]),
                                  "duration_s": ops.percentiles([])})
        entry: dict[str, Any]  # the broker part is added below
        entry = {"agent": a.id, "name": a.name, "queue": a.queue,
                 "jobs": {s: by_status.get(s, 0) for s in ("scheduled", "queued", "running", "retrying",
                                                            "succeeded", "failed", "cancelled")},
                 "window": {**stats, "per_minute": round(stats["finished"] / minutes, 2)}}
        if workspace is None:  # the broker's queues are shared by every workspace: operators only
            try:
                entry["broker"] = broker_depth(broker, a.queue)
            except Exception as exc:  # noqa: BLE001 - the database's numbers are still worth showing
                entry["broker"] = {"error": f"broker unavailable: {type(exc).__name__}"}
        queues.append(entry)
    return {"scope": "all workspaces" if workspace is None else workspace, "window_minutes": minutes,
            "generated_at": utcnow(), "queues": queues}


@router.get("/api/ops/queues", response_model=QueuesPublic)
def queues(caller: CallerDep, session: SessionDep, enqueuer: EnqueuerDep,
           minutes: int = Query(5, ge=1, le=MAX_WINDOW_MINUTES)) -> dict[str, Any]:
    """Per agent queue: ready, delayed, in flight and failed jobs, jobs per minute, pickup and duration percentiles."""
    return queue_stats(session, caller, enqueuer.broker, minutes)


def worker_view(row: Any, operator: bool, settings: Any) -> dict[str, Any]:
    """A worker process, alive while its heartbeat is younger than a lease; its host and pid only for operators."""
    alive = ops.is_alive(row, timedelta(seconds=settings.lease_seconds))
    out = {"id": row.id, "agent": row.agent, "queues": row.queues, "started_at": row.started_at,
           "heartbeat_at": row.heartbeat_at, "in_flight": row.in_flight, "alive": alive, "stopped_at": row.stopped_at}
    return out | ({"hostname": row.hostname, "pid": row.pid} if operator else {})


@router.get("/api/ops/workers", response_model=WorkersPublic)
def workers_(caller: CallerDep, session: SessionDep, settings: SettingsDep,
             include_stopped: bool = False) -> dict[str, Any]:
    """Worker processes (heartbeat in the last 10 minutes, or all) with their heartbeat, queues and in-flight count."""
    views = [worker_view(w, scope(caller) is None, settings)
             for w in ops.workers(session=session, include_stopped=include_stopped)]
    return {"workers": views, "alive": sum(v["alive"] for v in views)}


@router.get("/api/ops/jobs", response_model=JobSearchPage)
def search(caller: CallerDep, session: SessionDep, agent: Name = None, integration: Name = None,
           action: Name = None, status: JobStatus | None = None, since: datetime | None = None,
           until: datetime | None = None,
           q: str | None = Query(None, max_length=200, pattern=PRINTABLE,
                                 description="Job id (prefix) or idempotency key"),
           offset: int = Query(0, ge=0, le=MAX_OFFSET), limit: int = Query(25, ge=1, le=200)) -> dict[str, Any]:
    """Jobs filtered by agent, integration, action, status, creation time range and text; paginated."""
    where = ops.JobFilter(agent=agent, integration=integration, action=action, status=status, since=_utc(since),
                          until=_utc(until), text=q)
    rows, total = ops.search_jobs(session=session, workspace=scope(caller), where=where, offset=offset, limit=limit)
    return {"jobs": [to_public(j).model_dump(mode="json") for j in rows], "total": total, "offset": offset,
            "limit": limit}


def _utc(value: datetime | None) -> datetime | None:
    """A time from a query string; one given without an offset is taken as UTC."""
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


@router.get("/api/jobs/{job_id}/audit", response_model=JobAudit, responses=errors(404))
def job_audit(job_id: str, caller: CallerDep, session: SessionDep) -> dict[str, Any]:
    """The audit trail of one job: its provider calls and the API calls about it, oldest first."""
    job = job_or_404(session, caller, job_id)
    rows = ops.audit_rows(session=session, workspace=job.workspace_id, job_id=job.id, limit=500)
    return {"job_id": job.id, "audit": [audit_view(r) for r in reversed(rows)]}


@router.get("/api/integrations/{agent_id}/{integration_id}/audit", response_model=IntegrationAudit,
            responses=errors(404))
def integration_audit(agent_id: str, integration_id: str, caller: CallerDep, session: SessionDep,
                      kind: str | None = Query(None, pattern="^(provider_call|api)$"),
                      limit: int = Query(100, ge=1, le=500)) -> dict[str, Any]:
    """An integration's recent provider calls and API mutations, newest first."""
    a, spec = _lookup(agent_id, integration_id)
    assert spec is not None
    rows = ops.audit_rows(session=session, workspace=caller.workspace, agent=a.id, integration=spec.id,
                          kind=kind, limit=limit)
    return {"agent": a.id, "integration": spec.id, "audit": [audit_view(r) for r in rows]}


@router.get("/api/schedules/{schedule_id}/firings", response_model=ScheduleFirings, responses=errors(404))
def schedule_firings(schedule_id: str, caller: CallerDep, session: SessionDep) -> dict[str, Any]:
    """A schedule's latest firings and the job each produced."""
    row = schedule_store.get_schedule(session=session, workspace=caller.workspace, schedule_id=schedule_id)
    if row is None:
        raise ApiError(404, "not_found", f"no schedule {schedule_id!r} in workspace {caller.workspace!r}")
    return {"schedule_id": row.id, "firings": [{"fire_at": f.fire_at, "job_id": f.job_id, "outcome": f.outcome}
                                               for f in ops.firings(session=session, schedule_id=row.id)]}


@router.post("/api/schedules/{schedule_id}/run", status_code=202, response_model=JobPublic,
             responses=errors(404, 409))
def run_now(schedule_id: str, caller: CallerDep, session: SessionDep, request: Request) -> Any:
    """Run a schedule's job now, once, through the same path as ``POST /api/jobs`` (its timing is unchanged)."""
    row = schedule_store.get_schedule(session=session, workspace=caller.workspace, schedule_id=schedule_id)
    if row is None:
        raise ApiError(404, "not_found", f"no schedule {schedule_id!r} in workspace {caller.workspace!r}")
    req = JobCreate(agent=row.agent, integration=row.integration, action=row.action, params=row.params)
    with request.app.state.engine.begin() as conn:
        status, job = submit_in_tx(conn, req, caller, None, schedule_id=row.id)
    if status == 202 and job["status"] == "queued" and request.app.state.hot.dispatcher.send_sync(
            job["id"], job["workspace_id"], job["agent"], job["dispatch_at"]):
        job["dispatch_at"] = None
    return JSONResponse(to_public(Job(**job)).model_dump(mode="json"), status_code=status)
