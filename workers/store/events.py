"""The event log: each job state change and integration change, in order, in the same transaction.

It is the job's status timeline, the feed of the live stream and the source of webhooks. Types:
``job.queued``, ``job.running``, ``job.retrying``, ``job.succeeded``, ``job.failed``, ``job.cancelled``,
``job.progress``, ``integration.connected``, ``integration.error``, ``integration.disconnected``,
``schedule.paused``. ``integration.error`` carries ``status`` (``error`` or ``needs_reconnect``, then
also ``reason``: the provider's words). ``data`` never holds a secret (messages are redacted first).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import insert
from sqlalchemy.engine import Connection

from workers.store.tables import EVENTS, utcnow

if TYPE_CHECKING:
    from sqlmodel import Session

    from workers.store.models import Event


def record(session: Session | Connection, *, workspace: str, type: str, job_id: str | None = None,
           data: dict[str, Any] | None = None) -> None:
    """Append one event; the caller's transaction commits it with the change it describes.

    On a session, an ORM object flushed with the rest; on a connection (a worker's own statements, without
    the ORM: :mod:`workers.store.tables`), a Core insert run at once.
    """
    values: dict[str, Any] = {"at": utcnow(), "workspace_id": workspace, "type": type, "job_id": job_id, "data": data}
    if isinstance(session, Connection):
        session.execute(insert(EVENTS).values(**values))
        return
    from workers.store.models import Event

    session.add(Event(**values))


def since(session: Session, *, workspace: str | None, after_id: int = 0, job_id: str | None = None,
          limit: int = 500) -> list[Event]:
    """Events after ``after_id``, oldest first (``workspace=None``: every workspace, for operators)."""
    from sqlmodel import col, select

    from workers.store.models import Event

    stmt = select(Event).where(col(Event.id) > after_id)
    if workspace is not None:
        stmt = stmt.where(Event.workspace_id == workspace)
    if job_id is not None:
        stmt = stmt.where(Event.job_id == job_id)
    return list(session.exec(stmt.order_by(col(Event.id)).limit(limit)).all())
