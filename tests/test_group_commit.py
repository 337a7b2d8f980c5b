"""The worker's group commit (workers/store/attempts.py): many jobs' starts, or outcomes, in one statement.

Each job must get exactly what its own one-job statement would have given it: started only if it was
waiting and due (once, whatever the duplicates), its outcome recorded only if this worker still owns it,
its event only then, its audit rows always, secrets scrubbed; a batch that cannot answer a job (or
fails) leaves it to its own statement, and no caller is ever left waiting.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import Session, col, select

from config.catalog import agent as agent_spec
from config.logging import register_secret
from config.messages import JobCreate
from workers.store import attempts
from workers.store import jobs as job_store
from workers.store.db import atomic, build_engine, migrate, session_scope
from workers.store.integrations import upsert_state
from workers.store.keys import create_key
from workers.store.models import AuditEvent, Event, Job, utcnow

assert agent_spec("emmie")  # the catalog the jobs below name


def _setup(url: str, n: int) -> tuple[Any, list[str]]:
    migrate(url)
    engine = build_engine(url)
    with session_scope(engine) as s:
        create_key(session=s, workspace="w")
        upsert_state(session=s, workspace="w", agent="emmie", integration="mailchimp", status="connected",
                     message="ok")
        ids = [job_store.create_job(session=s, workspace="w", req=JobCreate(
            agent="emmie", integration="mailchimp", action="list_campaigns", params={"limit": i + 1}))[0].id
            for i in range(n)]
    return engine, ids


def _start_many(engine: Any, jobs: list[tuple[str, str]], worker: str = "wk1") -> list[Any]:
    now = utcnow()
    return atomic(engine, lambda c: attempts.start_many(c, jobs, worker_id=worker, now=now,
                                                       lease_until=now + timedelta(seconds=30)))


def _outcome(job_id: str, **values: Any) -> attempts.Outcome:
    now = utcnow()
    values = values or {"status": "succeeded", "result": {"campaigns": [job_id]}, "error": None, "finished_at": now,
                        "not_before": None, "attempt_log": [{"attempt": 1, "kind": "succeeded"}],
                        "rate_limited_since": None}
    audit = [attempts.audit_row(at=now, workspace_id="w", actor="worker:emmie", kind="provider_call", job_id=job_id,
                                agent="emmie", integration="mailchimp", action="list_campaigns", method="GET",
                                path="/campaigns", status=200, duration_ms=2.5, outcome="ok",
                                detail={"rate_limit": {"remaining": 7}})]
    out = attempts.outcome(job_id=job_id, now=now, values=values, event_type=f"job.{values['status']}",
                           event_data={"attempt": 1}, audit=audit)
    assert out is not None
    return out


def test_start_many_starts_each_waiting_job_once_with_its_event_and_state(pg_fresh_url: str) -> None:
    engine, (a, b, c, later) = _setup(pg_fresh_url, 4)
    with session_scope(engine) as s:
        job = s.get(Job, later)
        job.status, job.not_before = "retrying", utcnow() + timedelta(minutes=5)
        s.add(job)
    got = _start_many(engine, [(a, "w"), (b, "w"), (a, "w"), (later, "w"), ("nope", "w"), (c, "other")])
    (ja, sa, ok_a), (jb, _, ok_b) = got[0], got[1]
    assert ok_a and ok_b and ja.id == a and jb.id == b and ja.params == {"limit": 1}
    assert ja.status == "running" and ja.attempts == 1 and ja.worker_id == "wk1" and ja.dispatch_at is None
    assert ja.started_at is not None and ja.started_at.tzinfo is not None
    assert sa is not None and sa.status == "connected"
    # a second message for a in the batch, a retry not due, an unknown job, another workspace's: alone
    assert got[2:] == [attempts.ALONE] * 4
    assert _start_many(engine, [(a, "w")], worker="wk2") == [attempts.ALONE]  # already running
    with Session(engine) as s:
        running = s.exec(select(Event).where(Event.type == "job.running").order_by(col(Event.job_id))).all()
        assert sorted((e.job_id, e.data["worker"], e.data["attempt"]) for e in running) == sorted([
            (a, "wk1", 1), (b, "wk1", 1)])
        assert s.get(Job, later).status == "retrying" and s.get(Job, c).status == "queued"


def test_start_many_reads_the_same_job_as_start(pg_fresh_url: str) -> None:
    engine, (a, b) = _setup(pg_fresh_url, 2)
    now = utcnow()
    one = atomic(engine, lambda conn: attempts.start(conn, job_id=a, workspace="w", worker_id="wk1", now=now,
                                                     lease_until=now + timedelta(seconds=30)))
    many = atomic(engine, lambda conn: attempts.start_many(conn, [(b, "w")], worker_id="wk1", now=now,
                                                          lease_until=now + timedelta(seconds=30)))[0]
    skip = {"id", "params", "created_at", "updated_at", "dispatch_at"}
    assert {k: getattr(one[0], k) for k in attempts._JOB_KEYS if k not in skip} == \
        {k: getattr(many[0], k) for k in attempts._JOB_KEYS if k not in skip}
    assert one[1:] == many[1:]


def test_finish_many_records_owned_outcomes_and_every_audit_row(pg_fresh_url: str) -> None:
    engine, (a, b, c) = _setup(pg_fresh_url, 3)
    _start_many(engine, [(a, "w"), (b, "w"), (c, "w")])
    register_secret("sk_live_Gr0upC0mmit99")
    retry_at = utcnow() + timedelta(seconds=30)
    ours = _outcome(a, **{"status": "succeeded", "result": {"echo": "key sk_live_Gr0upC0mmit99"}, "error": None,
                          "finished_at": utcnow(), "not_before": None, "attempt_log": [{"attempt": 1}],
                          "rate_limited_since": None})
    retrying = _outcome(b, status="retrying", error={"kind": "provider_unavailable", "message": "503"},
                        not_before=retry_at, dispatch_at=retry_at, attempt_log=[{"attempt": 1}],
                        rate_limited_since=None)
    taken = _outcome(c)
    again = _outcome(a)
    answers = atomic(engine, lambda conn: attempts.finish_many(conn, [ours, retrying, again], worker_id="wk1"))
    assert answers == [True, True, attempts.ALONE]  # a job named twice: its second outcome runs alone
    assert atomic(engine, lambda conn: attempts.finish_many(conn, [taken], worker_id="wk2")) == [False]
    with Session(engine) as s:
        ja, jb, jc = s.get(Job, a), s.get(Job, b), s.get(Job, c)
        assert ja.status == "succeeded" and ja.worker_id is None and ja.lease_expires_at is None
        assert ja.finished_at is not None and ja.attempt_log == [{"attempt": 1}]
        assert "Gr0upC0mmit99" not in str(ja.result)  # scrubbed as the one-job statement does
        assert jb.status == "retrying" and jb.error == {"kind": "provider_unavailable", "message": "503"}
        assert jb.dispatch_at == retry_at and jb.finished_at is None and jb.result is None
        assert jc.status == "running" and jc.worker_id == "wk1"  # not wk2's to record
        events = s.exec(select(Event).where(col(Event.type).in_(["job.succeeded", "job.retrying"]))).all()
        assert sorted((e.job_id, e.type) for e in events) == sorted([(a, "job.succeeded"), (b, "job.retrying")])
        audit = s.exec(select(AuditEvent).where(AuditEvent.kind == "provider_call")).all()
        assert sorted(r.job_id for r in audit) == sorted([a, b, c])  # the calls happened: audited either way
        assert all(r.detail == {"rate_limit": {"remaining": 7}} and r.duration_ms == 2.5 for r in audit)
        raw = s.connection().execute(text("SELECT result::text FROM jobs WHERE id = :id"), {"id": a}).scalar()
        assert "Gr0upC0mmit99" not in raw


def test_finish_many_writes_what_finish_writes(pg_fresh_url: str) -> None:
    engine, (a, b) = _setup(pg_fresh_url, 2)
    _start_many(engine, [(a, "w"), (b, "w")])
    now = utcnow()
    values = {"status": "failed", "error": {"kind": "permanent", "message": "no"}, "finished_at": now,
              "not_before": None, "attempt_log": [{"attempt": 1, "kind": "permanent"}], "rate_limited_since": now}
    assert atomic(engine, lambda conn: attempts.finish(conn, job_id=a, workspace="w", worker_id="wk1", now=now,
                                                       values=values, event_type="job.failed",
                                                       event_data={"attempt": 1}, audit=[]))
    batched = attempts.outcome(job_id=b, now=now, values=values, event_type="job.failed", event_data={"attempt": 1},
                               audit=[])
    assert batched is not None
    assert atomic(engine, lambda conn: attempts.finish_many(conn, [batched], worker_id="wk1")) == [True]
    with Session(engine) as s:
        ja, jb = s.get(Job, a), s.get(Job, b)
        skip = {"id", "params", "created_at"}
        assert {k: getattr(ja, k) for k in Job.model_fields if k not in skip} == \
            {k: getattr(jb, k) for k in Job.model_fields if k not in skip}
        ea, eb = (s.exec(select(Event).where(Event.job_id == j, Event.type == "job.failed")).one() for j in (a, b))
        assert (ea.at, ea.data) == (eb.at, eb.data)
        raw = text("SELECT result IS NULL, result::text, error::text, attempt_log::text, progress IS NULL FROM jobs "
                   "WHERE id = :id")  # a None is JSON null, as the one-job statement writes it, not SQL NULL
        rows = [s.connection().execute(raw, {"id": j}).one() for j in (a, b)]
        assert rows[0] == rows[1] and rows[0][:2] == (False, "null")


def test_an_outcome_with_other_columns_is_left_to_its_own_statement() -> None:
    assert attempts.outcome(job_id="j", now=utcnow(), values={"status": "succeeded", "progress": {}},
                            event_type="job.succeeded", event_data={}, audit=[]) is None


def test_group_commit_shares_batches_and_answers_each_caller() -> None:
    gate = threading.Event()
    batches: list[list[int]] = []

    def run_many(items: list[int]) -> list[Any]:
        batches.append(items)
        if len(batches) == 1:
            gate.wait(5)  # callers arriving meanwhile queue for the next batch
        return [i * 10 if i % 3 else attempts.ALONE for i in items]

    gc: attempts.GroupCommit[int, Any] = attempts.GroupCommit(run_many)
    answers: dict[int, Any] = {}
    threads = [threading.Thread(target=lambda i=i: answers.__setitem__(i, gc(i))) for i in range(1, 11)]
    threads[0].start()
    while not batches:
        time.sleep(0.01)
    for t in threads[1:]:
        t.start()
    time.sleep(0.2)
    gate.set()
    for t in threads:
        t.join(5)
    assert batches[0] == [1] and sorted(batches[1]) == list(range(2, 11)) and len(batches) == 2
    assert answers == {i: i * 10 if i % 3 else attempts.ALONE for i in range(1, 11)}
    assert gc(11) == 110  # idle again: a lone call runs at once


@pytest.mark.parametrize("failure", [RuntimeError("batch statement failed"), KeyboardInterrupt()])
def test_a_failed_batch_leaves_each_member_to_run_alone(failure: BaseException) -> None:
    gate = threading.Event()
    calls: list[list[int]] = []

    def run_many(items: list[int]) -> list[Any]:
        calls.append(items)
        if len(calls) == 1:
            gate.wait(5)
        if len(calls) == 2:
            raise failure
        return [i for i in items]

    gc: attempts.GroupCommit[int, Any] = attempts.GroupCommit(run_many)
    answers: dict[int, Any] = {}
    errors: list[BaseException] = []

    def call(i: int) -> None:
        try:
            answers[i] = gc(i)
        except BaseException as exc:  # noqa: BLE001 - the leader killed mid-batch re-raises
            errors.append(exc)

    threads = [threading.Thread(target=call, args=(i,)) for i in range(4)]
    threads[0].start()
    while not calls:
        time.sleep(0.01)
    for t in threads[1:]:
        t.start()
    time.sleep(0.2)
    gate.set()
    for t in threads:
        t.join(5)
    assert not any(t.is_alive() for t in threads)  # nobody left waiting
    assert answers[0] == 0
    members = [i for i in range(1, 4) if i in answers]
    assert all(answers[i] is attempts.ALONE for i in members)
    assert len(members) == (3 if isinstance(failure, Exception) else 2) and len(errors) == 3 - len(members)
    assert gc(7) == 7  # the next call leads a batch of its own
