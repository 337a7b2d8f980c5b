"""Schedule rows: create, read, update, pause and resume, and the jobs each one produced."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from workers.store import events
from workers.store.models import Job, Schedule, ScheduleFiring, utcnow


def create_schedule(*, session: Session, workspace: str, values: dict[str, Any], next_fire_at: datetime) -> Schedule:
    """Insert an active schedule."""
    now = utcnow()
    row = Schedule(id=uuid.uuid4().hex, workspace_id=workspace, status="active", next_fire_at=next_fire_at,
                   created_at=now, updated_at=now, **values)
    session.add(row)
    session.commit()
    return row


def get_schedule(*, session: Session, workspace: str, schedule_id: str) -> Schedule | None:
    """A workspace's schedule, or None."""
    row = session.get(Schedule, schedule_id)
    return row if row is not None and row.workspace_id == workspace else None


def list_schedules(*, session: Session, workspace: str, limit: int = 500) -> list[Schedule]:
    """A workspace's schedules, oldest first."""
    stmt = select(Schedule).where(Schedule.workspace_id == workspace).order_by(col(Schedule.created_at))
    return list(session.exec(stmt.limit(limit)).all())


def save(*, session: Session, row: Schedule, **changes: Any) -> Schedule:
    """Apply ``changes`` and commit."""
    for name, value in changes.items():
        setattr(row, name, value)
    row.updated_at = utcnow()
    session.add(row)
    session.commit()
    return row


def delete_schedule(*, session: Session, row: Schedule) -> None:
    """Delete a schedule and its firing records (the jobs it produced stay)."""
    session.execute(delete(ScheduleFiring).where(col(ScheduleFiring.schedule_id) == row.id)
                    .execution_options(synchronize_session=False))
    session.delete(row)
    session.commit()


def pause_for_integration(*, session: Session, workspace: str, agent: str, integration: str, reason: str) -> int:
    """Pause the active schedules of one integration (disconnect), with a ``schedule.paused`` event each."""
    paused = 0
    stmt = select(Schedule.id).where(col(Schedule.workspace_id) == workspace, col(Schedule.agent) == agent,
                                     col(Schedule.integration) == integration, col(Schedule.status) == "active")
    for schedule_id in list(session.exec(stmt).all()):
        result = session.exec(update(Schedule).where(col(Schedule.id) == schedule_id,
                                                     col(Schedule.status) == "active")
                              .values(status="paused", paused_reason=reason, updated_at=utcnow()))
        if result.rowcount:
            paused += 1
            paused_event(session, workspace=workspace, schedule_id=schedule_id, reason=reason)
    return paused


def paused_event(session: Session, *, workspace: str, schedule_id: str, reason: str) -> None:
    """Record that a schedule was paused (webhook ``schedule.paused``); the caller commits."""
    events.record(session, workspace=workspace, type="schedule.paused",
                  data={"schedule_id": schedule_id, "reason": reason})


def produced_jobs(*, session: Session, schedule_id: str, limit: int = 50) -> list[Job]:
    """The newest jobs a schedule produced."""
    stmt = select(Job).where(Job.schedule_id == schedule_id).order_by(col(Job.run_at).desc()).limit(limit)
    return list(session.exec(stmt).all())
