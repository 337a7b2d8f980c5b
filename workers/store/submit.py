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

from sqlalchemy import bindparam, insert, literal, select
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


def _lookup_statement() -> Any:
    """Built once, run with parameters: constructing a statement costs more CPU than running it."""
    live = (select(literal(1)).where(KEYS.c.key_hash == bindparam("key_hash"), KEYS.c.revoked_at.is_(None))
            .scalar_subquery())
    mine = (STATES.c.workspace_id == bindparam("workspace"), STATES.c.agent == bindparam("agent"),
            STATES.c.integration == bindparam("integration"))
    status = select(STATES.c.status).where(*mine).scalar_subquery()
    fields = select(STATES.c.fields_set).where(*mine).scalar_subquery()
    # a NULL idempotency key matches nothing (NULL = NULL is not true)
    earlier = select(JOBS.c.id).where(JOBS.c.workspace_id == bindparam("workspace"),
                                      JOBS.c.idempotency_key == bindparam("idempotency_key")).scalar_subquery()
    return select(live.label("live"), status.label("status"), fields.label("fields"), earlier.label("earlier"))


_LOOKUP = _lookup_statement()
_READ = select(JOBS).where(JOBS.c.id == bindparam("job_id"))


def lookup(conn: Connection, *, key_hash: str, workspace: str, agent: str, integration: str,
           idempotency_key: str | None) -> Lookup:
    """Key liveness, integration state and an idempotent earlier job, in one round trip (plus one to
    read that earlier job when there is one)."""
    row = conn.execute(_LOOKUP, {"key_hash": key_hash, "workspace": workspace, "agent": agent,
                                 "integration": integration, "idempotency_key": idempotency_key}).one()
    existing = read_job(conn, row.earlier) if row.earlier else None
    return Lookup(key_live=row.live is not None, status=row.status, fields_set=list(row.fields or []),
                  existing=existing)


def read_job(conn: Connection, job_id: str) -> dict[str, Any] | None:
    """A job row as a dict of its columns."""
    row = conn.execute(_READ, {"job_id": job_id}).mappings().first()
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
    with the same idempotency key won the race.

    On PostgreSQL the three inserts are one statement (data-modifying CTEs): atomic even on an
    autocommit connection, and one round trip. SQLite runs them one by one in the caller's transaction.
    """
    values = {**job, "actor": actor, "outcome": outcome, "event_type": f"job.{job['status']}",
              "event_data": {"agent": job["agent"], "integration": job["integration"], "action": job["action"]}}
    if conn.dialect.name == "postgresql":
        return conn.execute(_INSERT_ALL_PG, values).first() is not None
    if conn.execute(_INSERT_JOB_SQLITE, values).first() is None:
        return False
    conn.execute(insert(EVENTS).from_select(_EVENT_COLUMNS, _event_row(literal(job["id"]))), values)
    conn.execute(insert(AUDIT).from_select(_AUDIT_COLUMNS, _audit_row(literal(job["id"]))), values)
    return True


EVENTS = Event.__table__  # type: ignore[attr-defined]
AUDIT = AuditEvent.__table__  # type: ignore[attr-defined]
_JOB_COLUMNS = ("id", "workspace_id", "agent", "integration", "action", "kind", "params", "status", "attempts",
                "idempotency_key", "run_at", "schedule_id", "created_at", "updated_at", "dispatch_at")
_EVENT_COLUMNS = ["at", "workspace_id", "type", "job_id", "data"]
_AUDIT_COLUMNS = ["at", "workspace_id", "actor", "kind", "job_id", "agent", "integration", "action", "outcome"]


def _param(name: str, column: Any) -> Any:
    return bindparam(name, type_=column.type)


def _event_row(job_id: Any) -> Any:
    return select(_param("created_at", EVENTS.c.at), _param("workspace_id", EVENTS.c.workspace_id),
                  _param("event_type", EVENTS.c.type), job_id, _param("event_data", EVENTS.c.data))


def _audit_row(job_id: Any) -> Any:
    return select(_param("created_at", AUDIT.c.at), _param("workspace_id", AUDIT.c.workspace_id),
                  _param("actor", AUDIT.c.actor), literal("api"), job_id, _param("agent", AUDIT.c.agent),
                  _param("integration", AUDIT.c.integration), _param("action", AUDIT.c.action),
                  _param("outcome", AUDIT.c.outcome))


def _insert_job(dialect_insert: Any) -> Any:
    """Insert a job unless its idempotency key is taken (NULL keys never conflict), returning its id."""
    return (dialect_insert(JOBS).values({c: _param(c, JOBS.c[c]) for c in _JOB_COLUMNS})
            .on_conflict_do_nothing(index_elements=[JOBS.c.workspace_id, JOBS.c.idempotency_key])
            .returning(JOBS.c.id))


def _insert_all_pg() -> Any:
    """``WITH j AS (INSERT job), e AS (INSERT event FROM j), a AS (INSERT audit FROM j) SELECT id FROM j``."""
    from sqlalchemy.dialects.postgresql import insert as pg_insert

    j = _insert_job(pg_insert).cte("j")
    e = insert(EVENTS).from_select(_EVENT_COLUMNS, _event_row(j.c.id).select_from(j)).cte("e")
    a = insert(AUDIT).from_select(_AUDIT_COLUMNS, _audit_row(j.c.id).select_from(j)).cte("a")
    return select(j.c.id).add_cte(e).add_cte(a)


def _insert_job_sqlite() -> Any:
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return _insert_job(sqlite_insert)


# built once, run with parameters: constructing a statement costs more CPU than running it
_INSERT_ALL_PG = _insert_all_pg()
_INSERT_JOB_SQLITE = _insert_job_sqlite()
