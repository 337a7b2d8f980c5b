"""The same job lifecycle on the second broker: RabbitMQ (``SINTRA_BROKER_URL=amqp://...``).

A fresh vhost per run on the machine's RabbitMQ (127.0.0.1:5672, guest/guest); the API and a worker
on that broker, the rest of the stack (OpenBao, simulator, PostgreSQL) shared with the Redis suite.
"""

from __future__ import annotations

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
