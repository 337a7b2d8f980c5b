"""The same job lifecycle on the second broker: RabbitMQ (``SINTRA_BROKER_URL=amqp://...``).

A fresh vhost per run on the machine's RabbitMQ (127.0.0.1:5672, guest/guest); the API and a worker
on that broker, the rest of the stack (OpenBao, simulator, PostgreSQL) shared with the Redis suite.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from config.settings import Settings
from tests.integration.conftest import Stack
from tests.integration.helpers import GOOD_MAILCHIMP, configure, fault, sim_calls, submit, wait_job


def _rabbitmq_up() -> None:
    with socket.socket() as s:
        s.settimeout(1.0)
        if s.connect_ex(("127.0.0.1", 5672)) != 0:
            pytest.fail("RabbitMQ is not reachable on 127.0.0.1:5672; start it with: rabbitmq-server -detached",
                        pytrace=False)


@pytest.fixture(scope="module")
def rabbit_db() -> Iterator[str]:
    """A PostgreSQL database of its own: the Redis stack's relay must never see (and send) these jobs."""
    from tests.conftest import fresh_pg_database

    yield from fresh_pg_database("sintra_rmq")


@pytest.fixture(scope="module")
def rabbit_stack(rabbit_db: str, state_dir: Any, vault_server: Any, simulator: Any) -> Iterator[Stack]:
    """API + one in-process worker on a RabbitMQ broker in its own vhost and database."""
    import dramatiq

    import workers.context as worker_context
    from producers.api.app import create_app
    from workers.agents import declare
    from workers.broker import build_broker
    from workers.credentials.routing import PerAgentCredentials
    from workers.runner import WorkerContext
    from workers.store.db import build_engine, migrate, session_scope
    from workers.store.keys import create_key

    _rabbitmq_up()
    vhost = f"sintra-{uuid.uuid4().hex[:8]}"
    subprocess.run(["rabbitmqctl", "-q", "add_vhost", vhost], check=True, timeout=60)
    subprocess.run(["rabbitmqctl", "-q", "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"], check=True,
                   timeout=60)
    migrate(rabbit_db)
    settings = Settings(database_url=rabbit_db, state_dir=state_dir, vault_addr=vault_server.addr,
                        broker_url=f"amqp://guest:guest@127.0.0.1:5672/{vhost}",
                        provider_root=simulator.url, retry_min_backoff_ms=200,
                        retry_max_backoff_ms=1000, connect_wait_seconds=10, relay_seconds=0.2)
    broker = build_broker(settings)
    declare(broker)
    engine = build_engine(rabbit_db)
    worker_context.install(broker, WorkerContext(settings=settings, engine=engine,
                                                 credentials=PerAgentCredentials(settings)))
    worker = dramatiq.Worker(broker, worker_threads=2, worker_timeout=50)
    worker.start()
    workspace = f"ws-{uuid.uuid4().hex[:6]}"
    with session_scope(engine) as s:
        key = create_key(session=s, workspace=workspace)
    with TestClient(create_app(settings, broker=broker)) as api:
        yield Stack(settings=settings, api=api, key=key, workspace=workspace, simulator=simulator,
                    broker=broker, worker=worker, engine=engine)
    worker.stop()
    worker_context.install(broker, None)
    broker.close()
    engine.dispose()
    subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost], check=False, timeout=60)


def test_a_job_runs_and_a_5xx_is_retried_through_the_outbox_on_rabbitmq(rabbit_stack: Stack) -> None:
    configure(rabbit_stack, "emmie", "mailchimp", GOOD_MAILCHIMP)
    assert wait_job(rabbit_stack, submit(rabbit_stack, "emmie", "mailchimp", "list_campaigns", {})
                    .json()["id"])["status"] == "succeeded"
    fault(rabbit_stack, "mailchimp", 503, path="/campaigns", times=2)
    job = wait_job(rabbit_stack, submit(rabbit_stack, "emmie", "mailchimp", "list_campaigns", {}).json()["id"])
    assert job["status"] == "succeeded" and job["attempts"] == 3, job
    assert [e["kind"] for e in job["attempt_log"]] == ["transient", "transient", "succeeded"]


def test_a_duplicate_message_runs_its_job_once_on_rabbitmq(rabbit_stack: Stack) -> None:
    from workers.broker import Enqueuer
    from workers.store.jobs import message_for
    from workers.store.models import Job

    configure(rabbit_stack, "emmie", "mailchimp", GOOD_MAILCHIMP)
    before = len(sim_calls(rabbit_stack, "mailchimp"))
    job_id = submit(rabbit_stack, "emmie", "mailchimp", "list_campaigns", {}).json()["id"]
    from sqlmodel import Session

    with Session(rabbit_stack.engine) as s:  # type: ignore[arg-type]
        job = s.get(Job, job_id)
        assert job is not None
        for _ in range(3):
            Enqueuer(rabbit_stack.broker).enqueue(message_for(job), "emmie")  # type: ignore[arg-type]
    done = wait_job(rabbit_stack, job_id)
    time.sleep(0.5)  # the duplicates are consumed (and ignored) by now
    assert done["status"] == "succeeded" and done["attempts"] == 1
    assert len(sim_calls(rabbit_stack, "mailchimp")) - before == 1


def test_replay_and_bulk_retry_on_rabbitmq(rabbit_stack: Stack) -> None:
    configure(rabbit_stack, "emmie", "mailchimp", GOOD_MAILCHIMP)
    fault(rabbit_stack, "mailchimp", 400, path="/campaigns", times=2)
    ids = [submit(rabbit_stack, "emmie", "mailchimp", "list_campaigns", {}).json()["id"] for _ in range(2)]
    assert all(wait_job(rabbit_stack, i)["status"] == "failed" for i in ids)
    body = {"status": "failed", "agent": "emmie", "integration": "mailchimp"}
    dry = rabbit_stack.api.post("/api/jobs/retry", json=body, headers=rabbit_stack.headers()).json()
    assert dry["count"] == 2 and sorted(dry["job_ids"]) == sorted(ids)
    done = rabbit_stack.api.post("/api/jobs/retry", json={**body, "dry_run": False, "expected_count": 2},
                                 headers=rabbit_stack.headers()).json()
    assert done["count"] == 2
    assert all(wait_job(rabbit_stack, i)["status"] == "succeeded" for i in ids)


def test_a_submission_on_rabbitmq_is_published_from_the_event_loop_and_its_entry_cleared(rabbit_stack: Stack) -> None:
    """RabbitMQ and PostgreSQL: the hot path publishes on the event loop (AmqpSender), not through the
    dispatcher thread; the job's entry is gone once it is answered (cleared, or its start already took it),
    and it runs once."""
    from sqlmodel import Session

    from producers.api.dispatcher import AmqpSender
    from workers.store.models import Job

    hot = rabbit_stack.api.app.state.hot  # type: ignore[attr-defined]
    assert isinstance(hot.sends, AmqpSender)
    configure(rabbit_stack, "emmie", "mailchimp", GOOD_MAILCHIMP)
    sent = []
    real = hot.dispatcher._send
    hot.dispatcher._send = lambda batch: sent.append(batch) or real(batch)
    try:
        r = submit(rabbit_stack, "emmie", "mailchimp", "list_campaigns", {})
        assert r.status_code == 202, r.text
        with Session(rabbit_stack.engine) as s:  # type: ignore[arg-type]
            job = s.get(Job, r.json()["id"])
            assert job is not None and job.dispatch_at is None
        done = wait_job(rabbit_stack, r.json()["id"])
    finally:
        hot.dispatcher._send = real
    assert done["status"] == "succeeded" and done["attempts"] == 1
    assert sent == []  # the thread sent nothing


def _scheduled_entries(stack: Stack, n: int) -> tuple[list[Any], Any]:
    """``n`` jobs committed an hour ahead, given an outbox entry not yet due (no relay sends them meanwhile)."""
    from datetime import timedelta

    from sqlalchemy import update
    from sqlmodel import Session

    from producers.api.dispatcher import Pending
    from workers.store.models import Job, utcnow

    configure(stack, "emmie", "mailchimp", GOOD_MAILCHIMP)
    later = (utcnow() + timedelta(hours=1)).isoformat()
    ids = [submit(stack, "emmie", "mailchimp", "list_campaigns", {}, run_at=later).json()["id"] for _ in range(n)]
    entry = utcnow() + timedelta(hours=1)
    with Session(stack.engine) as s:  # type: ignore[arg-type]
        s.execute(update(Job).where(Job.id.in_(ids)).values(dispatch_at=entry))  # type: ignore[attr-defined]
        s.commit()
    return [Pending(i, stack.workspace, "emmie", entry) for i in ids], entry


def _entries(stack: Stack, ids: list[str]) -> list[tuple[Any, Any]]:
    from sqlmodel import Session

    from workers.store.models import Job

    with Session(stack.engine) as s:  # type: ignore[arg-type]
        return [((j := s.get(Job, i)) and j.dispatch_at, j and j.message_id) for i in ids]  # type: ignore[union-attr]


def test_the_loop_sender_keeps_the_outbox_entries_when_rabbitmq_is_down_or_returns_the_message(
        rabbit_stack: Stack) -> None:
    """Broker unreachable, or the message returned unroutable (its queue does not exist): nothing is cleared,
    the relay sends those jobs later. Broker reachable: all confirmed together, each entry cleared with its
    message id; after the connection dropped, the next send opens a new one."""
    from dramatiq.brokers.rabbitmq import RabbitmqBroker

    from producers.api.aio import TxRunner
    from producers.api.dispatcher import AmqpSender

    jobs, _ = _scheduled_entries(rabbit_stack, 3)
    ids = [p.job_id for p in jobs]
    runner = TxRunner(rabbit_stack.engine)  # type: ignore[arg-type]
    empty = f"sintra-{uuid.uuid4().hex[:8]}"  # a vhost with no queue: every message is returned
    subprocess.run(["rabbitmqctl", "-q", "add_vhost", empty], check=True, timeout=60)
    subprocess.run(["rabbitmqctl", "-q", "set_permissions", "-p", empty, "guest", ".*", ".*", ".*"], check=True,
                   timeout=60)

    async def send(broker: Any) -> list[bool]:
        sender = AmqpSender(broker, runner)
        assert AmqpSender.fits(broker)
        try:
            return list(await asyncio.gather(*(sender.call(p) for p in jobs)))
        finally:
            await sender.close()
            await runner.close()

    try:
        assert asyncio.run(send(RabbitmqBroker(url="amqp://guest:guest@127.0.0.1:1/"))) == [False] * 3
        assert all(entry is not None and not mid for entry, mid in _entries(rabbit_stack, ids))
        assert asyncio.run(send(RabbitmqBroker(url=f"amqp://guest:guest@127.0.0.1:5672/{empty}"))) == [False] * 3
        assert all(entry is not None and not mid for entry, mid in _entries(rabbit_stack, ids))
    finally:
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", empty], check=False, timeout=60)
    assert asyncio.run(send(rabbit_stack.broker)) == [True] * 3
    cleared = _entries(rabbit_stack, ids)
    assert all(entry is None and mid for entry, mid in cleared) and len({mid for _, mid in cleared}) == 3


def test_the_loop_sender_reconnects_after_its_connection_dropped(rabbit_stack: Stack) -> None:
    from producers.api.aio import TxRunner
    from producers.api.dispatcher import AmqpSender

    jobs, _ = _scheduled_entries(rabbit_stack, 2)
    runner = TxRunner(rabbit_stack.engine)  # type: ignore[arg-type]

    async def send() -> tuple[bool, bool]:
        sender = AmqpSender(rabbit_stack.broker, runner)
        try:
            first = await sender.call(jobs[0])
            link = sender.links.get()
            link.connection.close()  # dropped: the next send opens a new connection
            while link.connection is not None:
                await asyncio.sleep(0.01)
            return first, await sender.call(jobs[1])
        finally:
            await sender.close()
            await runner.close()

    assert asyncio.run(send()) == (True, True)
    assert all(entry is None and mid for entry, mid in _entries(rabbit_stack, [p.job_id for p in jobs]))


def test_a_send_whose_caller_is_cancelled_still_clears_its_entry_once_confirmed(rabbit_stack: Stack) -> None:
    """As the dispatcher thread's batch goes on without its caller: the request gone, the published
    message is still confirmed and its entry cleared (the relay does not send it a second time)."""
    from producers.api.aio import TxRunner
    from producers.api.dispatcher import AmqpSender

    jobs, _ = _scheduled_entries(rabbit_stack, 1)
    runner = TxRunner(rabbit_stack.engine)  # type: ignore[arg-type]

    async def send() -> None:
        sender = AmqpSender(rabbit_stack.broker, runner)
        try:
            await sender.links.get().publish(jobs[0])  # connected (a first message: the job is not due, ignored)
            caller = asyncio.get_running_loop().create_task(sender.call(jobs[0]))
            await asyncio.sleep(0)
            caller.cancel()
            deadline = time.monotonic() + 10
            while _entries(rabbit_stack, [jobs[0].job_id])[0][0] is not None and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
            assert caller.cancelled()
        finally:
            await sender.close()
            await runner.close()

    asyncio.run(send())
    entry, mid = _entries(rabbit_stack, [jobs[0].job_id])[0]
    assert entry is None and mid
