"""The async submission path keeps every guarantee of ``POST /api/jobs`` (producers/api/routes/submit.py)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import update
from sqlmodel import Session, select

from tests.integration.conftest import Stack
from tests.integration.helpers import GOOD_MAILCHIMP, configure, new_key, submit
from workers.store.keys import find_key, revoke_key
from workers.store.models import AuditEvent, Event, Job, utcnow

LIST = {"agent": "emmie", "integration": "mailchimp", "action": "list_campaigns", "params": {}}


def test_a_key_revoked_elsewhere_is_refused_on_its_very_next_submission(stack: Stack) -> None:
    key = new_key(stack)
    first = stack.api.post("/api/jobs", json=LIST, headers=stack.headers(key))
    assert first.status_code == 409, first.text  # authenticated (and remembered); its workspace has no Mailchimp
    with Session(stack.engine) as s:  # type: ignore[arg-type]
        row = find_key(session=s, prefix=key[:10], workspace=None)
        assert row is not None
        revoke_key(session=s, key=row)  # as the CLI or another API process would: this process is not told
        s.commit()
    for _ in range(2):  # the cached key, then the general path
        r = stack.api.post("/api/jobs", json=LIST, headers=stack.headers(key))
        assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized", r.text


def test_a_submission_commits_job_event_and_audit_together_and_answers_after_sending(stack: Stack) -> None:
    configure(stack, "emmie", "mailchimp", GOOD_MAILCHIMP, connect=False)
    r = submit(stack, "emmie", "mailchimp", "list_campaigns", {"limit": 3})
    assert r.status_code == 202, r.text
    job_id = r.json()["id"]
    with Session(stack.engine) as s:  # type: ignore[arg-type]
        job = s.get(Job, job_id)
        events = s.exec(select(Event.type).where(Event.job_id == job_id)).all()
        audit = s.exec(select(AuditEvent.outcome, AuditEvent.actor).where(AuditEvent.job_id == job_id)).all()
    assert job is not None and job.params == {"limit": 3}
    # the message was sent before the answer: the outbox entry is cleared, and the message id recorded unless
    # the worker took the job first (its start clears the entry, so the compare-and-clear then leaves it alone)
    assert job.dispatch_at is None
    assert job.message_id or job.status != "queued", job
    assert "job.queued" in events
    assert [(o, a) for o, a in audit if o == "job_created"] == [("job_created", f"api:{stack.key[:10]}")]


def test_submissions_are_throttled_per_key_with_retry_after(stack: Stack) -> None:
    key = new_key(stack)
    stack.settings.rate_limit_per_key = 5
    try:
        codes = [stack.api.post("/api/jobs", json=LIST, headers=stack.headers(key)) for _ in range(8)]
    finally:
        stack.settings.rate_limit_per_key = 3000
    assert [r.status_code for r in codes] == [409] * 5 + [429] * 3
    assert all(int(r.headers["Retry-After"]) > 0 for r in codes[5:])


def test_concurrent_submissions_with_one_idempotency_key_create_one_job(stack: Stack, api_url: str) -> None:
    configure(stack, "emmie", "mailchimp", GOOD_MAILCHIMP, connect=False)
    body = {**LIST, "idempotency_key": f"race-{uuid.uuid4().hex[:8]}"}

    async def race() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=api_url, headers=stack.headers(), timeout=30) as client:
            return list(await asyncio.gather(*(client.post("/api/jobs", json=body) for _ in range(8))))

    answers = asyncio.run(race())
    assert sorted(r.status_code for r in answers) == [200] * 7 + [202], [r.text for r in answers]
    assert len({r.json()["id"] for r in answers}) == 1
    with Session(stack.engine) as s:  # type: ignore[arg-type]
        assert len(s.exec(select(Job).where(Job.idempotency_key == body["idempotency_key"])).all()) == 1


def test_database_down_answers_503_with_retry_after_and_no_job(stack: Stack, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import create_engine

    from producers.api.aio import TxRunner

    assert submit(stack, "emmie", "mailchimp", "list_campaigns", {}).status_code in (202, 409)  # the key is cached
    hot = stack.api.app.state.hot  # type: ignore[attr-defined]
    # a PostgreSQL that refuses connections (nothing listens on port 1), or a SQLite file that cannot be opened
    url = stack.engine.url  # type: ignore[attr-defined]
    dead = TxRunner(create_engine(url.set(port=1) if hot.runner.native else "sqlite:////nonexistent/sintra.db"))
    monkeypatch.setattr(hot, "runner", dead)
    monkeypatch.setattr(hot.commits, "runner", dead)  # the group commit runs its batches on it
    before = _job_count(stack)
    r = submit(stack, "emmie", "mailchimp", "list_campaigns", {"limit": 7})
    assert r.status_code == 503 and r.headers["Retry-After"] == "5", r.text
    assert r.json()["error"]["code"] == "database_unavailable"
    assert _job_count(stack) == before


def _job_count(stack: Stack) -> int:
    with Session(stack.engine) as s:  # type: ignore[arg-type]
        return len(s.exec(select(Job.id).where(Job.workspace_id == stack.workspace)).all())


def test_a_group_commit_answers_each_submission_its_own_way(stack: Stack, api_url: str) -> None:
    """Concurrent submissions share batches (PostgreSQL), yet each gets its own answer and only the
    accepted ones leave rows: new jobs 202, one idempotency key one job, refusals nothing."""
    key = new_key(stack)  # a workspace of its own: other tests page through the shared one's jobs
    configure(stack, "emmie", "mailchimp", GOOD_MAILCHIMP, connect=False, key=key)
    tag = uuid.uuid4().hex[:8]
    bodies = ([{**LIST, "params": {"limit": 4}, "idempotency_key": f"new-{tag}-{i}"} for i in range(6)]
              + [{**LIST, "idempotency_key": f"same-{tag}"}] * 4
              + [{**LIST, "action": "no_such_action", "idempotency_key": f"bad-{tag}"}] * 2
              + [{**LIST, "integration": "sendgrid", "action": "list_templates",
                  "idempotency_key": f"unconf-{tag}"}] * 2)

    async def burst() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=api_url, headers=stack.headers(key), timeout=30) as client:
            return list(await asyncio.gather(*(client.post("/api/jobs", json=b) for b in bodies)))

    answers = asyncio.run(burst())
    codes = [r.status_code for r in answers]
    assert codes[:6] == [202] * 6 and sorted(codes[6:10]) == [200] * 3 + [202], [r.text for r in answers]
    assert codes[10:12] == [422] * 2 and codes[12:] == [409] * 2, [r.text for r in answers]
    assert len({r.json()["id"] for r in answers[6:10]}) == 1
    with Session(stack.engine) as s:  # type: ignore[arg-type]
        jobs = s.exec(select(Job).where(Job.idempotency_key.like(f"%-{tag}%"))).all()  # type: ignore[union-attr]
        assert sorted(j.idempotency_key or "" for j in jobs) == sorted([f"new-{tag}-{i}" for i in range(6)]
                                                                       + [f"same-{tag}"])
        for job in jobs:  # each with exactly its event and its audit row
            assert s.exec(select(Event.type).where(Event.job_id == job.id)).all().count("job.queued") == 1
            audit = s.exec(select(AuditEvent.outcome).where(AuditEvent.job_id == job.id)).all()
            assert audit.count("job_created") == 1


def test_a_failed_batch_statement_fails_only_its_own_submission(stack: Stack) -> None:
    """If PostgreSQL refuses a batch's statement, each submission is retried alone: the others commit."""
    from producers.api.aio import GroupCommit, TxRunner

    runner = TxRunner(stack.engine)  # type: ignore[arg-type]

    def one(conn, n: int) -> int:  # type: ignore[no-untyped-def]
        if n == 3:
            raise ValueError("row 3 refused")
        return n * 10

    def many(conn, items: list[tuple[int]]) -> list[int]:  # type: ignore[no-untyped-def]
        if any(n == 3 for (n,) in items):
            raise ValueError("the whole statement refused")
        return [n * 10 for (n,) in items]

    commits = GroupCommit(runner, one, many)

    async def go() -> list[object]:
        try:
            return list(await asyncio.gather(*(commits.run(n) for n in range(6)), return_exceptions=True))
        finally:
            await runner.close()

    results = asyncio.run(go())
    assert results[:3] == [0, 10, 20] and results[4:] == [40, 50]
    assert isinstance(results[3], ValueError) and str(results[3]) == "row 3 refused"


@pytest.mark.postgresql_only
def test_a_batch_sent_while_the_broker_is_down_keeps_every_outbox_entry(stack: Stack) -> None:
    """The hot path's in-loop sender (Redis broker, PostgreSQL): Redis unreachable, nothing is sent and no
    entry is cleared, so the relay sends those jobs later; Redis back, the same jobs are sent and cleared."""
    from dramatiq.brokers.redis import RedisBroker

    from producers.api.aio import TxRunner
    from producers.api.dispatcher import LoopSender, Pending

    # on SQLite the dispatcher thread sends instead (its deferral: test_jobs' broker-down test)
    assert isinstance(stack.broker, RedisBroker) and stack.engine.dialect.name == "postgresql"  # type: ignore[attr-defined]
    key = new_key(stack)
    configure(stack, "emmie", "mailchimp", GOOD_MAILCHIMP, connect=False, key=key)
    # scheduled an hour ahead: committed with no message sent, then given an outbox entry as if queued
    later = (utcnow() + timedelta(hours=1)).isoformat()
    ids = [stack.api.post("/api/jobs", json={**LIST, "run_at": later}, headers=stack.headers(key)).json()["id"]
           for _ in range(3)]
    # an entry not yet due: the stack's own relay (every 0.5 s) leaves it to the sender under test
    entry = utcnow() + timedelta(hours=1)
    with Session(stack.engine) as s:  # type: ignore[arg-type]
        s.execute(update(Job).where(Job.id.in_(ids)).values(dispatch_at=entry))  # type: ignore[attr-defined]
        s.commit()
    jobs = [Pending(i, stack.workspace, "emmie", entry) for i in ids]
    runner = TxRunner(stack.engine)  # type: ignore[arg-type]

    async def send(url: str) -> list[bool]:
        sender = LoopSender(stack.broker, url, runner)  # type: ignore[arg-type]
        try:
            return await sender.send_many(jobs)
        finally:
            await sender.close()
            await runner.close()

    assert asyncio.run(send("redis://127.0.0.1:1/0")) == [False] * 3
    with Session(stack.engine) as s:  # type: ignore[arg-type]
        assert all((j := s.get(Job, i)) is not None and j.dispatch_at is not None and not j.message_id for i in ids)
    assert asyncio.run(send(stack.settings.transport_url)) == [True] * 3
    with Session(stack.engine) as s:  # type: ignore[arg-type]
        assert all((j := s.get(Job, i)) is not None and j.dispatch_at is None and j.message_id for i in ids)
