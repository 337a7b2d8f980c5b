"""The broker counts the dashboard shows operators, read from a real Redis broker's keys."""

from __future__ import annotations

import os
import uuid

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker

from producers.api.queue_depth import broker_depth
from tests.conftest import require_service


def test_ready_unacked_delayed_and_dead_messages_are_counted_from_dramatiqs_redis_keys() -> None:
    require_service("Redis")
    broker = RedisBroker(url=os.environ["SINTRA_REDIS_URL"], namespace=f"depth-{uuid.uuid4().hex[:6]}")
    queue = "agent.depth_test"
    broker.declare_queue(queue)
    try:
        for i in range(4):
            broker.enqueue(dramatiq.Message(queue_name=queue, actor_name="a", args=(i,), kwargs={}, options={}))
        broker.enqueue(dramatiq.Message(queue_name=queue, actor_name="a", args=(), kwargs={}, options={}),
                       delay=60_000)
        consumer = broker.consume(queue, prefetch=2, timeout=1000)
        first = next(consumer)
        assert first is not None
        assert broker_depth(broker, queue) == {"ready": 2, "unacked": 2, "delayed": 1, "dead": 0}
        consumer.nack(first)
        assert broker_depth(broker, queue) == {"ready": 2, "unacked": 1, "delayed": 1, "dead": 1}
        consumer.close()
    finally:
        keys = list(broker.client.scan_iter(f"{broker.namespace}:*"))
        if keys:
            broker.client.delete(*keys)
        broker.close()


def test_a_broker_it_cannot_read_has_no_counts() -> None:
    assert broker_depth(StubBroker(), "agent.emmie") is None
