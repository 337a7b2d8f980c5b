"""The message transport: Redis or RabbitMQ, chosen by ``SINTRA_BROKER_URL``; every agent queue declared.

The broker only carries wake-ups (a job id): the database decides whether a job runs, when it is
retried and when it is finished. So the broker runs no retries of its own (no ``Retries``
middleware): a message is acked once its job has recorded its outcome, and a lost message is
found and sent again by the sweeper (:mod:`workers.dispatch`).
"""

from __future__ import annotations

import sys
import threading
import uuid
from typing import Any

import dramatiq
import redis
from dramatiq.broker import MessageProxy
from dramatiq.brokers.redis import RedisBroker, _RedisConsumer
from dramatiq.common import current_millis
from dramatiq.errors import ConnectionClosed
from dramatiq.middleware import AgeLimit, ShutdownNotifications, TimeLimit
from redis.exceptions import NoScriptError

from config.catalog import profile, profiles
from config.messages import JobMessage
from config.settings import Settings
from workers.batching import ALONE, GroupCommit
from workers.middleware.tracing import Tracing


def build_broker(settings: Settings, *, set_global: bool = False) -> dramatiq.Broker:
    """A broker for ``settings.transport_url`` with our middleware and every agent queue declared.

    Building it opens no connection (both brokers connect on first use).
    """
    middleware = [AgeLimit(), TimeLimit(), ShutdownNotifications(), Tracing()]
    url = settings.transport_url
    broker: dramatiq.Broker
    if url.startswith(("amqp://", "amqps://")):
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        # priority 1 is for jobs taken over from a dead worker: they had already waited their turn
        broker = RabbitmqBroker(url=url, middleware=middleware, confirm_delivery=True, max_priority=1)
    elif url.startswith(("redis://", "rediss://", "unix://")):
        broker = WakingRedisBroker(url=url, middleware=middleware, dead_message_ttl=7 * 86_400_000,
                                   heartbeat_timeout=60_000)
    else:
        raise ValueError(f"SINTRA_BROKER_URL must start with redis:// or amqp://, not {url.split(':', 1)[0]!r}")
    for spec in profiles():
        broker.declare_queue(spec.queue)
    if set_global:
        dramatiq.set_broker(broker)
    return broker


#: Wake-up tokens kept per queue at most (each wakes one idle consumer; extra ones cost an empty fetch).
WAKE_TOKENS = 64


def wake_key(namespace: str, queue: str) -> str:
    """The Redis list an idle consumer of ``queue`` blocks on."""
    return f"{namespace}:{queue}.wake"


def queue_wakes(pipe: Any, namespace: str, queues: list[str]) -> None:
    """Add to a Redis pipeline one wake-up per message sent to each of ``queues`` (a queue per message)."""
    for queue in dict.fromkeys(queues):
        key = wake_key(namespace, queue)
        pipe.lpush(key, *[b"1"] * min(queues.count(queue), WAKE_TOKENS))
        pipe.ltrim(key, 0, WAKE_TOKENS - 1)


def script_call(broker: RedisBroker, command: str, queue_name: str, *args: Any) -> list[Any]:
    """EVALSHA arguments of dramatiq's ``dispatch`` script running ``command`` on ``queue_name``: the
    arguments ``RedisBroker._dispatch`` builds (dramatiq 2.2.1, pinned), for a call queued on a pipeline."""
    return [broker.scripts["dispatch"].sha, 1, broker.namespace, command, current_millis(), queue_name,
            broker.broker_id, broker.heartbeat_timeout, broker.dead_message_ttl,
            broker._should_do_maintenance(command), broker._max_unpack_size(), *args]


class _WakingConsumer(_RedisConsumer):
    """dramatiq's Redis consumer, woken by the enqueue instead of polling (pickup latency, idle CPU).

    dramatiq's own consumer sleeps an exponential backoff (up to the worker timeout) whenever a fetch
    finds nothing, or whenever its process already holds its prefetch: a message sent meanwhile waits out
    the sleep (p99 pickup was 50 ms idle and hundreds of ms under load). Here an idle consumer blocks on
    a wake-up list that every enqueue pushes to (BLPOP, at most the worker timeout, so a message sent
    without a wake-up, e.g. by dramatiq's own requeue, is still found), and a consumer whose process is
    full waits for its next ack instead of a timer. ``__next__`` follows dramatiq 2.2.1's own (pinned).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._slot = threading.Event()
        self._wake = wake_key(self.broker.namespace, self.queue_name)
        self._acks: GroupCommit[str, bool] = GroupCommit(self._ack_many, name="ack")

    def ack(self, message: Any) -> None:
        """Ack in a group commit: the jobs that finish while an ack is on its way share the next round trip.

        Why: dramatiq acks each message with its own script call from the job's greenlet; at 256 in flight
        that was ~8% of the worker's CPU (py-spy, issue 12). A batch is the same ``ack`` script call per
        message, pipelined; a batch that fails leaves each member to ack alone (dramatiq's own call, which
        raises ``ConnectionClosed`` for the worker to retry). Acking twice is harmless (the script's SREM).
        """
        try:
            if self._acks(message.options["redis_message_id"]) is ALONE:
                super().ack(message)
        finally:
            self.queued_message_ids.discard(message.message_id)
            self._slot.set()

    def _ack_many(self, ids: list[str]) -> list[bool]:
        with self.broker.client.pipeline(transaction=False) as pipe:
            for rid in ids:
                pipe.evalsha(*script_call(self.broker, "ack", self.queue_name, rid))
            results = pipe.execute(raise_on_error=False)
        for result in results:
            if isinstance(result, Exception):  # e.g. NOSCRIPT after a Redis restart: each acks alone
                raise result
        return [True] * len(ids)

    def nack(self, message: Any) -> None:
        try:
            super().nack(message)
        finally:
            self._slot.set()

    def __next__(self) -> Any:
        try:
            while True:
                if self.message_cache:
                    data = self.message_cache.pop(0)
                    if data is None:
                        continue
                    message = dramatiq.Message.decode(data)
                    self.queued_message_ids.add(message.message_id)
                    return MessageProxy(message)
                self._slot.clear()
                if self.outstanding_message_count >= self.prefetch:
                    self._slot.wait(self.timeout / 1000)  # full: the next ack frees a slot
                    return None
                self.message_cache = self.broker.do_fetch(self.queue_name,
                                                          self.prefetch - self.outstanding_message_count)
                # woken, fetch at once (a return would cost the consumer thread a loop first); timed out,
                # return so that the consumer thread looks at its flags (stop, pause)
                if not self.message_cache and self.broker.client.blpop([self._wake],
                                                                       timeout=self.timeout / 1000) is None:
                    return None
        except redis.ConnectionError as exc:
            raise ConnectionClosed(exc) from None


class WakingRedisBroker(RedisBroker):
    """A Redis broker whose enqueue wakes an idle consumer of the queue (see :class:`_WakingConsumer`)."""

    def consume(self, queue_name: str, prefetch: int = 1, timeout: int = 5000) -> Any:
        return _WakingConsumer(self, queue_name, prefetch, timeout)

    def do_enqueue(self, queue_name: str, message_id: str, data: bytes) -> Any:
        """dramatiq's ``enqueue`` script call and the wake-up in one pipelined round trip.

        Why one: the consumer can only wake once the token is in; as two calls, the sender paid a
        second round trip (in the API's dispatcher thread also a second wait for the GIL) before it.
        The arguments are ``RedisBroker._dispatch``'s (dramatiq 2.2.1, pinned). The message goes in
        first on the same connection, so a woken consumer finds it.
        """
        script = self.scripts["dispatch"]
        args = script_call(self, "enqueue", queue_name, message_id, data)
        for attempt in (1, 2):
            with self.client.pipeline(transaction=False) as pipe:
                pipe.evalsha(*args)
                queue_wakes(pipe, self.namespace, [queue_name])
                result = pipe.execute(raise_on_error=False)[0]
            if isinstance(result, NoScriptError) and attempt == 1:
                # Redis restarted since the script was loaded: nothing was enqueued (the token costs an
                # idle consumer one empty fetch). Load it and send both again, the token after the message
                self.client.script_load(script.script)
                continue
            if isinstance(result, Exception):
                raise result
            return result
        return None  # not reached: the second attempt returns or raises



#: ARGV: namespace, broker id, queue names: drop one dead process's unacked messages, return their ids.
_DROP_DEAD = """
local ns, bid, out = ARGV[1], ARGV[2], {}
for i = 3, #ARGV do
  local q = ARGV[i]
  local acks = ns .. ":__acks__." .. bid .. "." .. q
  for _, id in ipairs(redis.call("smembers", acks)) do
    redis.call("hdel", ns .. ":" .. q .. ".msgs", id)
    table.insert(out, id)
  end
  redis.call("del", acks)
end
redis.call("zrem", ns .. ":__heartbeats__", bid)
return out
"""


def new_message_id() -> str:
    """A fresh dramatiq message id."""
    return str(uuid.uuid4())


class Enqueuer:
    """Sends a job's wake-up message on its agent's queue (by actor name: producers never import actors)."""

    def __init__(self, broker: dramatiq.Broker) -> None:
        self.broker = broker

    def warm(self) -> None:
        """Open the calling thread's RabbitMQ connection and channel and declare every queue now, so that
        the first message sent from this thread does not (Redis: nothing to do, a pool connects in one
        round trip).

        Why: a RabbitMQ connection, a channel in confirm mode and the three declarations of each queue
        are a dozen round trips; measured, the API's first enqueue took 44 ms instead of ~2 (the first
        jobs' pickup latency tail). The broker keeps one connection per thread, so the thread that
        sends must call this. Raises what connecting raises (the caller decides whether that matters).
        """
        rabbitmq = sys.modules.get("dramatiq.brokers.rabbitmq")  # not imported: not RabbitMQ (and pika stays out)
        if rabbitmq is not None and isinstance(self.broker, rabbitmq.RabbitmqBroker):
            for queue in sorted(self.broker.get_declared_queues()):
                self.broker.declare_queue(queue, ensure=True)
            self.broker.channel  # noqa: B018 - opens the connection and channel when no queue was pending

    def enqueue(self, msg: JobMessage, agent_id: str, *, message_id: str | None = None, front: bool = False) -> str:
        """Enqueue ``msg`` on ``agent_id``'s queue; return the id the broker keeps it under.

        (Redis stores each enqueued copy under its own ``redis_message_id``; that is what
        :meth:`has_messages` looks up.) ``front``: a job taken over from a dead worker goes to the head
        of a Redis queue, or at RabbitMQ priority 1, not behind the backlog it had already waited through.
        """
        spec = profile(agent_id)
        message: dramatiq.Message[Any] = dramatiq.Message(queue_name=spec.queue, actor_name=spec.actor_name, args=(),
                                                          kwargs=msg.model_dump(mode="json"), options={},
                                                          message_id=message_id or new_message_id())
        client = getattr(self.broker, "client", None)
        namespace = getattr(self.broker, "namespace", None)
        if front and client is not None and namespace is not None:
            rid = new_message_id()
            message = message.copy(options={"redis_message_id": rid})
            self.broker.emit_before("enqueue", message, None)
            with client.pipeline(transaction=True) as pipe:
                pipe.hset(f"{namespace}:{spec.queue}.msgs", rid, message.encode())
                pipe.lpush(f"{namespace}:{spec.queue}", rid)
                queue_wakes(pipe, namespace, [spec.queue])
                pipe.execute()
            self.broker.emit_after("enqueue", message, None)
            return rid
        if front:
            message = message.copy(options={"broker_priority": 1})
        sent = self.broker.enqueue(message)
        return str(sent.options.get("redis_message_id", sent.message_id))

    def has_messages(self, items: list[tuple[str, str]]) -> list[bool | None]:
        """For each ``(agent, message_id)``: whether the broker still holds it (queued or being worked
        on); None if it cannot tell. One pipelined round trip.

        Redis keeps every message body in ``<ns>:<queue>.msgs`` until it is acked, so a missing body is a
        lost message (Redis restarted without persistence, a crash between two calls). RabbitMQ cannot
        be asked about one message.
        """
        client = getattr(self.broker, "client", None)
        namespace = getattr(self.broker, "namespace", None)
        if client is None or namespace is None:
            return [None] * len(items)
        with client.pipeline(transaction=False) as pipe:
            for agent_id, message_id in items:
                pipe.hexists(f"{namespace}:{profile(agent_id).queue}.msgs", message_id)
            return [bool(x) for x in pipe.execute()]

    def drop_dead(self, broker_id: str, queues: list[str]) -> list[str] | None:
        """Forget the messages a dead worker process had fetched but not acked; return their ids.

        dramatiq would put them back itself only after its heartbeat timeout (60 s) and a 0.1 %
        maintenance lottery per call (QUEUES.md §2.2). The sweeper knows from our own heartbeats that
        the process is dead, drops them here atomically, and sends each job that was waiting on one a
        single new message (so a taken-over job does not also get its old message back). RabbitMQ needs
        nothing: it requeues unacked messages as soon as the dead consumer's connection closes. None
        when the broker has no such state.
        """
        client = getattr(self.broker, "client", None)
        namespace = getattr(self.broker, "namespace", None)
        if client is None or namespace is None:
            return None
        names = [n for q in queues for n in (q, f"{q}.DQ")]
        return [i.decode() if isinstance(i, bytes) else str(i)
                for i in client.eval(_DROP_DEAD, 0, namespace, broker_id, *names)]

    def is_waiting(self, agent_id: str, message_id: str) -> bool | None:
        """Whether the message is still in the queue itself (not yet fetched by any worker)."""
        client = getattr(self.broker, "client", None)
        namespace = getattr(self.broker, "namespace", None)
        if client is None or namespace is None:
            return None
        return client.lpos(f"{namespace}:{profile(agent_id).queue}", message_id) is not None
