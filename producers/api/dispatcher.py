"""Send just-committed jobs' messages from one thread, clearing their outbox entries in batches.

The submission route commits the job with its outbox entry (``dispatch_at``), hands the job here
and awaits its send, so it answers only once the message is on the broker, as before. This thread
takes every job waiting at that moment, sends each message (the broker clients are synchronous),
then clears all their outbox entries in one transaction: one commit per batch instead of one per
submission. If the broker is down, a job keeps its entry and a relay sends it when the broker is
back (:func:`workers.dispatch.relay_once`); if the process dies first, the same.

With a Redis broker and PostgreSQL, the hot path sends its batches itself on the event loop
(:class:`LoopSender`: one pipelined round trip, one statement); a lone job still goes through
``Enqueuer.enqueue`` on this thread, like every other sender.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import queue
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime

from typing import Any

import weakref

import dramatiq
import redis.asyncio as aredis
import structlog
from dramatiq.brokers.redis import RedisBroker
from sqlalchemy import bindparam, update
from sqlalchemy.engine import Connection, Engine

from config.catalog import agent
from config.messages import JobMessage
from producers.api.aio import PerLoop
from workers.broker import Enqueuer, new_message_id, queue_wakes, script_call
from workers.store.db import atomic
from workers.store.models import Job, utcnow
from workers.store.submit import json_rows, timestamp

log = structlog.get_logger("sintra.dispatch")

#: Most jobs sent and marked per batch.
MAX_BATCH = 500


@dataclass
class Pending:
    """A committed job waiting for its message."""

    job_id: str
    workspace: str
    agent: str
    entry: datetime
    #: The request's context (its trace span, its log context): the message is sent under it, so the
    #: job's trace continues the request's
    context: contextvars.Context = field(default_factory=contextvars.copy_context)


@dataclass
class Parcel:
    """Jobs handed over together, and the one future their caller awaits: the ids sent and cleared.

    One future per parcel, not per job: waking the event loop from this thread is a system call, and
    the hot path hands over a whole group commit's jobs at once.
    """

    jobs: list[Pending]
    done: Future[set[str]] = field(default_factory=Future)


class Dispatcher:
    """A daemon thread sending committed jobs' messages and clearing their outbox entries."""

    def __init__(self, engine: Engine, enqueuer: Enqueuer) -> None:
        self.engine, self.enqueuer = engine, enqueuer
        self.queue: queue.SimpleQueue[Parcel | None] = queue.SimpleQueue()
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None
        #: The broker's dispatch script is known to Redis (loaded once, not checked per pipeline).
        self.script_loaded = False

    async def send(self, job_id: str, workspace: str, agent: str, entry: datetime) -> bool:
        """Send a committed job's message; True once sent and its entry cleared, False if deferred to a relay."""
        return job_id in await asyncio.wrap_future(self._put([Pending(job_id, workspace, agent, entry)]))

    async def send_many(self, jobs: list[Pending]) -> list[bool]:
        """:meth:`send` for many jobs at once (each :class:`Pending` carries its own request's context)."""
        sent = await asyncio.wrap_future(self._put(jobs))
        return [p.job_id in sent for p in jobs]

    def send_sync(self, job_id: str, workspace: str, agent: str, entry: datetime) -> bool:
        """:meth:`send` for a sync route (it blocks its thread until the batch is sent)."""
        return job_id in self._put([Pending(job_id, workspace, agent, entry)]).result(timeout=60)

    def warm(self) -> None:
        """Start the thread now, and have it connect to the broker before it takes any job (see
        :meth:`workers.broker.Enqueuer.warm`); returns at once."""
        self._start()

    def _start(self) -> None:
        if self.thread is None:
            with self.lock:
                if self.thread is None:
                    self.thread = threading.Thread(target=self._loop, name="sintra-dispatch", daemon=True)
                    self.thread.start()

    def _put(self, jobs: list[Pending]) -> Future[set[str]]:
        self._start()
        parcel = Parcel(jobs)
        self.queue.put(parcel)
        return parcel.done

    def stop(self) -> None:
        """Send what is waiting, then end the thread."""
        if self.thread is not None:
            self.queue.put(None)
            self.thread.join(timeout=10)
            self.thread = None

    def _loop(self) -> None:
        try:
            self.enqueuer.warm()
        except Exception as exc:  # noqa: BLE001 - broker down: the first send meets it and defers to a relay
            log.warning("dispatch.warm_failed", error=type(exc).__name__)
        while True:
            first = self.queue.get()
            if first is None:
                return
            parcels, size = [first], len(first.jobs)
            while size < MAX_BATCH:
                try:
                    item = self.queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self.queue.put(None)  # stop after this batch
                    break
                parcels.append(item)
                size += len(item.jobs)
            try:
                sent = self._send([p for parcel in parcels for p in parcel.jobs])
            except BaseException as exc:  # never leave a request waiting forever
                for parcel in parcels:
                    if not parcel.done.done():
                        parcel.done.set_exception(exc)
                continue
            for parcel in parcels:
                parcel.done.set_result({p.job_id for p in parcel.jobs} & sent)

    def _send(self, batch: list[Pending]) -> set[str]:
        """Send the batch's messages and clear their entries; return the ids of those both sent and cleared."""
        sent: list[tuple[Pending, str]] = []
        if isinstance(self.enqueuer.broker, RedisBroker) and len(batch) > 1:
            try:
                sent = self._enqueue_pipelined(self.enqueuer.broker, batch)
            except Exception as exc:  # noqa: BLE001 - any broker failure: the outbox keeps the jobs
                self.script_loaded = False  # Redis may have restarted without its scripts
                log.warning("dispatch.deferred", jobs=len(batch), error=type(exc).__name__)
        else:
            for p in batch:
                try:
                    message = JobMessage(job_id=p.job_id, workspace=p.workspace)
                    sent.append((p, p.context.run(self.enqueuer.enqueue, message, p.agent)))
                except Exception as exc:  # noqa: BLE001 - any broker failure: the outbox keeps the job
                    log.warning("dispatch.deferred", job_id=p.job_id, error=type(exc).__name__)
        return {p.job_id for p, _ in sent} if sent and self._mark(sent) else set()

    def _mark(self, sent: list[tuple[Pending, str]]) -> bool:
        """Clear the sent jobs' outbox entries (compare-and-clear, as ``mark_dispatched``) in one transaction."""
        try:
            if self.engine.dialect.name == "postgresql":  # one statement over a JSON document: no per-row execution
                atomic(self.engine, lambda conn: _mark_pg(conn, sent))
            else:
                now, table = utcnow(), Job.__table__  # type: ignore[attr-defined]
                stmt = (update(table).where(table.c.id == bindparam("jid"), table.c.dispatch_at == bindparam("entry"))
                        .values(dispatch_at=None, message_id=bindparam("mid"), updated_at=bindparam("now")))
                rows = [{"jid": p.job_id, "entry": p.entry, "mid": mid, "now": now} for p, mid in sent]
                atomic(self.engine, lambda conn: conn.execute(stmt, rows), single=False)
        except Exception as exc:  # noqa: BLE001 - the entries stay: a relay sends those jobs again (harmless)
            log.warning("dispatch.mark_failed", jobs=len(sent), error=type(exc).__name__)
            return False
        return True

    def _enqueue_pipelined(self, broker: RedisBroker, batch: list[Pending]) -> list[tuple[Pending, str]]:
        """Send a batch's messages to Redis in one pipelined round trip (see :func:`redis_messages`)."""
        messages = redis_messages(broker, batch)
        script = broker.scripts["dispatch"]
        if not self.script_loaded:  # a pipeline with ``client=pipe`` scripts would ask SCRIPT EXISTS every time
            broker.client.script_load(script.script)
            self.script_loaded = True
        with broker.client.pipeline(transaction=False) as pipe:
            # every command is the same EVALSHA: after a Redis restart all fail NOSCRIPT together, none sent
            for _, message in messages:
                pipe.evalsha(*_dispatch_args(broker, message))
            queue_wakes(pipe, broker.namespace, [m.queue_name for _, m in messages])
            pipe.execute()
        return _after_enqueue(broker, messages)


class LoopSender:
    """The dispatcher's work done on the event loop itself: Redis broker and PostgreSQL only.

    Why: measured, the dispatcher thread cost ~0.3 ms of CPU per submission, mostly handing work and
    the GIL between threads and the synchronous clients' I/O; here the batch's messages go in one
    pipelined round trip of an asyncio Redis client and their outbox entries are cleared by one
    statement on the hot path's async pool. Same messages, same middleware hooks, same outcomes as
    :class:`Dispatcher` (False: deferred to the relay, the outbox keeps the job).
    """

    def __init__(self, broker: RedisBroker, url: str, runner: Any) -> None:
        self.broker, self.runner = broker, runner
        self.clients: PerLoop[Any] = PerLoop(lambda: aredis.Redis.from_url(url))
        #: The event loops whose Redis client knows the dispatch script is loaded.
        self.loaded: weakref.WeakSet[Any] = weakref.WeakSet()

    async def send_many(self, batch: list[Pending]) -> list[bool]:
        """Send the batch and clear its entries; each True once sent and cleared."""
        try:
            messages = redis_messages(self.broker, batch)
            client = self.clients.get()
            script = self.broker.scripts["dispatch"]
            if client not in self.loaded:
                await client.script_load(script.script)
                self.loaded.add(client)
            async with client.pipeline(transaction=False) as pipe:
                for _, message in messages:  # all fail together after a Redis restart: none sent
                    pipe.evalsha(*_dispatch_args(self.broker, message))
                queue_wakes(pipe, self.broker.namespace, [m.queue_name for _, m in messages])
                await pipe.execute()
            sent = _after_enqueue(self.broker, messages)
        except Exception as exc:  # noqa: BLE001 - any broker failure: the outbox keeps the jobs
            self.loaded.discard(self.clients.get())  # Redis may have restarted without its scripts
            log.warning("dispatch.deferred", jobs=len(batch), error=type(exc).__name__)
            return [False] * len(batch)
        try:
            await self.runner.run(_mark_pg, sent)
        except Exception as exc:  # noqa: BLE001 - the entries stay: a relay sends those jobs again (harmless)
            log.warning("dispatch.mark_failed", jobs=len(sent), error=type(exc).__name__)
            return [False] * len(batch)
        return [True] * len(batch)

    async def close(self) -> None:
        """Close this loop's Redis connections."""
        client = self.clients.pop()
        if client is not None:
            await client.aclose()


def redis_messages(broker: RedisBroker, batch: list[Pending]) -> list[tuple[Pending, dramatiq.Message[Any]]]:
    """Each job's message, its ``before_enqueue`` hooks run under its request's context (tracing continues).

    Why not ``Enqueuer.enqueue`` per job: each is a Lua call and a round trip of its own, which profiling
    showed was the dispatcher's largest cost at 1,500 submissions/s. This, :func:`_dispatch_args` and
    :func:`_after_enqueue` are ``RedisBroker.enqueue`` (dramatiq 2.2, pinned) with its script queued on a
    pipeline: the same message, the same middleware hooks, the same ``dispatch`` script call.
    """
    messages: list[tuple[Pending, dramatiq.Message[Any]]] = []
    for p in batch:
        spec = agent(p.agent)
        message: dramatiq.Message[Any] = dramatiq.Message(
            queue_name=spec.queue, actor_name=spec.actor_name, args=(),
            kwargs=JobMessage(job_id=p.job_id, workspace=p.workspace).model_dump(mode="json"),
            options={"redis_message_id": new_message_id()}, message_id=new_message_id())
        p.context.run(broker.emit_before, "enqueue", message, None)
        messages.append((p, message))
    return messages


def _dispatch_args(broker: RedisBroker, message: dramatiq.Message[Any]) -> list[Any]:
    """EVALSHA arguments of dramatiq's ``dispatch`` script enqueueing ``message``."""
    return script_call(broker, "enqueue", message.queue_name, message.options["redis_message_id"],
                       message.encode())


def _after_enqueue(broker: RedisBroker, messages: list[tuple[Pending, dramatiq.Message[Any]]],
                   ) -> list[tuple[Pending, str]]:
    for p, message in messages:
        p.context.run(broker.emit_after, "enqueue", message, None)
    return [(p, str(message.options["redis_message_id"])) for p, message in messages]


def _mark_pg(conn: Connection, sent: list[tuple[Pending, str]]) -> None:
    # one JSON parameter, not three arrays: psycopg dumps arrays element by element in Python
    conn.exec_driver_sql(_MARK_PG, {"sent": json.dumps([(p.job_id, timestamp(p.entry), mid) for p, mid in sent]),
                                    "now": utcnow()})


#: The compare-and-clear of :meth:`Dispatcher._mark` for a whole batch (PostgreSQL).
_MARK_PG = f"""
UPDATE jobs SET dispatch_at = NULL, message_id = v.mid, updated_at = %(now)s
FROM (SELECT x->>0 AS jid, (x->>1)::timestamptz AS entry, x->>2 AS mid
      FROM {json_rows("sent")} AS x) AS v
WHERE jobs.id = v.jid AND jobs.dispatch_at = v.entry
"""
