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

import json
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any, NamedTuple, cast

from sqlalchemy import and_, bindparam, func, insert, literal, or_, select, text, union_all, update
from sqlalchemy.engine import Connection

from config.logging import scrub_secrets
from workers.batching import ALONE, GroupCommit  # noqa: F401 - GroupCommit: the runner's batches
from workers.store.tables import AUDIT_EVENTS as AUDIT
from workers.store.tables import EVENTS, JOBS
from workers.store.tables import INTEGRATIONS as STATES

if TYPE_CHECKING:
    from workers.store.models import Job

#: The integration state's columns the runner reads (prefixed ``state_`` in the start statement's row).
STATE_COLUMNS = ("status", "vault_version", "message", "disconnected_at", "configured_at")
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
    #: When the credentials were last configured: with ``vault_version``, which credentials these are (a
    #: disconnect deletes the Vault secret with its versions, so the next configure's version is 1 again).
    configured_at: datetime | None


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
    return cast("Job", JobRow(row))


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


# --- group commit (PostgreSQL): the starts, and the outcomes, that arrive while one is being written ---
# Under gevent a worker process has hundreds of jobs in flight: one statement per start and per outcome
# cost 45 % of its CPU at 256 in flight (a pool checkout, SQLAlchemy's execution context and psycopg's
# query conversion each time, and one PostgreSQL commit each). Jobs that arrive while a batch is being
# written share the next one: plain SQL (starts over two arrays, outcomes over JSON documents; one fixed
# text whatever the batch size, so PostgreSQL prepares it once), one round trip and one commit for the
# batch, each job answered only from its own row. A batch that fails leaves every member to run its own
# statement (see :class:`GroupCommit`).


_JOB_LIST = ", ".join(f"jobs.{c.name}" for c in JOBS.c)
_STATE_LIST = ", ".join(f"s.{c} AS state_{c}" for c in STATE_COLUMNS)

_START_MANY_PG = text(f"""
WITH r AS (SELECT * FROM unnest(CAST(:ids AS text[]), CAST(:workspaces AS text[])) AS r(id, workspace_id)),
j AS (
  UPDATE jobs SET status = 'running', attempts = jobs.attempts + 1, started_at = :now, updated_at = :now,
         worker_id = CAST(:w_id AS text), lease_expires_at = :lease_until, dispatch_at = NULL
  FROM r WHERE jobs.id = r.id AND jobs.workspace_id = r.workspace_id
    AND (jobs.status = 'queued' OR jobs.status = 'retrying') AND (jobs.not_before IS NULL OR jobs.not_before <= :now)
  RETURNING {_JOB_LIST}
), e AS (
  INSERT INTO events (at, workspace_id, type, job_id, data)
  SELECT :now, j.workspace_id, 'job.running', j.id,
         json_build_object('attempt', j.attempts, 'worker', CAST(:w_id AS text))
  FROM j
)
SELECT j.*, {_STATE_LIST}
FROM j LEFT JOIN integrations s
  ON s.workspace_id = j.workspace_id AND s.agent = j.agent AND s.integration = j.integration
""").columns(*JOBS.c, *_state_labels())


def start_many(conn: Connection, jobs: list[tuple[str, str]], *, worker_id: str, now: datetime,
               lease_until: datetime) -> list[Any]:
    """:func:`start` for many ``(job_id, workspace)`` in one statement (PostgreSQL, autocommit); in order,
    each one's ``(job, state, True)`` when it started, else :data:`ALONE` (not waiting, not due, unknown,
    or asked twice in the batch: :func:`start` then says which, reading the row as it does)."""
    rows = conn.execute(_START_MANY_PG, {"ids": [j for j, _ in jobs], "workspaces": [w for _, w in jobs],
                                         "w_id": worker_id, "now": now, "lease_until": lease_until}).mappings()
    started = {row["id"]: row for row in rows}
    out: list[Any] = []
    for job_id, _ in jobs:
        row = started.pop(job_id, None)  # a second message for the job in this batch runs alone: skipped
        if row is None:
            out.append(ALONE)
            continue
        job = _job(row)
        out.append((job, None if job.kind == "workflow" else _state(row), True))
    return out


#: The outcome columns a batched finish may set, with their SQL types; any other runs alone.
_FINISH_KEYS = (("status", "text"), ("attempt_log", "json"), ("rate_limited_since", "timestamptz"),
                ("result", "json"), ("error", "json"), ("finished_at", "timestamptz"), ("not_before", "timestamptz"),
                ("dispatch_at", "timestamptz"))
_FINISH_TYPES = dict(_FINISH_KEYS)
_AUDIT_TYPES = {"at": "timestamptz", "status": "int", "duration_ms": "float8", "detail": "json"}

def _null(name: str, sql_type: str, row: str) -> str:
    """A column of a recordset row; a JSON null as the JSON ``null`` the one-job statement writes (not SQL NULL)."""
    return f"COALESCE({row}.{name}, 'null'::json)" if sql_type == "json" else f"{row}.{name}"


# The batch travels as two JSON documents (one row per job, one per audit row) read by json_to_recordset:
# psycopg dumps a Python list as an array element by element in Python (a tenth of the worker's CPU with
# 30 arrays), while each job's row is one C-speed json.dumps in its own thread. JSON values stay ``json``
# (not jsonb, which would reorder a result's keys), written as the text given.
_FINISH_MANY_PG = text(f"""
WITH v AS (
  SELECT * FROM json_to_recordset(CAST(:outcomes AS json))
  AS v(id text, now timestamptz, ev_type text, ev_data json,
       {", ".join(f"set_{k} bool, {k} {t}" for k, t in _FINISH_KEYS)})
), u AS (
  UPDATE jobs SET {", ".join(f"{k} = CASE WHEN v.set_{k} THEN {_null(k, t, 'v')} ELSE jobs.{k} END"
                             for k, t in _FINISH_KEYS)},
         worker_id = NULL, lease_expires_at = NULL, updated_at = v.now
  FROM v WHERE jobs.id = v.id AND jobs.status = 'running' AND jobs.worker_id = CAST(:w_id AS text)
  RETURNING jobs.id, jobs.workspace_id
), e AS (
  INSERT INTO events (at, workspace_id, type, job_id, data)
  SELECT v.now, u.workspace_id, v.ev_type, u.id, v.ev_data FROM u JOIN v ON v.id = u.id
), a AS (
  INSERT INTO audit_events ({", ".join(AUDIT_COLUMNS)})
  SELECT {", ".join(_null(c, _AUDIT_TYPES.get(c, "text"), "r") for c in AUDIT_COLUMNS)}
  FROM json_to_recordset(CAST(:audit AS json))
  AS r({", ".join(f"{c} {_AUDIT_TYPES.get(c, 'text')}" for c in AUDIT_COLUMNS)})
)
SELECT id FROM u
""")


def _field(value: Any, sql_type: str) -> Any:
    """A value as its JSON document carries it: JSON columns scrubbed as
    :class:`~workers.store.models.ScrubbedJSON` writes them, timestamps in ISO 8601 with their zone."""
    if sql_type == "json":
        return scrub_secrets(value)
    if sql_type == "timestamptz" and value is not None:
        if value.tzinfo is None:  # as UTCDateTime refuses it
            raise ValueError("naive datetime stored: use timezone-aware UTC datetimes")
        return value.isoformat()
    return value


class Outcome(NamedTuple):
    """One job's :func:`finish`, serialised for :func:`finish_many` (by :func:`outcome`, in the job's own
    thread: an error in its values stays its own)."""

    job_id: str
    #: The job's row of the batch's outcome document, and its audit rows (JSON objects, comma-separated).
    row: str
    audit: str


def outcome(*, job_id: str, now: datetime, values: dict[str, Any], event_type: str, event_data: dict[str, Any],
            audit: list[dict[str, Any]]) -> Outcome | None:
    """:func:`finish`'s arguments ready for a batch, or None when its values need the one-job statement."""
    if not values.keys() <= _FINISH_TYPES.keys():
        return None
    row: dict[str, Any] = {"id": job_id, "now": _field(now, "timestamptz"), "ev_type": event_type,
                           "ev_data": scrub_secrets(event_data)}
    for k, v in values.items():
        row[f"set_{k}"] = True
        row[k] = _field(v, _FINISH_TYPES[k])
    return Outcome(job_id, json.dumps(row), ",".join(
        json.dumps({c: _field(r[c], _AUDIT_TYPES.get(c, "text")) for c in AUDIT_COLUMNS}) for r in audit))


def finish_many(conn: Connection, outcomes: list[Outcome], *, worker_id: str) -> list[Any]:
    """:func:`finish` for many jobs in one statement (PostgreSQL, autocommit); in order, whether each job was
    still this worker's (:data:`ALONE` for a job named twice in the batch: it runs alone after)."""
    firsts: dict[str, int] = {}  # job id -> position of its first outcome in the batch
    for i, o in enumerate(outcomes):
        firsts.setdefault(o.job_id, i)
    batch = [outcomes[i] for i in firsts.values()]
    params = {"outcomes": f"[{','.join(o.row for o in batch)}]",
              "audit": f"[{','.join(o.audit for o in batch if o.audit)}]", "w_id": worker_id}
    owned = {r[0] for r in conn.execute(_FINISH_MANY_PG, params)}
    return [(o.job_id in owned) if firsts[o.job_id] == i else ALONE for i, o in enumerate(outcomes)]
