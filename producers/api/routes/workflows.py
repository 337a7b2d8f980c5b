"""``/api/workflows``: one request that runs several agents' actions in stages, combined into one report."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from config.catalog.workflows import WORKFLOWS, WorkflowSpec
from config.messages import JobCreate, JobPublic, WorkflowCreate
from producers.api.deps import CallerDep, EnqueuerDep, SessionDep
from producers.api.errors import ApiError
from producers.schemas import COMMON_ERRORS, WorkflowsPublic, errors
from workers.store import jobs as job_store
from workers.store.audit import record_event
from workers.workflow_steps import create_steps, dispatch_steps, first_stage

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
                           "steps": [{"agent": s.agent or w.agent, "integration": s.integration, "action": s.action,
                                      "stage": s.stage, "section": s.section} for s in w.steps]}
                          for w in WORKFLOWS.values()]}


@router.post("/{workflow_id}", status_code=202, response_model=JobPublic,
             responses={200: {"model": JobPublic, "description": "The workflow an earlier request with the same "
                              "idempotency key started."}, **errors(404)})
def start(workflow_id: str, body: WorkflowCreate, caller: CallerDep, session: SessionDep,
          enqueuer: EnqueuerDep) -> JSONResponse:
    """Create the workflow job and its first stage's step jobs; enqueue the steps in parallel."""
    spec = _spec(workflow_id)
    try:
        params = spec.params.model_validate(body.params)
    except ValidationError as exc:
        names = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'params'}: {e['msg']}" for e in exc.errors())
        raise ApiError(422, "invalid_params", f"invalid params: {names}") from None
    req = JobCreate(agent=spec.agent, integration="workflow", action=spec.id, params=params.model_dump(mode="json"),
                    idempotency_key=body.idempotency_key)
    parent, new = job_store.create_job(session=session, workspace=caller.workspace, req=req, kind="workflow",
                                       status="running", commit=False)  # committed with its first steps
    if not new:
        return JSONResponse(job_store.to_public(parent).model_dump(mode="json"), status_code=200)
    steps = create_steps(session, workspace=caller.workspace, spec=spec, parent_id=parent.id,
                         planned=first_stage(spec, params))
    record_event(session=session, actor=caller.actor, kind="api", outcome="workflow_started",
                 workspace=caller.workspace, job_id=parent.id, agent=spec.agent, action=spec.id)
    session.commit()
    dispatch_steps(session, enqueuer, parent.id, steps)
    session.refresh(parent)
    return JSONResponse(job_store.to_public(parent).model_dump(mode="json"), status_code=202)
