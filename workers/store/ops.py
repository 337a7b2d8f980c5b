"""Read-only queries for the ops views: queue statistics, job search, audit rows, workers, firings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from workers.store.models import AuditEvent, Job, ScheduleFiring, WorkerProcess, utcnow

#: Most rows read to compute percentiles over a window (newest first).
SAMPLE_LIMIT = 5000
#: A worker whose heartbeat is older than this is not listed at all (unless stopped ones are asked for).
FORGET_AFTER = timedelta(minutes=10)


def percentiles(values: list[float], points: tuple[int, ...] = (50, 95, 99)) -> dict[str, float | None]:
    """Nearest-rank percentiles of ``values`` (None when there are none)."""
    ordered = sorted(values)
    out: dict[str, float | None] = {}
    for p in points:
        out[f"p{p}"] = None if not ordered else round(ordered[min(len(ordered) - 1,
                                                                   max(0, -(-p * len(ordered) // 100) - 1))], 3)
    return out


def _scoped(stmt: Any, workspace: str | None) -> Any:
    return stmt if workspace is None else stmt.where(Job.workspace_id == workspace)


def status_counts(*, session: Session, workspace: str | None) -> dict[str, dict[str, int]]:
    """Jobs per agent and status (``workspace=None``: every workspace)."""
    stmt = _scoped(select(Job.agent, Job.status, func.count()).group_by(Job.agent, Job.status), workspace)
    out: dict[str, dict[str, int]] = {}
    for agent, status, n in session.exec(stmt).all():
        out.setdefault(agent, {})[status] = int(n)
    return out


def window_stats(*, session: Session, workspace: str | None, since: datetime) -> dict[str, dict[str, Any]]:
    """Per agent over the window: finished, failed, pickup latency and duration percentiles (seconds)."""
    started = _scoped(select(Job.agent, Job.created_at, Job.run_at, Job.started_at)
                      .where(col(Job.started_at) >= since, Job.attempts == 1)
                      .order_by(col(Job.started_at).desc()).limit(SAMPLE_LIMIT), workspace)
    finished = _scoped(select(Job.agent, Job.status, Job.started_at, Job.finished_at)
                       .where(col(Job.finished_at) >= since)
                       .order_by(col(Job.finished_at).desc()).limit(SAMPLE_LIMIT), workspace)
    pickup: dict[str, list[float]] = {}
    for agent, created, run_at, start in session.exec(started).all():
        ready = max(created, run_at) if run_at else created
        pickup.setdefault(agent, []).append(max(0.0, (start - ready).total_seconds()))
    durations: dict[str, list[float]] = {}
    done: dict[str, dict[str, int]] = {}
    for agent, status, start, end in session.exec(finished).all():
        counts = done.setdefault(agent, {"finished": 0, "failed": 0})
        counts["finished"] += 1
        counts["failed"] += status == "failed"
        if start is not None and status == "succeeded":
            durations.setdefault(agent, []).append(max(0.0, (end - start).total_seconds()))
    agents = set(pickup) | set(done)
    return {a: {**done.get(a, {"finished": 0, "failed": 0}), "pickup_s": percentiles(pickup.get(a, [])),
                "duration_s": percentiles(durations.get(a, []))} for a in agents}


@dataclass(frozen=True)
class JobFilter:
    """What the jobs table is filtered by; every field is optional."""

    agent: str | None = None
    integration: str | None = None
    action: str | None = None
    status: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    #: Matches a job id (or its start) or an idempotency key (or part of it).
    text: str | None = None


def search_jobs(*, session: Session, workspace: str | None, where: JobFilter, offset: int = 0,
                limit: int = 50) -> tuple[list[Job], int]:
    """One page of jobs matching ``where``, newest first, and how many match in all."""
    stmt = _scoped(select(Job), workspace)
    for column, value in ((Job.agent, where.agent), (Job.integration, where.integration),
                          (Job.action, where.action), (Job.status, where.status)):
        if value:
            stmt = stmt.where(column == value)
    if where.since:
        stmt = stmt.where(col(Job.created_at) >= where.since)
    if where.until:
        stmt = stmt.where(col(Job.created_at) < where.until)
    if where.text and where.text.strip():
        text = where.text.strip()
        like = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(or_(col(Job.id).startswith(text, autoescape=True),
                              col(Job.idempotency_key).like(like, escape="\\")))
    total = session.exec(select(func.count()).select_from(stmt.subquery())).one()
    rows = session.exec(stmt.order_by(col(Job.created_at).desc(), col(Job.id)).offset(offset).limit(limit)).all()
    return list(rows), int(total)


def audit_rows(*, session: Session, workspace: str | None, job_id: str | None = None, agent: str | None = None,
               integration: str | None = None, kind: str | None = None, limit: int = 100) -> list[AuditEvent]:
    """Audit rows, newest first, of a job or of one integration of a workspace."""
    stmt = select(AuditEvent)
    if workspace is not None:
        stmt = stmt.where(AuditEvent.workspace_id == workspace)
    for column, value in ((AuditEvent.job_id, job_id), (AuditEvent.agent, agent),
                          (AuditEvent.integration, integration), (AuditEvent.kind, kind)):
        if value:
            stmt = stmt.where(column == value)
    return list(session.exec(stmt.order_by(col(AuditEvent.id).desc()).limit(limit)).all())


def workers(*, session: Session, include_stopped: bool = False, limit: int = 200) -> list[WorkerProcess]:
    """Worker processes that heartbeated in the last minutes (or every one), latest heartbeat first."""
    stmt = select(WorkerProcess)
    if not include_stopped:
        stmt = stmt.where(WorkerProcess.stopped_at == None,  # noqa: E711
                          col(WorkerProcess.heartbeat_at) >= utcnow() - FORGET_AFTER)
    return list(session.exec(stmt.order_by(col(WorkerProcess.heartbeat_at).desc()).limit(limit)).all())


def is_alive(worker: WorkerProcess, stale_after: timedelta, now: datetime | None = None) -> bool:
    """Whether a worker has not stopped and heartbeated within ``stale_after`` (its jobs' lease)."""
    return worker.stopped_at is None and (now or utcnow()) - worker.heartbeat_at < stale_after


def firings(*, session: Session, schedule_id: str, limit: int = 10) -> list[ScheduleFiring]:
    """A schedule's latest firings, newest first."""
    stmt = select(ScheduleFiring).where(ScheduleFiring.schedule_id == schedule_id)
    return list(session.exec(stmt.order_by(col(ScheduleFiring.fire_at).desc()).limit(limit)).all())
