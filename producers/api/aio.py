"""Async resources of the API's hot path: a transaction runner and a one-round-trip throttle gate.

Both hold connections bound to an event loop, so they keep one set per running loop (the app may
be served by several loops at once: uvicorn, and in tests a ``TestClient`` next to a served copy).

* :class:`TxRunner` runs a sync function over a ``Connection``. On PostgreSQL it goes through an
  ``AsyncEngine`` (psycopg's async mode, pooled) in autocommit: the request never hops to the thread
  pool and waits on the database without holding a thread, so one process keeps many submissions in
  flight; the function makes its writes one statement (atomic by itself), which saves the BEGIN and
  COMMIT round trips. SQLite (development) has no async driver here: the function runs in a worker
  thread inside one transaction.
* :class:`AsyncGate` is :class:`producers.api.limits.Throttle`'s three checks of an authenticated
  request (failed authentications of the address, requests of the address, requests of the key) in
  one Lua call: one Redis round trip instead of four.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

import anyio.to_thread
import redis.asyncio as aredis
import structlog
from sqlalchemy.engine import Connection, Engine

from producers.api.limits import WINDOW_SECONDS, redis_errors, too_many

log = structlog.get_logger("sintra.api")
T = TypeVar("T")


class PerLoop(Generic[T]):
    """One ``factory()`` result per running event loop, dropped with its loop."""

    def __init__(self, factory: Callable[[], T]) -> None:
        self.factory = factory
        self.items: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, T] = weakref.WeakKeyDictionary()

    def get(self) -> T:
        """This loop's instance."""
        loop = asyncio.get_running_loop()
        item = self.items.get(loop)
        if item is None:
            item = self.items[loop] = self.factory()
        return item

    def pop(self) -> T | None:
        """Forget (and return) this loop's instance, to close it."""
        return self.items.pop(asyncio.get_running_loop(), None)


#: Database connections the hot path keeps per event loop (its submissions in flight at once).
POOL_SIZE = 32


class TxRunner:
    """Run ``fn(conn, ...)``: on PostgreSQL in autocommit without a thread hop, elsewhere in one transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.native = engine.dialect.name == "postgresql"
        self.engines = PerLoop(self._async_engine)

    def _async_engine(self) -> Any:
        from sqlalchemy.ext.asyncio import create_async_engine

        # kept open up to POOL_SIZE: a pool smaller than the submissions in flight opens and closes an
        # overflow connection per request (a PostgreSQL backend fork each), which profiling showed costs
        # more than the submission; beyond POOL_SIZE requests wait for a connection instead
        return create_async_engine(self.engine.url, pool_size=POOL_SIZE, max_overflow=0, pool_timeout=30,
                                   pool_recycle=1800, hide_parameters=True, isolation_level="AUTOCOMMIT")

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(conn, *args)``; each of its statements must be atomic by itself (autocommit on PostgreSQL)."""
        if not self.native:
            return await anyio.to_thread.run_sync(self._sync, fn, *args)
        async with self.engines.get().connect() as conn:
            return await conn.run_sync(fn, *args)

    def _sync(self, fn: Callable[..., T], *args: Any) -> T:
        conn: Connection
        with self.engine.begin() as conn:
            return fn(conn, *args)

    async def close(self) -> None:
        """Close this loop's pooled connections."""
        engine = self.engines.pop()
        if engine is not None:
            await engine.dispose()


#: Most submissions in one group commit.
MAX_BATCH = 128
#: Batches in flight at once per event loop and kind: one lets the next batch grow while it runs (measured:
#: 0.77 ms CPU per submission with one, 0.86-0.98 with two, at 16 concurrent clients).
MAX_INFLIGHT = 1


class _Waiting:
    """One event loop's submissions waiting for a batch, and how many batches run."""

    def __init__(self) -> None:
        self.items: list[tuple[tuple[Any, ...], asyncio.Future[Any]]] = []
        self.running = 0
        self.tasks: set[asyncio.Task[None]] = set()


class Coalescer:
    """Calls of ``one(*args)`` that arrive while :data:`MAX_INFLIGHT` batches are in flight go together
    as one ``many([args, ...])`` in the next batch.

    Why: at 1,500 requests/s a round trip's fixed cost (the driver's send and receive, the loop's wake-up,
    the pool's lock) was most of a request's CPU; a batch pays it once. No timer: the first call goes at
    once, so an idle API adds no latency and a busy one batches more. ``many`` answers each call with
    its result or the exception that call raises; if ``many`` itself fails, each call is retried alone
    with ``one``, so only a call whose own part fails fails.
    """

    def __init__(self, many: Callable[[list[tuple[Any, ...]]], Awaitable[list[Any]]],
                 one: Callable[..., Awaitable[Any]]) -> None:
        self._many, self._one = many, one
        self.waiting: PerLoop[_Waiting] = PerLoop(_Waiting)

    async def call(self, *args: Any) -> Any:
        """``one(*args)``'s result (or its exception), done with whatever batch it joins."""
        w = self.waiting.get()
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        w.items.append((args, future))
        if w.running < MAX_INFLIGHT:
            w.running += 1
            task = asyncio.get_running_loop().create_task(self._drain(w))
            w.tasks.add(task)
            task.add_done_callback(w.tasks.discard)
        result = await future
        if isinstance(result, Exception):
            raise result
        return result

    async def _drain(self, w: _Waiting) -> None:
        batch: list[tuple[tuple[Any, ...], asyncio.Future[Any]]] = []
        try:
            await asyncio.sleep(0)  # the requests read in this same loop turn join the first batch
            while w.items:
                batch, w.items = w.items[:MAX_BATCH], w.items[MAX_BATCH:]
                try:
                    results = await self._many([args for args, _ in batch])
                except Exception:  # noqa: BLE001 - each alone: only a call whose own part fails fails
                    results = await asyncio.gather(*(self._alone(args) for args, _ in batch))
                for (_, future), result in zip(batch, results, strict=True):
                    if not future.done():
                        future.set_result(result)
                batch = []
        except BaseException as exc:  # cancelled with the loop: no request is left waiting
            for _, future in batch + w.items:
                if not future.done():
                    future.set_exception(exc)
            raise
        finally:
            w.running -= 1

    async def _alone(self, args: tuple[Any, ...]) -> Any:
        try:
            return await self._one(*args)
        except Exception as exc:  # noqa: BLE001 - answered to its own call
            return exc


class GroupCommit(Coalescer):
    """Group commit: ``one(conn, *args)`` per submission, run as ``many(conn, [args, ...])`` per batch.

    The submissions arriving while a batch is in flight share one lookup and one insert statement (see
    :class:`Coalescer`); a submission is answered only after its own row committed, and if the batch's
    statement fails (one row PostgreSQL refuses) only that submission fails. Without PostgreSQL (no
    async driver, one transaction per call) ``one`` runs per call.
    """

    def __init__(self, runner: TxRunner, one: Callable[..., Any], many: Callable[..., list[Any]]) -> None:
        self.runner, self.one, self.many = runner, one, many
        super().__init__(self._run_many, self._run_one)

    async def run(self, *args: Any) -> Any:
        """``one(conn, *args)``'s result (or its exception), committed with whatever batch it joins."""
        if not self.runner.native:
            return await self.runner.run(self.one, *args)
        return await self.call(*args)

    async def _run_many(self, items: list[tuple[Any, ...]]) -> list[Any]:
        return await self.runner.run(self.many, items)

    async def _run_one(self, *args: Any) -> Any:
        return await self.runner.run(self.one, *args)


#: KEYS: failures of the address, requests of the address, requests of the key.
#: ARGV: their three limits, the window TTL. Returns 0 (pass) or which one refused (1, 2, 3).
_GATE = """
if tonumber(redis.call('get', KEYS[1]) or '0') >= tonumber(ARGV[1]) then return 1 end
for i = 2, 3 do
  local n = redis.call('incr', KEYS[i])
  if n == 1 then redis.call('expire', KEYS[i], ARGV[4]) end
  if n > tonumber(ARGV[i]) then return i end
end
return 0
"""
_REFUSED = {1: "failed authentications", 2: "requests from this address", 3: "requests for this key"}


class AsyncGate:
    """The throttle of an authenticated request in one Redis round trip (same keys as ``Throttle``)."""

    def __init__(self, redis_url: str, prefix: str = "sintra:throttle") -> None:
        self.prefix = prefix
        self.clients = PerLoop(lambda: aredis.Redis.from_url(redis_url))
        self.scripts: PerLoop[Any] = PerLoop(lambda: self.clients.get().register_script(_GATE))
        # the requests in flight together are counted in one pipelined round trip
        self.batches = Coalescer(self._many, self._one)

    async def admit(self, *, ip: str, key_hash: str, limits: tuple[int, int, int]) -> None:
        """Count the request for its address and key; 429 with ``Retry-After`` past any limit."""
        now = time.time()
        window = int(now // WINDOW_SECONDS)
        retry = int((window + 1) * WINDOW_SECONDS - now) + 1
        keys = [f"{self.prefix}:{bucket}:{ident}:{window}"
                for bucket, ident in (("auth_failures", ip), ("ip", ip), ("key", key_hash))]
        try:
            refused = int(await self.batches.call(keys, [*limits, WINDOW_SECONDS + 5]))
        except redis_errors as exc:  # Redis down: serve unthrottled rather than fail every request
            log.warning("throttle.unavailable", error=type(exc).__name__)
            return
        if refused:
            raise too_many(_REFUSED[refused], retry)

    async def _one(self, keys: list[str], args: list[Any]) -> Any:
        return await self.scripts.get()(keys=keys, args=args)

    async def _many(self, items: list[tuple[Any, ...]]) -> list[Any]:
        if len(items) == 1:
            return [await self._one(*items[0])]
        script = self.scripts.get()
        async with self.clients.get().pipeline(transaction=False) as pipe:
            for keys, args in items:
                pipe.evalsha(script.sha, len(keys), *keys, *args)
            return list(await pipe.execute())  # any error (NOSCRIPT after a restart): each alone

    async def close(self) -> None:
        """Close this loop's Redis connections."""
        self.scripts.pop()
        client = self.clients.pop()
        if client is not None:
            await client.aclose()
