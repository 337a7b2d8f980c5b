"""What the API and a worker connect or build before their first job (pickup latency's first-job tail).

The API's dispatcher thread opens its RabbitMQ connection and declares the queues when the app starts
(workers/broker.py ``Enqueuer.warm``, producers/api/dispatcher.py), and a worker builds its TLS context and
compiles a job's start statement at boot (workers/context.py ``warm_up``). On the real RabbitMQ and
PostgreSQL.
"""

from __future__ import annotations

import subprocess
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pika
import pytest
from sqlalchemy import create_engine

from producers.api.dispatcher import Dispatcher
from workers.broker import Enqueuer

RABBIT_ADMIN = "amqp://guest:guest@127.0.0.1:5672/"


@pytest.fixture
def vhost() -> Iterator[str]:
    """A fresh RabbitMQ vhost, deleted afterwards."""
    name = f"sintra-warm-{uuid.uuid4().hex[:8]}"
    for cmd in (["add_vhost", name], ["set_permissions", "-p", name, "guest", ".*", ".*", ".*"]):
        subprocess.run(["rabbitmqctl", "-q", *cmd], check=True, capture_output=True, timeout=60)
    yield f"{RABBIT_ADMIN}{name}"
    subprocess.run(["rabbitmqctl", "-q", "delete_vhost", name], capture_output=True, timeout=60)


def test_warm_connects_the_calling_thread_to_rabbitmq_and_declares_every_queue(vhost: str) -> None:
    from dramatiq.brokers.rabbitmq import RabbitmqBroker

    broker = RabbitmqBroker(url=vhost, confirm_delivery=True, max_priority=1)
    broker.declare_queue("agent.emmie")
    try:
        assert getattr(broker.state, "connection", None) is None  # declaring alone connects nowhere
        Enqueuer(broker).warm()
        assert broker.state.connection.is_open
        assert broker.queues_pending == set()
        with pika.BlockingConnection(pika.URLParameters(vhost)) as conn:  # the server has them (passive: no create)
            for name in ("agent.emmie", "agent.emmie.DQ", "agent.emmie.XQ"):
                conn.channel().queue_declare(name, passive=True)
    finally:
        broker.close()


def test_warm_is_nothing_on_redis() -> None:
    from workers.broker import WakingRedisBroker

    broker = WakingRedisBroker(url="redis://127.0.0.1:6379/14", namespace=f"warm-{uuid.uuid4().hex[:8]}")
    Enqueuer(broker).warm()  # no connection needed, nothing raised


class _Recorder:
    """An enqueuer that records which thread warmed it and what came first."""

    def __init__(self, fail: bool = False) -> None:
        self.calls: list[tuple[str, str]] = []
        self.fail = fail
        self.warmed = threading.Event()

    def warm(self) -> None:
        self.calls.append(("warm", threading.current_thread().name))
        self.warmed.set()
        if self.fail:
            raise ConnectionError("broker down")


@pytest.mark.parametrize("fail", [False, True])
def test_the_dispatcher_warms_its_own_thread_at_start_and_runs_on_when_the_broker_is_down(fail: bool) -> None:
    recorder = _Recorder(fail=fail)
    dispatcher = Dispatcher(create_engine("sqlite://"), recorder)  # type: ignore[arg-type]
    try:
        dispatcher.warm()
        assert recorder.warmed.wait(10)
        assert recorder.calls == [("warm", "sintra-dispatch")]  # the thread that sends, once
        assert dispatcher.thread is not None and dispatcher.thread.is_alive()
    finally:
        dispatcher.stop()
    assert dispatcher.thread is None


def test_a_worker_builds_its_tls_context_and_compiles_a_job_start_at_boot(pg_fresh_url: str) -> None:
    import workers.context as context
    from workers.egress import tls_context
    from workers.runner import WorkerContext
    from workers.store.db import build_engine, migrate

    migrate(pg_fresh_url)
    engine = build_engine(pg_fresh_url)
    ctx: Any = WorkerContext(settings=context.get_settings(), engine=engine, credentials=None)  # type: ignore[arg-type]
    try:
        tls_context.cache_clear()
        cached = len(engine._compiled_cache)
        context.warm_up(None, ctx)
        assert tls_context.cache_info().currsize == 1
        assert len(engine._compiled_cache) > cached  # the start statement (and its fallback read), compiled
        with engine.connect() as conn:  # and nothing written
            assert conn.exec_driver_sql("SELECT count(*) FROM events").scalar() == 0
            assert conn.exec_driver_sql("SELECT count(*) FROM jobs").scalar() == 0
    finally:
        engine.dispose()
