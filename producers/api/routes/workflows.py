"""``/api/workflows``: one request that fans out to several integrations and is combined into one report."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from config.catalog import CatalogError, integration
from config.catalog.workflows import WORKFLOWS, WorkflowSpec
from config.messages import JobCreate, JobPublic, WorkflowCreate
from producers.api.deps import CallerDep, EnqueuerDep, SessionDep
from producers.api.errors import ApiError
from workers.dispatch import dispatch_now
from workers.store import events
from producers.schemas import COMMON_ERRORS, WorkflowsPublic, errors
from workers.store import jobs as job_store
from workers.store.audit import record_event
from workers.store.integrations import get_state
from workers.store.models import Job, utcnow

router = APIRouter(prefix="/api/workflows", tags=["workflows"], responses=COMMON_ERRORS)


def _spec(workflow_id: str) -> WorkflowSpec:
    spec = WORKFLOWS.get(workflow_id)
    if spec is None:
        raise ApiError(404, "not_found", f"unknown workflow {workflow_id!r}; known: {', '.join(WORKFLOWS)}")
    return spec


@router.get("", response_model=WorkflowsPublic)
def list_() -> dict[str, Any]:
    """The workflows and their parameter schemas."""
    return {"workflows": [{"id": w.id, "agent": w.agent, "description": w.description,
                           "parameters": w.params.model_json_schema(),
                           "steps": [{"integration": s.integration, "action": s.action} for s in w.steps]}
                          for w in WORKFLOWS.values()]}


def _step_problem(session: Any, workspace: str, agent: str, step: Any, params: dict[str, Any]) -> str | None:
    """Why a step cannot run (it then fails at once and the report is partial), or None."""
    try:
        spec = integration(agent, step.integration)
    except CatalogError as exc:
        return str(exc)
    if not spec.implemented:
        return f"{spec.name} is declared in the catalog but Sintra has no client for it yet"
    state = get_state(session=session, workspace=workspace, agent=agent, integration=step.integration)
    if state is None or state.status in ("not_configured", "disconnected"):
        return f"{agent}/{step.integration} is {'not configured' if state is None else state.status}"
    action = spec.action(step.action)
    assert action is not None
    action.params.model_validate(params)
    return None


@router.post("/{workflow_id}", status_code=202, response_model=JobPublic,
             responses={200: {"model": JobPublic, "description": "The workflow an earlier request with the same "
                              "idempotency key started."}, **errors(404)})
def start(workflow_id: str, body: WorkflowCreate, caller: CallerDep, session: SessionDep,
          enqueuer: EnqueuerDep) -> JSONResponse:
    """Create the workflow job and one step job per source; enqueue the steps in parallel."""
    spec = _spec(workflow_id)
    try:
        params = spec.params.model_validate(body.params)
    except ValidationError as exc:
        names = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ApiError(422, "invalid_params", f"invalid params: {names}") from None
    req = JobCreate(agent=spec.agent, integration="workflow", action=spec.id, params=params.model_dump(mode="json"),
                    idempotency_key=body.idempotency_key)
    parent, created = job_store.create_job(session=session, workspace=caller.workspace, req=req, kind="workflow",
                                           status="running")
    if not created:
        return JSONResponse(job_store.to_public(parent).model_dump(mode="json"), status_code=200)
    now = utcnow()
    steps: list[tuple[Job, str | None]] = []
    for step in spec.steps:
        step_params = step.params(params)
        problem = _step_problem(session, caller.workspace, spec.agent, step, step_params)
        job = Job(id=job_store.new_job_id(), workspace_id=caller.workspace, agent=spec.agent,
                  integration=step.integration, action=step.action, params=step_params, parent_id=parent.id,
                  status="failed" if problem else "queued", attempts=0, created_at=now, updated_at=now,
                  error={"type": "unavailable", "message": problem} if problem else None,
                  finished_at=now if problem else None, dispatch_at=None if problem else now + job_store.DISPATCH_GRACE)
        session.add(job)
        events.record(session, workspace=caller.workspace, type="job.failed" if problem else "job.queued",
                      job_id=job.id, data={"workflow": parent.id, **({"error": job.error} if problem else {})})
        steps.append((job, problem))
    record_event(session=session, actor=caller.actor, kind="api", outcome="workflow_started",
                 workspace=caller.workspace, job_id=parent.id, agent=spec.agent, action=spec.id)
    session.commit()
    for job, problem in steps:  # committed with their outbox entries: a relay sends what this does not
        if problem is None:
            dispatch_now(session, enqueuer, job)
    if job_store.claim_parent_for_combine(session=session, parent_id=parent.id):  # every step failed at once
        session.refresh(parent)
        dispatch_now(session, enqueuer, parent)
    session.refresh(parent)
    return JSONResponse(job_store.to_public(parent).model_dump(mode="json"), status_code=202)
