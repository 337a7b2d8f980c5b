"""A job submission's database work in one transaction, on a plain SQLAlchemy ``Connection``.

The API's hot path (``POST /api/jobs``) runs these in one transaction (:func:`lookup`, then
:func:`insert_job`): Core statements instead of ORM sessions, because the unit of work's flush and
identity map cost more CPU than the inserts themselves at 1,500 submissions/s. The job row carries its
outbox entry (``dispatch_at``) and is inserted together with its ``job.<status>`` event and its audit
row, so a crash never leaves one without the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, literal, null, select
from sqlalchemy.engine import Connection

from workers.store.jobs import DISPATCH_GRACE, new_job_id
from workers.store.models import ApiKey, AuditEvent, Event, IntegrationState, Job

JOBS = Job.__table__  # type: ignore[attr-defined]
STATES = IntegrationState.__table__  # type: ignore[attr-defined]
KEYS = ApiKey.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Lookup:
    """What a submission must know before it inserts: all read in one SELECT."""

    #: The API key is still unrevoked (checked in the transaction, so a cached key is never stale).
    key_live: bool
    #: The integration's status (None: never configured) and which credential fields it has.
    status: str | None
    fields_set: list[str]
    #: The job an earlier request with the same idempotency key created.
    existing: dict[str, Any] | None


def lookup(conn: Connection, *, key_hash: str, workspace: str, agent: str, integration: str,
           idempotency_key: str | None) -> Lookup:
    """Key liveness, integration state and an idempotent earlier job, in one round trip (plus one to
    read that earlier job when there is one)."""
    live = select(literal(1)).where(KEYS.c.key_hash == key_hash, KEYS.c.revoked_at.is_(None)).scalar_subquery()
    mine = (STATES.c.workspace_id == workspace, STATES.c.agent == agent, STATES.c.integration == integration)
    status = select(STATES.c.status).where(*mine).scalar_subquery()
    fields = select(STATES.c.fields_set).where(*mine).scalar_subquery()
    earlier = (select(JOBS.c.id).where(JOBS.c.workspace_id == workspace, JOBS.c.idempotency_key == idempotency_key)
               .scalar_subquery() if idempotency_key else null())
    row = conn.execute(select(live.label("live"), status.label("status"), fields.label("fields"),
                              earlier.label("earlier"))).one()
    existing = read_job(conn, row.earlier) if row.earlier else None
    return Lookup(key_live=row.live is not None, status=row.status, fields_set=list(row.fields or []),
                  existing=existing)


def read_job(conn: Connection, job_id: str) -> dict[str, Any] | None:
    """A job row as a dict of its columns."""
    row = conn.execute(select(JOBS).where(JOBS.c.id == job_id)).mappings().first()
    return dict(row) if row is not None else None


def job_values(*, workspace: str, agent: str, integration: str, action: str, params: dict[str, Any],
               idempotency_key: str | None, run_at: datetime | None, status: str, now: datetime,
               schedule_id: str | None = None) -> dict[str, Any]:
    """Every column of a new job row (``dispatch_at``: its outbox entry, when queued)."""
    return {"id": new_job_id(), "workspace_id": workspace, "agent": agent, "integration": integration,
            "schedule_id": schedule_id,
            "action": action, "kind": "action", "params": params, "status": status, "attempts": 0,
            "idempotency_key": idempotency_key, "run_at": run_at, "created_at": now, "updated_at": now,
            "dispatch_at": now + DISPATCH_GRACE if status == "queued" else None}


def insert_job(conn: Connection, job: dict[str, Any], *, actor: str, outcome: str) -> bool:
    """Insert ``job`` with its event and audit row; False (nothing inserted) when a concurrent request
    with the same idempotency key won the race."""
    stmt = _insert_for(conn)(JOBS).values(**job)
    if job["idempotency_key"] is not None:
        stmt = stmt.on_conflict_do_nothing(index_elements=[JOBS.c.workspace_id, JOBS.c.idempotency_key])
    if conn.execute(stmt.returning(JOBS.c.id)).first() is None:
        return False
    what = {"agent": job["agent"], "integration": job["integration"]}
    conn.execute(insert(Event.__table__).values(  # type: ignore[attr-defined]
        at=job["created_at"], workspace_id=job["workspace_id"], type=f"job.{job['status']}", job_id=job["id"],
        data={**what, "action": job["action"]}))
    conn.execute(insert(AuditEvent.__table__).values(  # type: ignore[attr-defined]
        at=job["created_at"], workspace_id=job["workspace_id"], actor=actor, kind="api", job_id=job["id"],
        action=job["action"], outcome=outcome, **what))
    return True


def _insert_for(conn: Connection) -> Any:
    """The dialect's ``insert`` (it has ``on_conflict_do_nothing``)."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert
