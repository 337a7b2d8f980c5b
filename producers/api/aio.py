"""Async resources of the API's hot path: a transaction runner and a one-round-trip throttle gate.

Both hold connections bound to an event loop, so they keep one set per running loop (the app may
be served by several loops at once: uvicorn, and in tests a ``TestClient`` next to a served copy).

* :class:`TxRunner` runs a sync function over one transaction's ``Connection``. On PostgreSQL it goes
  through an ``AsyncEngine`` (psycopg's async mode, pooled): the request never hops to the thread pool
  and waits on the database without holding a thread, so one process keeps many submissions in
  flight. SQLite (development) has no async driver here: its transaction runs in a worker thread.
* :class:`AsyncGate` is :class:`producers.api.limits.Throttle`'s three checks of an authenticated
  request (failed authentications of the address, requests of the address, requests of the key) in
  one Lua call: one Redis round trip instead of four.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import Callable
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


class TxRunner:
    """Run ``fn(conn, ...)`` in one transaction, without a thread hop on PostgreSQL."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.native = engine.dialect.name == "postgresql"
        self.engines = PerLoop(self._async_engine)

    def _async_engine(self) -> Any:
        from sqlalchemy.ext.asyncio import create_async_engine

        # as large as the sync engine's pool: beyond 30 submissions in flight, more connections only queue in PG
        return create_async_engine(self.engine.url, pool_size=10, max_overflow=20, pool_recycle=1800,
                                   hide_parameters=True)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(conn, *args)`` in a transaction committed when it returns (rolled back if it raises)."""
        if not self.native:
            return await anyio.to_thread.run_sync(self._sync, fn, *args)
        async with self.engines.get().begin() as conn:
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

    async def admit(self, *, ip: str, key_hash: str, limits: tuple[int, int, int]) -> None:
        """Count the request for its address and key; 429 with ``Retry-After`` past any limit."""
        now = time.time()
        window = int(now // WINDOW_SECONDS)
        retry = int((window + 1) * WINDOW_SECONDS - now) + 1
        keys = [f"{self.prefix}:{bucket}:{ident}:{window}"
                for bucket, ident in (("auth_failures", ip), ("ip", ip), ("key", key_hash))]
        try:
            refused = int(await self.scripts.get()(keys=keys, args=[*limits, WINDOW_SECONDS + 5]))
        except redis_errors as exc:  # Redis down: serve unthrottled rather than fail every request
            log.warning("throttle.unavailable", error=type(exc).__name__)
            return
        if refused:
            raise too_many(_REFUSED[refused], retry)

    async def close(self) -> None:
        """Close this loop's Redis connections."""
        self.scripts.pop()
        client = self.clients.pop()
        if client is not None:
            await client.aclose()
