"""A job attempt's two writes: start it, and record its outcome; each one statement on PostgreSQL.

The worker's hot path (issue 12): a job that runs once costs two database round trips, not ten.

- :func:`start` moves a waiting, due job to ``running`` on this worker, appends its ``job.running`` event
  and reads the integration's state: on PostgreSQL one statement (an ``UPDATE ... RETURNING`` and an
  ``INSERT`` as data-modifying CTEs, joined to the state row), so it is atomic even without an explicit
  transaction. A message for a job that is not waiting or not due changes nothing (duplicates are normal).
- :func:`finish` writes the attempt's outcome on a job this worker still owns, its ``job.<status>`` event
  and the attempt's buffered audit rows (written whether or not the job is still ours: the calls
  happened), again one statement on PostgreSQL.

SQLite runs the same parts one by one in the caller's transaction. Statements are Core, built once per
shape and cached: the ORM's unit of work and identity map cost more CPU than the statements themselves,
and building a statement costs more than running it. Column types stay the tables' own, so results,
errors and audit details are scrubbed of registered secrets exactly as an ORM write would be.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any, NamedTuple, cast

from sqlalchemy import and_, bindparam, func, insert, literal, or_, select, union_all, update
from sqlalchemy.engine import Connection

from workers.store.models import AuditEvent, Event, IntegrationState, Job

JOBS = Job.__table__  # type: ignore[attr-defined]
STATES = IntegrationState.__table__  # type: ignore[attr-defined]
EVENTS = Event.__table__  # type: ignore[attr-defined]
AUDIT = AuditEvent.__table__  # type: ignore[attr-defined]

#: The integration state's columns the runner reads (prefixed ``state_`` in the start statement's row).
STATE_COLUMNS = ("status", "vault_version", "message", "disconnected_at")
#: Audit columns an attempt writes for each provider call.
AUDIT_COLUMNS = ("at", "workspace_id", "actor", "kind", "job_id", "agent", "integration", "action", "method",
                 "path", "status", "duration_ms", "outcome", "detail")
#: Most audit rows written by one statement (an attempt with more calls writes several).
AUDIT_BATCH = 32


def _p(name: str, column: Any) -> Any:
    """A bind parameter typed as ``column`` (so its type's bind processing, e.g. scrubbing, applies)."""
    return bindparam(name, type_=column.type)


def _claim() -> Any:
    """``UPDATE jobs SET status = 'running' ... WHERE <waiting and due> RETURNING jobs.*``."""
    due = or_(JOBS.c.not_before.is_(None), JOBS.c.not_before <= _p("now", JOBS.c.not_before))
    return (update(JOBS)
            .where(JOBS.c.id == bindparam("job_id"), JOBS.c.workspace_id == bindparam("workspace"),
                   # not ``in_()``: its expanding parameter is re-rendered on every execution
                   or_(JOBS.c.status == "queued", JOBS.c.status == "retrying"), due)
            .values(status="running", attempts=JOBS.c.attempts + 1, started_at=_p("now", JOBS.c.started_at),
                    updated_at=_p("now", JOBS.c.updated_at), worker_id=bindparam("w_id"),
                    lease_expires_at=_p("lease_until", JOBS.c.lease_expires_at), dispatch_at=None)
            .returning(*JOBS.c))


def _state_of(job: Any) -> Any:
    return and_(STATES.c.workspace_id == job.c.workspace_id, STATES.c.agent == job.c.agent,
                STATES.c.integration == job.c.integration)


def _state_labels(table: Any = STATES) -> list[Any]:
    return [table.c[c].label(f"state_{c}") for c in STATE_COLUMNS]


@cache
def _start_pg() -> Any:
    """``WITH j AS (UPDATE ... RETURNING *), e AS (INSERT event FROM j) SELECT j.*, state FROM j LEFT JOIN``."""
    j = _claim().cte("j")
    data = func.json_build_object("attempt", j.c.attempts, "worker", bindparam("w_id"))
    e = insert(EVENTS).from_select(["at", "workspace_id", "type", "job_id", "data"],
                                   select(_p("now", EVENTS.c.at), j.c.workspace_id, literal("job.running"), j.c.id,
                                          data).select_from(j)).cte("e")
    return (select(j, *_state_labels()).select_from(j.outerjoin(STATES, _state_of(j))).add_cte(e))


@cache
def _state_select() -> Any:
    return select(*_state_labels()).where(STATES.c.workspace_id == bindparam("workspace"),
                                          STATES.c.agent == bindparam("agent"),
                                          STATES.c.integration == bindparam("integration"))


_READ = select(JOBS).where(JOBS.c.id == bindparam("job_id"), JOBS.c.workspace_id == bindparam("workspace"))


_JOB_KEYS = tuple(c.key for c in JOBS.c)


class StateRow(NamedTuple):
    """What the runner reads of an integration's state."""

    status: str
    vault_version: int | None
    message: str | None
    disconnected_at: datetime | None


class JobRow:
    """A job row read by :func:`start`: a plain object with the :class:`Job` model's attributes.

    Not a ``Job`` instance: building a SQLModel instance runs pydantic's defaults field by field (it
    inspects signatures), a tenth of a job's CPU on the hot path. The runner only reads these attributes.
    """

    __slots__ = _JOB_KEYS

    def __init__(self, row: Any) -> None:
        for key in _JOB_KEYS:
            setattr(self, key, row[key])


def _job(row: Any) -> Job:
    return cast(Job, JobRow(row))


def _state(row: Any) -> StateRow | None:
    if row is None or row["state_status"] is None:
        return None
    return StateRow(*(row[f"state_{c}"] for c in STATE_COLUMNS))


def start(conn: Connection, *, job_id: str, workspace: str, worker_id: str, now: datetime,
          lease_until: datetime) -> tuple[Job | None, StateRow | None, bool]:
    """Start the job if it is waiting and due: ``(job, its integration's state, True)``.

    Otherwise ``(job as it is, None, False)``, or ``(None, None, False)`` when there is no such job in that
    workspace. A workflow job's state is None (it calls no provider). The caller commits.
    """
    params = {"job_id": job_id, "workspace": workspace, "w_id": worker_id, "now": now, "lease_until": lease_until}
    row: Any
    if conn.dialect.name == "postgresql":
        row = conn.execute(_start_pg(), params).mappings().first()
    else:
        row = conn.execute(_claim(), params).mappings().first()
        if row is not None:
            conn.execute(insert(EVENTS), {"at": now, "workspace_id": workspace, "type": "job.running",
                                          "job_id": job_id, "data": {"attempt": row["attempts"], "worker": worker_id}})
            state = conn.execute(_state_select(), {"workspace": workspace, "agent": row["agent"],
                                                   "integration": row["integration"]}).mappings().first()
            row = {**row, **(state or {f"state_{c}": None for c in STATE_COLUMNS})}
    if row is None:
        other = conn.execute(_READ, {"job_id": job_id, "workspace": workspace}).mappings().first()
        return (None if other is None else _job(other)), None, False
    job = _job(row)
    return job, (None if job.kind == "workflow" else _state(row)), True


@cache
def _finish_statement(keys: tuple[str, ...], audit_rows: int, pg: bool) -> tuple[Any, Any, Any]:
    """(update the owned job, insert its event, insert ``audit_rows`` audit rows); on PostgreSQL the three
    are one statement (the first element; the others None) returning how many jobs were updated."""
    set_values = {k: _p(f"v_{k}", JOBS.c[k]) for k in keys}
    u = (update(JOBS).where(JOBS.c.id == bindparam("job_id"), JOBS.c.status == "running",
                            JOBS.c.worker_id == bindparam("w_id"))
         .values(**set_values, worker_id=None, lease_expires_at=None, updated_at=_p("now", JOBS.c.updated_at)))
    event_row = [_p("now", EVENTS.c.at), None, bindparam("ev_type"), None, _p("ev_data", EVENTS.c.data)]
    # INSERT ... SELECT, not a multi-row VALUES: SQLAlchemy caches the compiled form only of the former
    rows = [select(*(_p(f"a{i}_{c}", AUDIT.c[c]) for c in AUDIT_COLUMNS)) for i in range(audit_rows)]
    audit = insert(AUDIT).from_select(AUDIT_COLUMNS, rows[0] if len(rows) == 1 else union_all(*rows)) \
        if rows else None
    columns = ["at", "workspace_id", "type", "job_id", "data"]
    if not pg:
        event_row[1], event_row[3] = bindparam("workspace"), bindparam("job_id")
        return u, insert(EVENTS).from_select(columns, select(*event_row)), audit
    owned = u.returning(JOBS.c.id, JOBS.c.workspace_id).cte("u")
    event_row[1], event_row[3] = owned.c.workspace_id, owned.c.id
    e = insert(EVENTS).from_select(columns, select(*event_row).select_from(owned)).cte("e")
    stmt = select(func.count()).select_from(owned).add_cte(e)
    if audit is not None:
        stmt = stmt.add_cte(audit.cte("a"))
    return stmt, None, None


def audit_row(**values: Any) -> dict[str, Any]:
    """One provider-call audit row with every column :func:`finish` writes (missing ones None)."""
    return {c: values.get(c) for c in AUDIT_COLUMNS}


def finish(conn: Connection, *, job_id: str, workspace: str, worker_id: str, now: datetime,
           values: dict[str, Any], event_type: str, event_data: dict[str, Any],
           audit: list[dict[str, Any]]) -> bool:
    """Record the attempt's outcome ``values`` if this worker still owns the job (with its event), and
    the attempt's audit rows either way; whether the job was still ours. The caller commits."""
    keys = tuple(sorted(values))
    params: dict[str, Any] = {"job_id": job_id, "workspace": workspace, "w_id": worker_id, "now": now,
                              "ev_type": event_type, "ev_data": event_data,
                              **{f"v_{k}": v for k, v in values.items()}}
    batches = [audit[i:i + AUDIT_BATCH] for i in range(0, len(audit), AUDIT_BATCH)] or [[]]
    first, rest = batches[0], batches[1:]
    for i, row in enumerate(first):
        params.update({f"a{i}_{c}": row[c] for c in AUDIT_COLUMNS})
    pg = conn.dialect.name == "postgresql"
    update_stmt, event_stmt, audit_stmt = _finish_statement(keys, len(first), pg)
    if pg:
        owned = bool(conn.execute(update_stmt, params).scalar())
    else:
        owned = bool(conn.execute(update_stmt, params).rowcount)
        if owned:
            conn.execute(event_stmt, params)
        if audit_stmt is not None:
            conn.execute(audit_stmt, params)
    for batch in rest:
        stmt = _finish_statement((), len(batch), False)[2]
        conn.execute(stmt, {f"a{i}_{c}": row[c] for i, row in enumerate(batch) for c in AUDIT_COLUMNS})
    return owned
