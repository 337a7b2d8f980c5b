"""A workflow's step jobs: create a stage's steps, and decide whether the workflow starts its next stage.

The API creates the first stage with the workflow job. When a stage's last step finishes, the fan-in
queues the workflow job (:func:`workers.store.jobs.claim_parent_for_combine`, or the sweeper's
:func:`workers.dispatch.complete_workflows`); when it runs, it either starts the next stage, with params
derived from the earlier steps' results, or is combined into its report. Starting a stage is one
transaction: the new steps and the workflow job back to waiting for them, on this worker's own attempt
only. Each step's idempotency key names its workflow and section, so the database refuses a second job
for the same step.
"""

from __future__ import annotations

from typing import Any, cast

from pydantic import ValidationError
from sqlalchemy import update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from config.catalog import CatalogError, integration
from config.catalog.workflows import WORKFLOWS, WorkflowSpec, WorkflowStep
from config.catalog.written_copy import UnusableCopy
from workers.broker import Enqueuer
from workers.dispatch import dispatch_now
from workers.store import events
from workers.store import jobs as job_store
from workers.store.integrations import get_state
from workers.store.models import Job, utcnow

#: A planned step: its definition and its params.
Planned = tuple[WorkflowStep, dict[str, Any]]


def step_key(parent_id: str, section: str) -> str:
    """The idempotency key of a workflow's step."""
    return f"workflow:{parent_id}:{section}"


def section_of(job: Job) -> str | None:
    """The section a step job writes (None for a step created before steps carried keys)."""
    prefix = f"workflow:{job.parent_id}:"
    key = job.idempotency_key or ""
    return key[len(prefix):] if job.parent_id and key.startswith(prefix) else None


def by_section(steps: list[Job]) -> dict[str, Job]:
    """A workflow's step jobs by section."""
    return {section: job for job in steps if (section := section_of(job)) is not None}


def stored_params(spec: WorkflowSpec, job: Job) -> Any:
    """A workflow job's params as its model (checks that depend on the time of the request are skipped)."""
    return spec.params.model_validate(job.params, context={"stored": True})


def first_stage(spec: WorkflowSpec, params: Any) -> list[Planned]:
    """The first stage's steps with their params."""
    return [(step, step.params(params, {})) for step in spec.stage_steps(0, params)]


def next_stage(spec: WorkflowSpec, params: Any, steps: list[Job]) -> list[Planned] | None:
    """The next stage's steps with their params; None when the workflow is to be combined now.

    A next stage starts only when every step so far succeeded and their results yield its params (the
    combine says why not, from the same steps).
    """
    done = by_section(steps)
    stage = 1 + max((s.stage for s in spec.steps if s.section in done), default=-1)
    planned = spec.stage_steps(stage, params)
    if not planned or not done or any(job.status != "succeeded" for job in steps):
        return None
    earlier = {section: job.result for section, job in done.items()}
    try:
        return [(step, step.params(params, earlier)) for step in planned]
    except UnusableCopy:
        return None


def step_problem(session: Session, workspace: str, agent: str, step: WorkflowStep,
                 params: dict[str, Any]) -> str | None:
    """Why a step cannot run (it then fails at once and the report says so), or None."""
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
    try:
        action.params.model_validate(params)
    except ValidationError as exc:
        fields = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'params'}: {e['msg']}" for e in exc.errors())
        return f"the params derived for {step.integration}.{step.action} are invalid ({fields})"
    return None


def create_steps(session: Session, *, workspace: str, spec: WorkflowSpec, parent_id: str,
                 planned: list[Planned]) -> list[tuple[Job, str | None]]:
    """Add one job per planned step (failed at once when it cannot run) with its event; the caller commits."""
    now = utcnow()
    created: list[tuple[Job, str | None]] = []
    for step, params in planned:
        agent = step.agent or spec.agent
        problem = step_problem(session, workspace, agent, step, params)
        job = Job(id=job_store.new_job_id(), workspace_id=workspace, agent=agent, integration=step.integration,
                  action=step.action, params=params, parent_id=parent_id, idempotency_key=step_key(parent_id,
                                                                                                   step.section),
                  status="failed" if problem else "queued", attempts=0, created_at=now, updated_at=now,
                  error={"type": "unavailable", "message": problem} if problem else None,
                  finished_at=now if problem else None, dispatch_at=None if problem else now + job_store.DISPATCH_GRACE)
        session.add(job)
        events.record(session, workspace=workspace, type="job.failed" if problem else "job.queued", job_id=job.id,
                      data={"workflow": parent_id, **({"error": job.error} if problem else {})})
        created.append((job, problem))
    return created


def dispatch_steps(session: Session, enqueuer: Enqueuer, parent_id: str,
                   created: list[tuple[Job, str | None]]) -> None:
    """Send the committed steps' messages; if every step failed at once, queue the workflow's combine."""
    for job, problem in created:  # committed with their outbox entries: a relay sends what this does not
        if problem is None:
            dispatch_now(session, enqueuer, job)
    if job_store.claim_parent_for_combine(session=session, parent_id=parent_id):
        parent = session.get(Job, parent_id)
        assert parent is not None
        session.refresh(parent)
        dispatch_now(session, enqueuer, parent)


def start_next_stage(*, session: Session, parent: Job, worker_id: str) -> list[tuple[Job, str | None]] | None:
    """Start the workflow's next stage and put the workflow job back to waiting, in one commit.

    None when there is no next stage to start (combine now); an empty list when the job is no longer
    this worker's (it was taken over) and nothing was written.
    """
    spec = WORKFLOWS[parent.action]
    planned = next_stage(spec, stored_params(spec, parent), job_store.children(session=session,
                                                                               parent_id=parent.id))
    if planned is None:
        return None
    stage, now = planned[0][0].stage + 1, utcnow()
    what = ", ".join(f"{s.agent or spec.agent}/{s.integration} {s.action}" for s, _ in planned)
    entry = {"attempt": parent.attempts, "at": now.isoformat(), "worker": worker_id, "kind": "stage",
             "message": f"stage {stage}/{spec.stages} started: {what}"}
    waiting = (update(Job).where(col(Job.id) == parent.id, col(Job.status) == "running",
                                 col(Job.worker_id) == worker_id)
               .values(worker_id=None, lease_expires_at=None, updated_at=now,
                       attempt_log=[*(parent.attempt_log or []), entry],
                       progress={"step": entry["message"], "percent": round(100 * (stage - 1) / spec.stages, 1)}))
    moved = cast(CursorResult[Any], session.execute(waiting))
    if not moved.rowcount:
        session.rollback()
        return []
    created = create_steps(session, workspace=parent.workspace_id, spec=spec, parent_id=parent.id, planned=planned)
    events.record(session, workspace=parent.workspace_id, type="job.progress", job_id=parent.id,
                  data={"step": entry["message"], "steps": [job.id for job, _ in created]})
    try:
        session.commit()
    except IntegrityError:  # the stage's steps exist already: whoever created them owns the workflow's wait
        session.rollback()
        return []
    return created
