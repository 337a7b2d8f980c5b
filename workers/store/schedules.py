"""Schedule rows: create, read, update, pause and resume, and the jobs each one produced."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from typing import TYPE_CHECKING

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Connection

from workers.store import events
from workers.store.tables import SCHEDULES, utcnow

if TYPE_CHECKING:
    from sqlmodel import Session

    from workers.store.models import Job, Schedule

# The ORM is imported where it is used: a worker process pauses schedules (:func:`pause_for_integration`, Core)
# and goes without the ORM (issue 12; :mod:`workers.store.tables`).


def create_schedule(*, session: Session, workspace: str, values: dict[str, Any], next_fire_at: datetime) -> Schedule:
    """Insert an active schedule."""
    from workers.store.models import Schedule

    now = utcnow()
    row = Schedule(id=uuid.uuid4().hex, workspace_id=workspace, status="active", next_fire_at=next_fire_at,
                   created_at=now, updated_at=now, **values)
    session.add(row)
    session.commit()
    return row


def get_schedule(*, session: Session, workspace: str, schedule_id: str) -> Schedule | None:
    """A workspace's schedule, or None."""
    from workers.store.models import Schedule

    row = session.get(Schedule, schedule_id)
    return row if row is not None and row.workspace_id == workspace else None


def list_schedules(*, session: Session, workspace: str, limit: int = 500) -> list[Schedule]:
    """A workspace's schedules, oldest first."""
    from sqlmodel import col, select

    from workers.store.models import Schedule

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
    from sqlmodel import col

    from workers.store.models import ScheduleFiring

    session.execute(delete(ScheduleFiring).where(col(ScheduleFiring.schedule_id) == row.id)
                    .execution_options(synchronize_session=False))
    session.delete(row)
    session.commit()


def pause_for_integration(conn: Connection, *, workspace: str, agent: str, integration: str, reason: str) -> int:
    """Pause the active schedules of one integration (a disconnect, a revoked grant), each with its
    ``schedule.paused`` event, in ``conn``'s transaction (the caller commits); return how many.

    Core statements: a worker process runs this too (a provider's refusal) and goes without the ORM
    (issue 12). A session's caller passes ``session.connection()`` once its pending changes are flushed.
    """
    c = SCHEDULES.c
    paused = 0
    ids = conn.execute(select(c.id).where(c.workspace_id == workspace, c.agent == agent, c.integration == integration,
                                          c.status == "active")).scalars().all()
    for schedule_id in ids:
        result: Any = conn.execute(update(SCHEDULES).where(c.id == schedule_id, c.status == "active")
                                   .values(status="paused", paused_reason=reason, updated_at=utcnow()))
        if result.rowcount:
            paused += 1
            paused_event(conn, workspace=workspace, schedule_id=schedule_id, reason=reason)
    return paused


def paused_event(session: Session | Connection, *, workspace: str, schedule_id: str, reason: str) -> None:
    """Record that a schedule was paused (webhook ``schedule.paused``); the caller commits."""
    events.record(session, workspace=workspace, type="schedule.paused",
                  data={"schedule_id": schedule_id, "reason": reason})


def produced_jobs(*, session: Session, schedule_id: str, limit: int = 50) -> list[Job]:
    """The newest jobs a schedule produced."""
    from sqlmodel import col, select

    from workers.store.models import Job

    stmt = select(Job).where(Job.schedule_id == schedule_id).order_by(col(Job.run_at).desc()).limit(limit)
    return list(session.exec(stmt).all())
