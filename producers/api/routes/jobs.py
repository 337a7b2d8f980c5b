"""``/api/jobs``: submit a job, read one, list them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from config.catalog import CatalogError, integration
from config.messages import JobCreate, JobPublic, JobStatus
from producers.api.deps import CallerDep, EnqueuerDep, SessionDep, enqueue_or_fail
from producers.api.errors import ApiError
from workers.store import jobs as job_store
from workers.store.audit import record_event
from workers.store.integrations import get_state
from workers.store.models import utcnow

router = APIRouter(prefix="/api/jobs", tags=["jobs"])


def validate_job(req: JobCreate) -> None:
    """Check a job request against the catalog; raise :class:`ApiError` naming the problem."""
    try:
        spec = integration(req.agent, req.integration)
    except CatalogError as exc:
        raise ApiError(404, "not_found", str(exc)) from None
    action = spec.action(req.action)
    if action is None:
        valid = [a.name for a in spec.actions]
        raise ApiError(422, "unknown_action", f"{spec.id} has no action {req.action!r}; valid actions: "
                       f"{', '.join(valid)}", valid_actions=valid)
    if spec.availability == "restricted" or action.restricted:
        raise ApiError(422, "restricted", f"{spec.id}.{action.name} is restricted: {action.restricted or spec.reason}")
    try:
        action.params.model_validate(req.params)
    except ValidationError as exc:
        fields = [{"field": ".".join(str(p) for p in e["loc"]) or "params", "problem": e["msg"]} for e in exc.errors()]
        raise ApiError(422, "invalid_params", "invalid params: " + "; ".join(f"{f['field']}: {f['problem']}"
                                                                           for f in fields), fields=fields) from None
    if not spec.implemented:
        raise ApiError(501, "not_implemented", f"{spec.name} ({spec.id}.{action.name}) is declared in the catalog "
                       "but Sintra has no client for it yet")


def validate_run_at(run_at: datetime | None, grace_seconds: float = 60.0) -> None:
    """A one-shot's ``run_at`` may not lie in the past beyond a small grace."""
    if run_at is not None and (utcnow() - run_at).total_seconds() > grace_seconds:
        raise ApiError(422, "invalid_run_at", f"run_at {run_at.isoformat()} is in the past "
                       f"(more than {grace_seconds:g} s ago)")


@router.post("", status_code=202)
def create(req: JobCreate, caller: CallerDep, session: SessionDep, enqueuer: EnqueuerDep) -> JSONResponse:
    """Validate and enqueue a job; a repeated idempotency key returns the original job and enqueues nothing."""
    if req.idempotency_key:
        existing = job_store.find_by_idempotency_key(session=session, workspace=caller.workspace,
                                                     key=req.idempotency_key)
        if existing is not None:
            return _job_response(existing, 200)
    validate_job(req)
    validate_run_at(req.run_at)
    state = get_state(session=session, workspace=caller.workspace, agent=req.agent, integration=req.integration)
    if state is None or state.status in ("not_configured", "disconnected"):
        raise ApiError(409, "not_configured", f"{req.agent}/{req.integration} is "
                       f"{'not configured' if state is None else state.status}: configure and connect it first")
    later = req.run_at is not None and req.run_at > utcnow()
    job, created = job_store.create_job(session=session, workspace=caller.workspace, req=req,
                                        status="scheduled" if later else "queued")
    if not created:
        return _job_response(job, 200)
    record_event(session=session, actor=caller.actor, kind="api", outcome="job_scheduled" if later else "job_created",
                 workspace=caller.workspace, job_id=job.id, agent=job.agent, integration=job.integration,
                 action=job.action)
    session.commit()
    if not later:  # a scheduled job is enqueued by the scheduler when due
        enqueue_or_fail(enqueuer, session, job)
    return _job_response(job, 202)


@router.post("/{job_id}/cancel")
def cancel(job_id: str, caller: CallerDep, session: SessionDep) -> JSONResponse:
    """Cancel a job that has not started (scheduled, queued, or waiting to retry)."""
    job = job_store.get_job(session=session, job_id=job_id, workspace=caller.workspace)
    if job is None:
        raise ApiError(404, "not_found", f"no job {job_id!r} in workspace {caller.workspace!r}")
    if not job_store.mark_cancelled(session=session, job_id=job.id, reason=f"cancelled by {caller.actor}"):
        raise ApiError(409, "not_cancellable", f"job {job.id} is {job.status}; only scheduled, queued or "
                       "retrying jobs can be cancelled")
    record_event(session=session, actor=caller.actor, kind="api", outcome="job_cancelled", workspace=caller.workspace,
                 job_id=job.id, agent=job.agent, integration=job.integration, action=job.action)
    session.commit()
    session.refresh(job)
    return _job_response(job, 200)


def _job_response(job: Any, status: int) -> JSONResponse:
    return JSONResponse(job_store.to_public(job).model_dump(mode="json"), status_code=status)


@router.get("/{job_id}")
def read(job_id: str, caller: CallerDep, session: SessionDep) -> JobPublic:
    """One job of the caller's workspace."""
    job = job_store.get_job(session=session, job_id=job_id, workspace=caller.workspace)
    if job is None:
        raise ApiError(404, "not_found", f"no job {job_id!r} in workspace {caller.workspace!r}")
    return job_store.to_public(job)


@router.get("")
def list_(caller: CallerDep, session: SessionDep, agent: str | None = None, integration: str | None = None,
          status: JobStatus | None = None, limit: int = Query(50, ge=1, le=job_store.MAX_LIST)) -> dict[str, Any]:
    """Newest jobs first, filtered by agent, integration and status."""
    rows = job_store.list_jobs(session=session, workspace=caller.workspace, agent=agent, integration=integration,
                               status=status, limit=limit)
    return {"jobs": [job_store.to_public(j).model_dump(mode="json") for j in rows], "count": len(rows)}
