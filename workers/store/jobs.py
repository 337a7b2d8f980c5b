"""Job rows: create (idempotently), read, list and move through their states."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from config.messages import TERMINAL_STATUSES, JobCreate, JobMessage, JobPublic
from workers.store.models import Job, JobStep, utcnow

#: Most jobs a list call returns.
MAX_LIST = 500


def new_job_id() -> str:
    """A new job id (UUID4 hex)."""
    return uuid.uuid4().hex


def find_by_idempotency_key(*, session: Session, workspace: str, key: str) -> Job | None:
    """The job created earlier in ``workspace`` with this idempotency key, if any."""
    stmt = select(Job).where(Job.workspace_id == workspace, Job.idempotency_key == key)
    return session.exec(stmt).first()


def create_job(*, session: Session, workspace: str, req: JobCreate, kind: str = "action",
               status: str = "queued") -> tuple[Job, bool]:
    """Insert a job; with an idempotency key already used, return the original and False."""
    if req.idempotency_key:
        existing = find_by_idempotency_key(session=session, workspace=workspace, key=req.idempotency_key)
        if existing is not None:
            return existing, False
    now = utcnow()
    job = Job(id=new_job_id(), workspace_id=workspace, agent=req.agent, integration=req.integration,
              action=req.action, kind=kind, params=req.params, status=status, attempts=0,
              idempotency_key=req.idempotency_key, run_at=req.run_at, created_at=now, updated_at=now)
    session.add(job)
    try:
        session.commit()
    except IntegrityError:  # a concurrent request with the same key won the race
        session.rollback()
        existing = find_by_idempotency_key(session=session, workspace=workspace, key=req.idempotency_key or "")
        if existing is None:
            raise
        return existing, False
    return job, True


def get_job(*, session: Session, job_id: str, workspace: str | None = None) -> Job | None:
    """The job ``job_id`` (restricted to ``workspace`` when given)."""
    job = session.get(Job, job_id)
    if job is None or (workspace is not None and job.workspace_id != workspace):
        return None
    return job


def list_jobs(*, session: Session, workspace: str, agent: str | None = None, integration: str | None = None,
              status: str | None = None, limit: int = 50) -> list[Job]:
    """Newest jobs first, filtered."""
    stmt = select(Job).where(Job.workspace_id == workspace)
    if agent:
        stmt = stmt.where(Job.agent == agent)
    if integration:
        stmt = stmt.where(Job.integration == integration)
    if status:
        stmt = stmt.where(Job.status == status)
    stmt = stmt.order_by(col(Job.created_at).desc()).limit(min(limit, MAX_LIST))
    return list(session.exec(stmt).all())


def _transition(session: Session, job_id: str, values: dict[str, Any], *, only_from: frozenset[str] | None = None,
                ) -> bool:
    """Update a non-terminal job atomically; False when it was already terminal (or not in ``only_from``)."""
    stmt = update(Job).where(col(Job.id) == job_id, col(Job.status).not_in(TERMINAL_STATUSES))
    if only_from is not None:
        stmt = stmt.where(col(Job.status).in_(only_from))
    result = session.execute(stmt.values(**values, updated_at=utcnow()))
    session.commit()
    return bool(result.rowcount)


def mark_running(*, session: Session, job_id: str, lease: timedelta) -> bool:
    """queued/retrying -> running, counting the attempt.

    A job already ``running`` is taken over only once its lease (the attempt's time limit plus a
    margin) has run out: that is a worker that died mid-job. Within the lease another message for
    the same job is a duplicate delivery, and must not run it a second time concurrently.
    """
    now = utcnow()
    startable = or_(col(Job.status).in_(("queued", "retrying")),
                    and_(col(Job.status) == "running", col(Job.started_at) < now - lease))
    result = session.execute(update(Job).where(col(Job.id) == job_id, startable)
                             .values(status="running", attempts=Job.attempts + 1, started_at=now, updated_at=now))
    session.commit()
    return bool(result.rowcount)


def mark_succeeded(*, session: Session, job_id: str, result: Any) -> bool:
    """running -> succeeded with its result."""
    return _transition(session, job_id, {"status": "succeeded", "result": result, "error": None,
                                         "finished_at": utcnow()})


def mark_retrying(*, session: Session, job_id: str, error: dict[str, Any]) -> bool:
    """running -> retrying, keeping the last attempt's error."""
    return _transition(session, job_id, {"status": "retrying", "error": error})


def mark_failed(*, session: Session, job_id: str, error: dict[str, Any]) -> bool:
    """Any non-terminal state -> failed with a typed error."""
    return _transition(session, job_id, {"status": "failed", "error": error, "finished_at": utcnow()})


def mark_cancelled(*, session: Session, job_id: str, reason: str) -> bool:
    """A job that has not started (scheduled, queued or waiting to retry) -> cancelled."""
    return _transition(session, job_id, {"status": "cancelled", "finished_at": utcnow(),
                                         "error": {"type": "cancelled", "message": reason}},
                       only_from=frozenset({"scheduled", "queued", "retrying"}))


def set_progress(*, session: Session, job_id: str, step: str, pct: float | None) -> None:
    """Record where a running job is."""
    session.execute(update(Job).where(col(Job.id) == job_id)
                    .values(progress={"step": step, "percent": pct}, updated_at=utcnow()))
    session.commit()


def get_step(*, session: Session, job_id: str, key: str) -> Any:
    """A value a previous attempt of this job stored."""
    row = session.get(JobStep, (job_id, key))
    return None if row is None else row.value


def put_step(*, session: Session, job_id: str, key: str, value: Any) -> None:
    """Store (or replace) a step value durably."""
    row = session.get(JobStep, (job_id, key))
    if row is None:
        session.add(JobStep(job_id=job_id, key=key, value=value, created_at=utcnow()))
    else:
        row.value = value
    session.commit()


def to_public(job: Job) -> JobPublic:
    """The API view of a job."""
    return JobPublic(id=job.id, workspace=job.workspace_id, agent=job.agent, integration=job.integration,
                     action=job.action, kind=job.kind, status=job.status, attempts=job.attempts,  # type: ignore[arg-type]
                     params=job.params, result=job.result, error=job.error, progress=job.progress,  # type: ignore[arg-type]
                     idempotency_key=job.idempotency_key, run_at=job.run_at, schedule_id=job.schedule_id,
                     parent_id=job.parent_id,
                     created_at=job.created_at, started_at=job.started_at,
                     finished_at=job.finished_at, updated_at=job.updated_at)


def children(*, session: Session, parent_id: str) -> list[Job]:
    """The step jobs of a workflow job, oldest first."""
    stmt = select(Job).where(Job.parent_id == parent_id).order_by(col(Job.created_at), col(Job.id))
    return list(session.exec(stmt).all())


def claim_parent_for_combine(*, session: Session, parent_id: str) -> bool:
    """When no step is left unfinished, move the workflow job running -> queued exactly once."""
    unfinished = [j for j in children(session=session, parent_id=parent_id) if j.status not in TERMINAL_STATUSES]
    done = len(children(session=session, parent_id=parent_id)) - len(unfinished)
    set_progress(session=session, job_id=parent_id, step=f"{done}/{done + len(unfinished)} sources done",
                 pct=round(100 * done / max(1, done + len(unfinished)), 1))
    if unfinished:
        return False
    return _transition(session, parent_id, {"status": "queued"}, only_from=frozenset({"running"}))


def message_for(job: Job) -> JobMessage:
    """The queue message that runs ``job`` (ids only)."""
    return JobMessage(job_id=job.id, workspace=job.workspace_id, agent=job.agent, integration=job.integration,
                      action=job.action, kind=job.kind)  # type: ignore[arg-type]
