"""The Redis consumer is woken by the enqueue (workers/broker.py), on real Redis.

An idle consumer blocks on the queue's wake-up list for up to its timeout; these tests give it a timeout
of 5 s and require the message well before that, so a consumer that still polled would fail them.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from typing import Any

import dramatiq
import redis

from workers.broker import WAKE_TOKENS, WakingRedisBroker, queue_wakes, wake_key

URL = os.environ.get("SINTRA_REDIS_URL", "redis://127.0.0.1:6379/14")
TIMEOUT_MS = 5000


def _broker() -> tuple[WakingRedisBroker, str]:
    broker = WakingRedisBroker(url=URL, namespace=f"wake-test-{uuid.uuid4().hex[:8]}")
    queue = "q"
    broker.declare_queue(queue)
    return broker, queue


def _message(queue: str) -> dramatiq.Message[Any]:
    return dramatiq.Message(queue_name=queue, actor_name="a", args=(), kwargs={}, options={},
                            message_id=str(uuid.uuid4()))


def _receive(consumer: Any, out: list[tuple[float, Any]], stop: threading.Event) -> None:
    while not stop.is_set():
        message = next(consumer)
        if message is not None:
            out.append((time.monotonic(), message))
            return


def test_an_idle_consumer_gets_a_new_message_without_waiting_out_its_timeout() -> None:
    broker, queue = _broker()
    consumer = broker.consume(queue, prefetch=4, timeout=TIMEOUT_MS)
    waits = []
    for _ in range(2):  # a polling consumer could hit the moment once by chance, hardly twice
        got: list[tuple[float, Any]] = []
        stop = threading.Event()
        t = threading.Thread(target=_receive, args=(consumer, got, stop))
        t.start()
        time.sleep(2.5)  # the consumer found nothing and waits (a polling one has backed off for seconds)
        sent_at = time.monotonic()
        broker.enqueue(_message(queue))
        t.join(TIMEOUT_MS / 1000 + 2)
        stop.set()
        assert got, "the consumer never got the message"
        waits.append(got[0][0] - sent_at)
        consumer.ack(got[0][1])
    assert max(waits) < 0.3, f"picked up after {waits} s: the consumer waited out a backoff"
    broker.client.delete(*broker.client.keys(f"{broker.namespace}:*"))


def test_a_full_consumer_takes_the_next_message_when_a_slot_is_acked() -> None:
    broker, queue = _broker()
    consumer = broker.consume(queue, prefetch=1, timeout=TIMEOUT_MS)
    broker.enqueue(_message(queue))
    first = next(consumer)
    while first is None:
        first = next(consumer)
    broker.enqueue(_message(queue))  # the consumer holds its prefetch: it must wait for the ack
    got: list[tuple[float, Any]] = []
    stop = threading.Event()
    t = threading.Thread(target=_receive, args=(consumer, got, stop))
    t.start()
    time.sleep(0.5)
    acked_at = time.monotonic()
    consumer.ack(first)
    t.join(TIMEOUT_MS / 1000 + 2)
    stop.set()
    assert got and got[0][0] - acked_at < 1.0
    broker.client.delete(*broker.client.keys(f"{broker.namespace}:*"))


def test_wake_tokens_are_capped() -> None:
    client = redis.Redis.from_url(URL)
    ns = f"wake-test-{uuid.uuid4().hex[:8]}"
    with client.pipeline() as pipe:
        queue_wakes(pipe, ns, ["a"] * (WAKE_TOKENS + 10) + ["b", "b"])
        pipe.execute()
    assert client.llen(wake_key(ns, "a")) == WAKE_TOKENS
    assert client.llen(wake_key(ns, "b")) == 2
    client.delete(wake_key(ns, "a"), wake_key(ns, "b"))


def test_a_woken_consumer_returns_the_message_from_the_call_it_was_waiting_in() -> None:
    broker, queue = _broker()
    consumer = broker.consume(queue, prefetch=4, timeout=TIMEOUT_MS)
    got: list[Any] = []
    t = threading.Thread(target=lambda: got.append(next(consumer)))
    t.start()
    time.sleep(0.5)  # the consumer found nothing and blocks on its wake-up list
    broker.enqueue(_message(queue))
    t.join(TIMEOUT_MS / 1000 + 2)
    assert got and got[0] is not None, "woken, the consumer returned empty-handed instead of fetching"
    consumer.ack(got[0])
    broker.client.delete(*broker.client.keys(f"{broker.namespace}:*"))


def test_an_enqueue_sends_the_message_and_one_wake_up_even_when_redis_lacks_the_script() -> None:
    broker, queue = _broker()
    # a script Redis has not seen (as after a Redis restart): the pipelined call fails NOSCRIPT first
    source = broker.scripts["dispatch"].script
    source = source if isinstance(source, bytes) else source.encode()
    broker.scripts["dispatch"] = broker.client.register_script(source + f"\n-- {uuid.uuid4()}".encode())
    for _ in range(2):  # without, then with the script loaded
        sent = broker.enqueue(_message(queue))
        consumer = broker.consume(queue, prefetch=4, timeout=TIMEOUT_MS)
        message = next(consumer)
        assert message is not None and message.message_id == sent.message_id
        consumer.ack(message)
    # a token per send, the failed attempt's too (each consumer found its message at once, taking none)
    assert broker.client.llen(wake_key(broker.namespace, queue)) == 3
    broker.client.delete(*broker.client.keys(f"{broker.namespace}:*"))


def _fetched(broker: WakingRedisBroker, queue: str, n: int) -> tuple[Any, list[Any]]:
    for _ in range(n):
        broker.enqueue(_message(queue))
    consumer = broker.consume(queue, prefetch=n, timeout=TIMEOUT_MS)
    got: list[Any] = []
    while len(got) < n:
        message = next(consumer)
        if message is not None:
            got.append(message)
    return consumer, got


def _unacked(broker: WakingRedisBroker, queue: str) -> tuple[int, int]:
    """(messages in this broker's unacked set of ``queue``, messages still stored for ``queue``)."""
    return (broker.client.scard(f"{broker.namespace}:__acks__.{broker.broker_id}.{queue}"),
            broker.client.hlen(f"{broker.namespace}:{queue}.msgs"))


def test_acks_that_arrive_while_one_is_on_its_way_share_the_next_round_trip() -> None:
    broker, queue = _broker()
    consumer, messages = _fetched(broker, queue, 20)
    assert _unacked(broker, queue) == (20, 20)
    batches: list[int] = []
    run = consumer._acks._run_many

    def first_one_slow(ids: list[str]) -> list[bool]:
        batches.append(len(ids))
        deadline = time.monotonic() + 5
        while len(batches) == 1 and len(consumer._acks._queue) < 19 and time.monotonic() < deadline:
            time.sleep(0.01)  # the first ack is on its way until every other one has queued behind it
        return run(ids)

    consumer._acks._run_many = first_one_slow
    threads = [threading.Thread(target=consumer.ack, args=(m,)) for m in messages]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert batches == [1, 19]
    assert _unacked(broker, queue) == (0, 0)
    assert consumer.outstanding_message_count == 0
    broker.client.delete(*broker.client.keys(f"{broker.namespace}:*"))


def test_a_failed_ack_batch_leaves_each_message_to_be_acked_alone() -> None:
    broker, queue = _broker()
    consumer, messages = _fetched(broker, queue, 3)

    def down(ids: list[str]) -> list[bool]:
        raise redis.ConnectionError("Redis went away")

    consumer._acks._run_many = down
    for message in messages:
        consumer.ack(message)
    assert _unacked(broker, queue) == (0, 0)
    broker.client.delete(*broker.client.keys(f"{broker.namespace}:*"))
