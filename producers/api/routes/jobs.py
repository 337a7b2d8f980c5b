"""``/api/jobs``: read, list, cancel and retry jobs, and the checks of a submission (submitting is
:mod:`producers.api.routes.submit`, the async hot path)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from config.catalog import CatalogError, integration
from config.messages import JobCreate, JobPublic, JobStatus
from producers.api.deps import CallerDep, EnqueuerDep, SessionDep
from producers.api.errors import ApiError
from workers.dispatch import dispatch_now
from workers.store import events
from producers.api.pagination import CursorParam, LimitParam, decode_cursor, encode_cursor
from producers.schemas import COMMON_ERRORS, BulkRetryResult, JobsPublic, JobTimeline, errors
from workers.store import jobs as job_store
from workers.store.audit import record_event
from workers.store.models import utcnow
from workers.store.pages import jobs_page

router = APIRouter(prefix="/api/jobs", tags=["jobs"], responses=COMMON_ERRORS)


def validate_job(req: JobCreate) -> None:
    """Check a job request against the catalog; raise :class:`ApiError` naming the problem.

    Params are validated as of when the job will run (``run_at`` or now), so clock rules such as
    "publish_at at least 10 minutes ahead" answer 422 here instead of failing on the worker.
    """
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
        now = utcnow()
        action.params.model_validate(req.params, context={"now": max(now, req.run_at or now)})
    except ValidationError as exc:
        fields = [{"field": _field_of(e), "problem": e["msg"]} for e in exc.errors()]
        raise ApiError(422, "invalid_params", "invalid params: " + "; ".join(f"{f['field']}: {f['problem']}"
                                                                           for f in fields), fields=fields) from None
    if not spec.implemented:
        raise ApiError(501, "not_implemented", f"{spec.name} ({spec.id}.{action.name}) is declared in the catalog "
                       "but Sintra has no client for it yet")


def _field_of(error: Any) -> str:
    """The parameter an error is about: its location, or the field a cross-field rule names."""
    return ".".join(str(p) for p in error["loc"]) or getattr((error.get("ctx") or {}).get("error"), "field", "params")


def validate_requirements(req: JobCreate, fields_set: list[str]) -> None:
    """422 naming the credential fields the action needs that the integration has not configured."""
    action = integration(req.agent, req.integration).action(req.action)
    missing = action.missing_requirements(req.params, set(fields_set)) if action else []
    if missing:
        raise ApiError(422, "missing_configuration", f"{req.integration}.{req.action} needs the integration's "
                       f"{', '.join(missing)}: configure it (or pass it as a parameter, where the action takes one)",
                       fields=[{"field": n, "problem": "not configured"} for n in missing])


def validate_run_at(run_at: datetime | None, grace_seconds: float = 60.0) -> None:
    """A one-shot's ``run_at`` may not lie in the past beyond a small grace."""
    if run_at is not None and (utcnow() - run_at).total_seconds() > grace_seconds:
        raise ApiError(422, "invalid_run_at", f"run_at {run_at.isoformat()} is in the past "
                       f"(more than {grace_seconds:g} s ago)")


@router.post("/{job_id}/cancel", response_model=JobPublic,
             responses={202: {"model": JobPublic, "description": "A running job will stop before its next step."},
                        **errors(404, 409)})
def cancel(job_id: str, caller: CallerDep, session: SessionDep) -> JSONResponse:
    """Cancel a job: one that has not started is cancelled at once; a running one stops before its next
    provider call or step (answer 202 with ``cancel_requested_at``; the job ends ``cancelled``)."""
    job = _own_job(session, caller, job_id)
    if job_store.mark_cancelled(session=session, job_id=job.id, reason=f"cancelled by {caller.actor}"):
        status = 200
    elif job.status == "running" and (job.cancel_requested_at or job_store.request_cancel(session=session,
                                                                                          job_id=job.id)):
        status = 202
    else:
        raise ApiError(409, "not_cancellable", f"job {job.id} is {job.status}; only scheduled, queued, retrying "
                       "or running jobs can be cancelled")
    record_event(session=session, actor=caller.actor, kind="api", outcome="job_cancelled" if status == 200
                 else "job_cancel_requested", workspace=caller.workspace, job_id=job.id, agent=job.agent,
                 integration=job.integration, action=job.action)
    session.commit()
    session.refresh(job)
    return _job_response(job, status)


@router.post("/{job_id}/retry", status_code=202, response_model=JobPublic, responses=errors(404, 409))
def retry(job_id: str, caller: CallerDep, session: SessionDep, enqueuer: EnqueuerDep) -> JSONResponse:
    """Run a failed or cancelled job again: same id, resuming from its step log (objects it created are
    found, not created again). 409 for a job in any other state."""
    job = _own_job(session, caller, job_id)
    if not job_store.request_retry(session=session, job=job, reason=f"retried by {caller.actor}",
                                   actor=caller.actor):
        raise ApiError(409, "not_retryable", f"job {job.id} is {job.status}; only failed or cancelled jobs can be "
                       "retried")
    record_event(session=session, actor=caller.actor, kind="api", outcome="job_retried", workspace=caller.workspace,
                 job_id=job.id, agent=job.agent, integration=job.integration, action=job.action)
    session.commit()
    session.refresh(job)
    dispatch_now(session, enqueuer, job)
    return _job_response(job, 202)


class BulkRetry(BaseModel):
    """Body of ``POST /api/jobs/retry``: which failed (or cancelled) jobs to run again."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["failed", "cancelled"] = "failed"
    agent: str | None = Field(default=None, max_length=32)
    integration: str | None = Field(default=None, max_length=64)
    action: str | None = Field(default=None, max_length=64)
    error_type: str | None = Field(default=None, max_length=32, description="e.g. transient, rate_limited, auth")
    finished_after: AwareDatetime | None = None
    finished_before: AwareDatetime | None = None
    #: Answer with the count and the ids it would retry, and change nothing.
    dry_run: bool = True
    #: With ``dry_run=false``: the count the dry run showed; refused (409) if the match changed since.
    expected_count: int | None = Field(default=None, ge=0)
    limit: int = Field(default=1000, ge=1, le=10_000)


@router.post("/retry", response_model=BulkRetryResult, responses=errors(409))
def retry_many(body: BulkRetry, caller: CallerDep, session: SessionDep, enqueuer: EnqueuerDep) -> dict[str, Any]:
    """Bulk retry by filter: ``dry_run`` (the default) answers the exact count and ids; then the same
    filter with ``dry_run: false`` (and ``expected_count``) retries exactly those."""
    matched = job_store.matching_finished(session=session, workspace=caller.workspace, status=body.status,
                                          agent=body.agent, integration=body.integration, action=body.action,
                                          error_type=body.error_type, after=body.finished_after,
                                          before=body.finished_before, limit=body.limit)
    ids = [j.id for j in matched]
    if body.dry_run:
        return {"dry_run": True, "count": len(ids), "job_ids": ids}
    if body.expected_count is not None and body.expected_count != len(ids):
        raise ApiError(409, "count_changed", f"the filter now matches {len(ids)} jobs, not the "
                       f"{body.expected_count} the dry run showed; run the dry run again", count=len(ids))
    retried = [j.id for j in matched if job_store.request_retry(session=session, job=j, actor=caller.actor,
                                                                 reason=f"bulk retry by {caller.actor}")]
    record_event(session=session, actor=caller.actor, kind="api", outcome="jobs_retried", workspace=caller.workspace,
                 detail={"count": len(retried)})
    session.commit()
    for job in matched:
        if job.id in retried:
            session.refresh(job)
            dispatch_now(session, enqueuer, job)
    return {"dry_run": False, "count": len(retried), "job_ids": retried}


def _own_job(session: Any, caller: Any, job_id: str) -> Any:
    job = job_store.get_job(session=session, job_id=job_id, workspace=caller.workspace)
    if job is None:
        raise ApiError(404, "not_found", f"no job {job_id!r} in workspace {caller.workspace!r}")
    return job


def _job_response(job: Any, status: int) -> JSONResponse:
    return JSONResponse(job_store.to_public(job).model_dump(mode="json"), status_code=status)


@router.get("/{job_id}", responses=errors(404))
def read(job_id: str, caller: CallerDep, session: SessionDep) -> JobPublic:
    """One job of the caller's workspace."""
    return job_store.to_public(_own_job(session, caller, job_id))


@router.get("/{job_id}/timeline", response_model=JobTimeline, responses=errors(404))
def timeline(job_id: str, caller: CallerDep, session: SessionDep) -> dict[str, Any]:
    """The job's events, oldest first: each state change (with attempt, reason, error) and progress step."""
    job = _own_job(session, caller, job_id)
    rows = events.since(session, workspace=caller.workspace, job_id=job.id, limit=1000)
    return {"job_id": job.id, "events": [{"id": e.id, "at": e.at.isoformat(), "type": e.type, "data": e.data}
                                         for e in rows]}


@router.get("")
def list_(caller: CallerDep, session: SessionDep, agent: str | None = None, integration: str | None = None,
          status: JobStatus | None = None, cursor: CursorParam = None, limit: LimitParam = 50) -> JobsPublic:
    """Newest jobs first, filtered by agent, integration and status; ``next_cursor`` pages on."""
    rows, more = jobs_page(session=session, workspace=caller.workspace, agent=agent, integration=integration,
                           status=status, after=decode_cursor(cursor), limit=limit)
    return JobsPublic(jobs=[job_store.to_public(j) for j in rows], count=len(rows),
                      next_cursor=encode_cursor(rows[-1].created_at, rows[-1].id) if more else None)
