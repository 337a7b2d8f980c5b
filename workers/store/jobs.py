"""Job rows: create (idempotently), read, list and move through their states.

The state changes and the step log are Core statements on :mod:`workers.store.tables`: they run on a session
(the API) or on a connection (a worker, whose process goes without the ORM). What reads or creates ``Job``
objects imports the models when it runs.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from config.messages import TERMINAL_STATUSES, JobCreate, JobMessage, JobPublic
from workers.store import events
from workers.store.tables import JOB_STEPS, JOBS, utcnow

if TYPE_CHECKING:
    from sqlmodel import Session

    from workers.store.models import Job

    #: A session (the API) or a connection (a worker): the state changes below run on either.
    Db = Session | Connection



def _jobs(db: Any) -> tuple[Any, Any]:
    """What a state change updates and its columns: on a connection, the Core table; on a session, the
    model (an ORM-enabled statement, which also updates the session's loaded ``Job`` objects)."""
    if isinstance(db, Connection):
        return JOBS, JOBS.c
    from workers.store.models import Job

    return Job, Job

#: Most jobs a list call returns.
MAX_LIST = 500


def new_job_id() -> str:
    """A new job id (UUID4 hex)."""
    return uuid.uuid4().hex


def find_by_idempotency_key(*, session: Session, workspace: str, key: str) -> Job | None:
    """The job created earlier in ``workspace`` with this idempotency key, if any."""
    from sqlmodel import select

    from workers.store.models import Job

    stmt = select(Job).where(Job.workspace_id == workspace, Job.idempotency_key == key)
    return session.exec(stmt).first()


#: How long a new job's outbox entry waits for the creator's own immediate send before a relay sends it.
DISPATCH_GRACE = timedelta(seconds=5)


def create_job(*, session: Session, workspace: str, req: JobCreate, kind: str = "action",
               status: str = "queued", grace: timedelta = DISPATCH_GRACE, commit: bool = True) -> tuple[Job, bool]:
    """Insert a job and, when queued, its outbox entry (in the same commit).

    With an idempotency key already used, return the original and False. The caller sends the
    message at once (:func:`workers.dispatch.dispatch_now`); if it dies first, a relay sends it
    after ``grace``. ``commit=False`` only flushes: the caller adds what belongs with the job (a
    workflow's first steps) and commits it all at once, so a crash never leaves the job alone.
    """
    from workers.store.models import Job

    if req.idempotency_key:
        existing = find_by_idempotency_key(session=session, workspace=workspace, key=req.idempotency_key)
        if existing is not None:
            return existing, False
    now = utcnow()
    job = Job(id=new_job_id(), workspace_id=workspace, agent=req.agent, integration=req.integration,
              action=req.action, kind=kind, params=req.params, status=status, attempts=0,
              idempotency_key=req.idempotency_key, run_at=req.run_at, created_at=now, updated_at=now,
              dispatch_at=now + grace if status == "queued" else None)
    session.add(job)
    events.record(session, workspace=workspace, type=f"job.{status}", job_id=job.id,
                  data={"agent": req.agent, "integration": req.integration, "action": req.action})
    try:
        if commit:
            session.commit()
        else:
            session.flush()
    except IntegrityError:  # a concurrent request with the same key won the race
        session.rollback()
        existing = find_by_idempotency_key(session=session, workspace=workspace, key=req.idempotency_key or "")
        if existing is None:
            raise
        return existing, False
    return job, True


def get_job(*, session: Session, job_id: str, workspace: str | None = None) -> Job | None:
    """The job ``job_id`` (restricted to ``workspace`` when given)."""
    from workers.store.models import Job

    job = session.get(Job, job_id)
    if job is None or (workspace is not None and job.workspace_id != workspace):
        return None
    return job


def list_jobs(*, session: Session, workspace: str, agent: str | None = None, integration: str | None = None,
              status: str | None = None, limit: int = 50) -> list[Job]:
    """Newest jobs first, filtered."""
    from sqlmodel import col, select

    from workers.store.models import Job

    stmt = select(Job).where(Job.workspace_id == workspace)
    if agent:
        stmt = stmt.where(Job.agent == agent)
    if integration:
        stmt = stmt.where(Job.integration == integration)
    if status:
        stmt = stmt.where(Job.status == status)
    stmt = stmt.order_by(col(Job.created_at).desc()).limit(min(limit, MAX_LIST))
    return list(session.exec(stmt).all())


def matching_finished(*, session: Session, workspace: str, status: str, agent: str | None = None,
                      integration: str | None = None, action: str | None = None, error_type: str | None = None,
                      after: Any = None, before: Any = None, limit: int = 1000) -> list[Job]:
    """Finished jobs of a workspace matching a bulk-retry filter, oldest first."""
    from sqlmodel import col, select

    from workers.store.models import Job

    stmt = select(Job).where(Job.workspace_id == workspace, Job.status == status)
    for column, value in ((Job.agent, agent), (Job.integration, integration), (Job.action, action)):
        if value:
            stmt = stmt.where(column == value)
    if after is not None:
        stmt = stmt.where(col(Job.finished_at) >= after)
    if before is not None:
        stmt = stmt.where(col(Job.finished_at) < before)
    rows = list(session.exec(stmt.order_by(col(Job.finished_at), col(Job.id)).limit(limit)).all())
    if error_type:
        rows = [j for j in rows if (j.error or {}).get("type") == error_type]
    return rows


def _transition(session: Db, job_id: str, values: dict[str, Any], *, only_from: frozenset[str] | None = None,
                event: str | None = None, data: dict[str, Any] | None = None) -> bool:
    """Update a non-terminal job atomically and record ``event``; False when it was already terminal
    (or not in ``only_from``). Commits."""
    T, C = _jobs(session)
    stmt = update(T).where(C.id == job_id, C.status.not_in(TERMINAL_STATUSES))
    if only_from is not None:
        stmt = stmt.where(C.status.in_(only_from))
    workspace = session.execute(stmt.values(**values, updated_at=utcnow()).returning(C.workspace_id)).scalar()
    if workspace is not None and event:
        events.record(session, workspace=workspace, type=event, job_id=job_id, data=data)
    session.commit()
    return workspace is not None


def mark_running(*, session: Db, job_id: str, worker_id: str, lease: timedelta) -> bool:
    """queued/retrying -> running on ``worker_id``, counting the attempt (the caller commits).

    Only a job that is waiting and due starts: a message for a running, finished or not-yet-due job
    (a duplicate delivery, a message that outlived a takeover, a retry's message arriving early) is
    ignored, and the database's own schedule for the job stands. The lease is renewed by the worker's
    heartbeat; a job whose lease ran out is taken over by the sweeper, not here.
    """
    T, C = _jobs(session)
    now = utcnow()
    due = or_(C.not_before.is_(None), C.not_before <= now)
    result: Any = session.execute(update(T).where(C.id == job_id, C.status.in_(("queued", "retrying")),
                                            due)
                          .values(status="running", attempts=C.attempts + 1, started_at=now, updated_at=now,
                                  worker_id=worker_id, lease_expires_at=now + lease, dispatch_at=None))
    return bool(result.rowcount)


def finish_attempt(*, session: Db, job_id: str, worker_id: str, values: dict[str, Any]) -> bool:
    """Record an attempt's outcome on a job this worker still owns (the caller commits).

    False when the job was taken over meanwhile (its lease ran out): the outcome is then not ours to write.
    """
    T, C = _jobs(session)
    result: Any = session.execute(update(T).where(C.id == job_id, C.status == "running",
                                            C.worker_id == worker_id)
                          .values(**values, worker_id=None, lease_expires_at=None, updated_at=utcnow()))
    return bool(result.rowcount)


def mark_dispatched(*, session: Db, job_id: str, message_id: str, entry: Any) -> bool:
    """The message for outbox entry ``entry`` (the ``dispatch_at`` that was read) was sent: clear that entry.

    Compare-and-clear: if the job moved on meanwhile (its message was already taken, the attempt failed
    and a new retry entry was written), the newer entry stays. The caller commits.
    """
    T, C = _jobs(session)
    result: Any = session.execute(update(T).where(C.id == job_id, C.dispatch_at == entry)
                          .values(dispatch_at=None, message_id=message_id, updated_at=utcnow()))
    return bool(result.rowcount)


def request_retry(*, session: Db, job: Job, reason: str, actor: str) -> bool:
    """A finished (failed or cancelled) job -> queued again, same id, resuming from its step log."""
    T, C = _jobs(session)
    now = utcnow()
    log_entry = {"attempt": job.attempts, "at": now.isoformat(), "kind": "replay", "message": reason}
    result: Any = session.execute(update(T).where(C.id == job.id, C.status.in_(("failed", "cancelled")))
                          .values(status="queued", error=None, finished_at=None, not_before=None,
                                  rate_limited_since=None, cancel_requested_at=None, dispatch_at=now,
                                  attempt_log=[*(job.attempt_log or []), log_entry], updated_at=now))
    if result.rowcount:
        events.record(session, workspace=job.workspace_id, type="job.queued", job_id=job.id,
                      data={"reason": reason, "by": actor})
    return bool(result.rowcount)


def mark_failed(*, session: Db, job_id: str, error: dict[str, Any]) -> bool:
    """Any non-terminal state -> failed with a typed error (jobs that never ran: disconnect, bad message)."""
    return _transition(session, job_id, {"status": "failed", "error": error, "finished_at": utcnow(),
                                         "dispatch_at": None}, event="job.failed", data={"error": error})


def mark_cancelled(*, session: Db, job_id: str, reason: str) -> bool:
    """A job that has not started (scheduled, queued or waiting to retry) -> cancelled."""
    error = {"type": "cancelled", "message": reason}
    return _transition(session, job_id, {"status": "cancelled", "finished_at": utcnow(), "error": error,
                                         "dispatch_at": None},
                       only_from=frozenset({"scheduled", "queued", "retrying"}), event="job.cancelled",
                       data={"error": error})


def request_cancel(*, session: Db, job_id: str) -> bool:
    """Ask a running job to stop: its worker checks between steps and before each provider call. Commits."""
    T, C = _jobs(session)
    result: Any = session.execute(update(T).where(C.id == job_id, C.status == "running",
                                            C.cancel_requested_at.is_(None))
                          .values(cancel_requested_at=utcnow()))
    session.commit()
    return bool(result.rowcount)


def set_progress(*, session: Db, job_id: str, step: str, pct: float | None) -> None:
    """Record where a running job is."""
    T, C = _jobs(session)
    session.execute(update(T).where(C.id == job_id)
                    .values(progress={"step": step, "percent": pct}, updated_at=utcnow()))
    session.commit()


def get_step(*, session: Db, job_id: str, key: str) -> Any:
    """A value a previous attempt of this job stored."""
    if isinstance(session, Connection):
        return session.execute(select(JOB_STEPS.c.value).where(JOB_STEPS.c.job_id == job_id,
                                                               JOB_STEPS.c.key == key)).scalar()
    from workers.store.models import JobStep

    row = session.get(JobStep, (job_id, key))
    return None if row is None else row.value


def put_step(*, session: Db, job_id: str, key: str, value: Any) -> None:
    """Store (or replace) a step value durably."""
    if isinstance(session, Connection):
        where = (JOB_STEPS.c.job_id == job_id, JOB_STEPS.c.key == key)
        if session.execute(select(JOB_STEPS.c.key).where(*where)).first() is None:
            session.execute(insert(JOB_STEPS).values(job_id=job_id, key=key, value=value, created_at=utcnow()))
        else:
            session.execute(update(JOB_STEPS).where(*where).values(value=value))
        session.commit()
        return
    from workers.store.models import JobStep

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
                     parent_id=job.parent_id, attempt_log=job.attempt_log or [], not_before=job.not_before,
                     cancel_requested_at=job.cancel_requested_at,
                     created_at=job.created_at, started_at=job.started_at,
                     finished_at=job.finished_at, updated_at=job.updated_at)


def children(*, session: Session, parent_id: str) -> list[Job]:
    """The step jobs of a workflow job, oldest first."""
    from sqlmodel import col, select

    from workers.store.models import Job

    stmt = select(Job).where(Job.parent_id == parent_id).order_by(col(Job.created_at), col(Job.id))
    return list(session.exec(stmt).all())


def claim_parent_for_combine(*, session: Db, parent_id: str) -> bool:
    """When no step is left unfinished, move the workflow job running -> queued exactly once."""
    T, C = _jobs(session)
    steps = session.execute(select(JOBS.c.status).where(JOBS.c.parent_id == parent_id)).scalars().all()
    unfinished = [status for status in steps if status not in TERMINAL_STATUSES]
    done = len(steps) - len(unfinished)
    # only while the workflow waits for its steps: a late write must not land over the combine's own
    session.execute(update(T).where(C.id == parent_id, C.status == "running",
                                      C.worker_id.is_(None))
                    .values(progress={"step": f"{done}/{len(steps)} steps done",
                                      "percent": round(100 * done / max(1, len(steps)), 1)}, updated_at=utcnow()))
    session.commit()
    if unfinished:
        return False
    return _transition(session, parent_id, {"status": "queued", "dispatch_at": utcnow()},
                       only_from=frozenset({"running"}), event="job.queued", data={"reason": "steps finished"})


def message_for(job: Job) -> JobMessage:
    """The queue message that runs ``job`` (ids only)."""
    return JobMessage(job_id=job.id, workspace=job.workspace_id)
