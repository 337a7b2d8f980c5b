"""A job submission's database work in one transaction, on a plain SQLAlchemy ``Connection``.

The API's hot path (``POST /api/jobs``) runs these in one transaction (:func:`lookup`, then
:func:`insert_job`): Core statements instead of ORM sessions, because the unit of work's flush and
identity map cost more CPU than the inserts themselves at 1,500 submissions/s. The job row carries its
outbox entry (``dispatch_at``) and is inserted together with its ``job.<status>`` event and its audit
row, so a crash never leaves one without the others.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, case, insert, literal, select
from sqlalchemy.engine import Connection

from config.logging import scrub_secrets
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
    # a NULL idempotency key matches nothing (NULL = NULL is not true), and is not looked up at all: see
    # :data:`_LOOKUP_MANY_PG`
    idem = bindparam("idempotency_key", type_=JOBS.c.idempotency_key.type)
    earlier = case((idem.is_not(None), select(JOBS.c.id).where(
        JOBS.c.workspace_id == bindparam("workspace"),
        JOBS.c.idempotency_key == idem).scalar_subquery()))
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


# --- group commit (PostgreSQL): many submissions' lookups in one statement, their inserts in another ---
# Plain SQL over one JSON parameter (an array of rows, each an array of values): one fixed text whatever
# the batch size, so PostgreSQL prepares it once and no SQLAlchemy statement is compiled per batch. Why
# JSON and not one array parameter per column (``unnest``): psycopg dumps an array element by element in
# Python (escaping each with a regex), which profiling showed as the largest cost of a group commit;
# ``json.dumps`` writes the whole batch in C.
#
# The rows are read through :func:`json_rows`, not ``json_array_elements`` directly: PostgreSQL estimates a
# set-returning function over a parameter at 100 rows, and at that estimate it joined the outbox clear's
# ``UPDATE jobs ... FROM`` the batch by a hash join over a sequential scan of ``jobs`` (EXPLAIN ANALYZE with a
# generic plan, 6,000 jobs: 2.4 ms, growing with the table, against 0.1 ms by the primary key). ``unnest`` of a
# non-constant array is estimated at 10 rows (a batch's size), so every statement keeps its index plans. (The
# rest of the first JSON variant's halved submissions/s was the lookup's idempotency subquery: see below.)


def json_rows(param: str) -> str:
    """SQL for the elements of the JSON array parameter ``param`` as a set, in order, estimated at 10 rows
    (see above; ``WITH ORDINALITY`` after it numbers them in the array's order)."""
    return f"unnest(ARRAY(SELECT e FROM json_array_elements(%({param})s::json) WITH ORDINALITY AS t(e, i) ORDER BY i))"


# ``CASE WHEN r.idem IS NOT NULL``: a submission without an idempotency key (most) skips the jobs subquery.
# Measured (bench/api_cpu.py, auto_explain): the prepared statement's generic plan, made while ``jobs`` was
# nearly empty, read it by ``ix_jobs_workspace_id`` and filtered on the key, so every submission scanned all
# of its workspace's jobs, NULL key included: the lookup took 4.4 ms per batch (arrays) to 15.9 ms (JSON) and
# grew with the table, most of PostgreSQL's CPU per submission.
_LOOKUP_MANY_PG = f"""
SELECT (SELECT 1 FROM api_keys k WHERE k.key_hash = r.key_hash AND k.revoked_at IS NULL) AS live,
       s.status, s.fields_set,
       CASE WHEN r.idem IS NOT NULL THEN
         (SELECT j.id FROM jobs j WHERE j.workspace_id = r.workspace AND j.idempotency_key = r.idem) END AS earlier
FROM (SELECT x->>0 AS key_hash, x->>1 AS workspace, x->>2 AS agent, x->>3 AS integration, x->>4 AS idem, n
      FROM {json_rows("asks")} WITH ORDINALITY AS a(x, n)) AS r
LEFT JOIN integrations s ON s.workspace_id = r.workspace AND s.agent = r.agent AND s.integration = r.integration
ORDER BY r.n
"""

#: (value, its SQL type) of each submission's row in :data:`_INSERT_MANY_PG`, in order; ``json`` values are
#: embedded as JSON (``e->i`` keeps their text as written), the others travel as JSON strings or numbers.
_MANY_COLUMNS = (("id", "text"), ("workspace_id", "text"), ("agent", "text"), ("integration", "text"),
                 ("action", "text"), ("kind", "text"), ("params", "json"), ("status", "text"), ("attempts", "int"),
                 ("idempotency_key", "text"), ("run_at", "timestamptz"), ("schedule_id", "text"),
                 ("created_at", "timestamptz"), ("updated_at", "timestamptz"), ("dispatch_at", "timestamptz"),
                 ("actor", "text"), ("outcome", "text"), ("event_data", "json"))
_TIMES = frozenset(c for c, t in _MANY_COLUMNS if t == "timestamptz")


assert tuple(c for c, _ in _MANY_COLUMNS[:len(_JOB_COLUMNS)]) == _JOB_COLUMNS  # a row starts with the job's columns


def _column(i: int, name: str, sql_type: str) -> str:
    if sql_type == "json":
        return f"x->{i} AS {name}"
    return f"x->>{i} AS {name}" if sql_type == "text" else f"(x->>{i})::{sql_type} AS {name}"


_INSERT_MANY_PG = f"""
WITH v AS (
  SELECT {", ".join(_column(i, c, t) for i, (c, t) in enumerate(_MANY_COLUMNS))}
  FROM {json_rows("rows")} AS x
), j AS (
  INSERT INTO jobs ({", ".join(_JOB_COLUMNS)})
  SELECT {", ".join(_JOB_COLUMNS)} FROM v
  ON CONFLICT (workspace_id, idempotency_key) DO NOTHING RETURNING id
), e AS (
  INSERT INTO events (at, workspace_id, type, job_id, data)
  SELECT v.created_at, v.workspace_id, 'job.' || v.status, v.id, v.event_data FROM v JOIN j ON j.id = v.id
), a AS (
  INSERT INTO audit_events (at, workspace_id, actor, kind, job_id, agent, integration, action, outcome)
  SELECT v.created_at, v.workspace_id, v.actor, 'api', v.id, v.agent, v.integration, v.action, v.outcome
  FROM v JOIN j ON j.id = v.id
)
SELECT id FROM j
"""


def timestamp(value: datetime | None) -> str | None:
    """A timezone-aware time as PostgreSQL reads it back exactly (ISO 8601 with its offset, microseconds)."""
    return None if value is None else value.isoformat()


@dataclass(frozen=True)
class Ask:
    """What :func:`lookup_many` is asked for one submission (as :func:`lookup`'s arguments)."""

    key_hash: str
    workspace: str
    agent: str
    integration: str
    idempotency_key: str | None


def lookup_many(conn: Connection, asks: list[Ask]) -> list[Lookup]:
    """:func:`lookup` for many submissions in one round trip (PostgreSQL only), in the same order."""
    rows = conn.exec_driver_sql(_LOOKUP_MANY_PG, {"asks": json.dumps(
        [(a.key_hash, a.workspace, a.agent, a.integration, a.idempotency_key) for a in asks])}).all()
    return [Lookup(key_live=live is not None, status=status, fields_set=list(fields or []),
                   existing=read_job(conn, earlier) if earlier else None)
            for live, status, fields, earlier in rows]


def insert_jobs(conn: Connection, rows: list[tuple[dict[str, Any], str, str]]) -> set[str]:
    """:func:`insert_job` for many ``(job, actor, outcome)`` in one statement (PostgreSQL only); return the
    ids inserted (a job missing lost its idempotency key to a concurrent request, or to one in this batch)."""
    if not rows:
        return set()
    values = []
    for job, actor, outcome in rows:
        row: list[Any] = [timestamp(job[c]) if c in _TIMES else job[c] for c in _JOB_COLUMNS]
        row += [actor, outcome, scrub_secrets({"agent": job["agent"], "integration": job["integration"],
                                               "action": job["action"]})]
        values.append(row)
    return {r[0] for r in conn.exec_driver_sql(_INSERT_MANY_PG, {"rows": json.dumps(values)}).all()}
