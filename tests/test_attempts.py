"""The worker's two writes per attempt (workers/store/attempts.py), on SQLite and PostgreSQL.

Start moves only a waiting, due job, with its event and its integration's state; finish writes the
outcome only on a job this worker still owns, with its event, and every audit row either way.
"""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, col, select

from config.messages import JobCreate
from workers.store import attempts
from workers.store import jobs as job_store
from workers.store.db import atomic, build_engine, migrate, session_scope
from workers.store.integrations import upsert_state
from workers.store.keys import create_key
from workers.store.models import AuditEvent, Event, Job, utcnow


def _setup(url: str) -> tuple[object, str]:
    migrate(url)
    engine = build_engine(url)
    with session_scope(engine) as s:
        create_key(session=s, workspace="w")
        upsert_state(session=s, workspace="w", agent="emmie", integration="mailchimp", status="connected",
                     message="ok")
        job, _ = job_store.create_job(session=s, workspace="w", req=JobCreate(
            agent="emmie", integration="mailchimp", action="list_campaigns", params={"limit": 3}))
    return engine, job.id


def _start(engine: object, job_id: str, workspace: str = "w", worker: str = "wk1") -> tuple:
    now = utcnow()
    return atomic(engine, lambda c: attempts.start(c, job_id=job_id, workspace=workspace, worker_id=worker,  # type: ignore[arg-type]
                                                   now=now, lease_until=now + timedelta(seconds=30)))


def _audit(job_id: str, n: int) -> list[dict]:
    return [attempts.audit_row(at=utcnow(), workspace_id="w", actor="worker:emmie", kind="provider_call",
                               job_id=job_id, agent="emmie", integration="mailchimp", action="list_campaigns",
                               method="GET", path=f"/campaigns/{i}", status=200 + i, duration_ms=1.5 + i,
                               outcome="ok", detail={"rate_limit": {"remaining": i}}) for i in range(n)]


def _finish(engine: object, job_id: str, worker: str, audit: list[dict]) -> bool:
    values = {"status": "succeeded", "result": {"campaigns": [1, 2]}, "error": None, "finished_at": utcnow(),
              "not_before": None, "attempt_log": [{"attempt": 1, "kind": "succeeded"}], "rate_limited_since": None}
    return atomic(engine, lambda c: attempts.finish(  # type: ignore[arg-type]
        c, job_id=job_id, workspace="w", worker_id=worker, now=utcnow(), values=values,
        event_type="job.succeeded", event_data={"attempt": 1}, audit=audit))


def test_start_runs_a_waiting_job_once_with_its_event_and_state(fresh_url: str) -> None:
    engine, job_id = _setup(fresh_url)
    job, state, started = _start(engine, job_id)
    assert started and job is not None and job.status == "running" and job.attempts == 1
    assert job.worker_id == "wk1" and job.params == {"limit": 3} and job.dispatch_at is None
    assert state is not None and state.status == "connected"
    again, state2, started2 = _start(engine, job_id, worker="wk2")  # a duplicate message changes nothing
    assert not started2 and again is not None and again.status == "running" and state2 is None
    assert _start(engine, job_id, workspace="other")[0] is None  # another workspace's message: no such job
    with Session(engine) as s:  # type: ignore[call-overload]
        running = s.exec(select(Event).where(Event.job_id == job_id, Event.type == "job.running")).all()
        assert [e.data for e in running] == [{"attempt": 1, "worker": "wk1"}]
        assert s.get(Job, job_id).worker_id == "wk1"


def test_start_leaves_a_retry_that_is_not_due(fresh_url: str) -> None:
    engine, job_id = _setup(fresh_url)
    with session_scope(engine) as s:  # type: ignore[arg-type]
        job = s.get(Job, job_id)
        job.status, job.not_before = "retrying", utcnow() + timedelta(minutes=5)
        s.add(job)
    job, _, started = _start(engine, job_id)
    assert not started and job is not None and job.status == "retrying"


def test_finish_writes_outcome_event_and_every_audit_row(fresh_url: str) -> None:
    engine, job_id = _setup(fresh_url)
    _start(engine, job_id)
    assert _finish(engine, job_id, "wk1", _audit(job_id, 3 + attempts.AUDIT_BATCH))  # more than one batch
    with Session(engine) as s:  # type: ignore[call-overload]
        job = s.get(Job, job_id)
        assert job.status == "succeeded" and job.result == {"campaigns": [1, 2]} and job.worker_id is None
        assert job.lease_expires_at is None and job.attempt_log == [{"attempt": 1, "kind": "succeeded"}]
        rows = s.exec(select(AuditEvent).where(AuditEvent.job_id == job_id).order_by(col(AuditEvent.path))).all()
        assert len(rows) == 3 + attempts.AUDIT_BATCH
        one = next(r for r in rows if r.path == "/campaigns/2")
        assert (one.status, one.duration_ms, one.detail, one.method) == (202, 3.5, {"rate_limit": {"remaining": 2}},
                                                                          "GET")
        done = s.exec(select(Event).where(Event.job_id == job_id, Event.type == "job.succeeded")).all()
        assert [e.data for e in done] == [{"attempt": 1}]


def test_finish_on_a_job_taken_over_keeps_only_the_audit(fresh_url: str) -> None:
    engine, job_id = _setup(fresh_url)
    _start(engine, job_id)
    assert not _finish(engine, job_id, "someone-else", _audit(job_id, 1))
    assert not _finish(engine, job_id, "someone-else", [])
    with Session(engine) as s:  # type: ignore[call-overload]
        assert s.get(Job, job_id).status == "running"
        assert len(s.exec(select(AuditEvent).where(AuditEvent.job_id == job_id,
                                                   AuditEvent.kind == "provider_call")).all()) == 1
        assert not s.exec(select(Event).where(Event.job_id == job_id, Event.type == "job.succeeded")).all()


def test_the_one_statement_path_lends_its_connection_back_in_transaction_mode(fresh_url: str) -> None:
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    migrate(fresh_url)
    engine = build_engine(fresh_url, pool_size=1, max_overflow=0)
    atomic(engine, lambda c: c.execute(text("SELECT 1")).scalar())
    try:
        atomic(engine, lambda c: c.execute(text("SELECT * FROM no_such_table")))
    except DBAPIError:
        pass
    try:  # the pool's one connection, used by both calls above: a transaction still rolls back
        with engine.begin() as c:
            c.execute(text("INSERT INTO workspaces (id, created_at) VALUES ('rolled-back', CURRENT_TIMESTAMP)"))
            raise RuntimeError("roll back")
    except RuntimeError:
        pass
    with engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM workspaces WHERE id = 'rolled-back'")).scalar() == 0
    engine.dispose()
