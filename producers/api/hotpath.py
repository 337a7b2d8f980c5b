"""What the submission hot path holds for the app's life, and its authentication.

:func:`authenticate` answers a request whose bearer key this process authenticated before from the
:class:`~producers.api.keycache.KeyCache` and one Redis round trip (the throttle gate), with no
thread hop and no database query; the key's revocation is then checked inside the submission's own
transaction. Anything else (a key not seen yet, a console session, no key, a wrong key) goes through
the general :func:`producers.api.deps.get_caller`, so every refusal and throttle stays exactly as
on the other routes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from dramatiq.brokers.redis import RedisBroker
from fastapi import Request
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from config.settings import Settings
from producers.api.aio import AsyncGate, Coalescer, GroupCommit, TxRunner
from producers.api.deps import MAX_KEY_LENGTH, Caller, bearer, get_caller
from producers.api.dispatcher import AmqpSender, Dispatcher, LoopSender, Pending
from producers.api.errors import ApiError
from producers.api.keycache import KeyCache, KnownKey
from workers.broker import Enqueuer
from workers.store.keys import hash_key


@dataclass
class HotPath:
    """The hot path's resources: transaction runner, group commit, throttle gate, key cache, dispatcher."""

    engine: Engine
    runner: TxRunner
    commits: GroupCommit
    gate: AsyncGate
    keys: KeyCache
    dispatcher: Dispatcher
    #: On Redis and PostgreSQL the dispatcher's work is done on the event loop (no thread hand-over).
    loop_sender: LoopSender | None = None
    #: On RabbitMQ and PostgreSQL each job's message is published on the event loop at once (no batch).
    amqp_sender: AmqpSender | None = None
    #: The requests' committed jobs sent together: one batch, not one send per job (RabbitMQ: each at once).
    sends: Coalescer | AmqpSender = field(init=False)

    def __post_init__(self) -> None:
        self.sends = self.amqp_sender or Coalescer(self._send_many, self._send_one)

    async def _send_many(self, items: list[tuple[Pending]]) -> list[bool]:
        jobs = [p for (p,) in items]
        # on the loop, a lone job too: handing it to the dispatcher thread (and its sync clients) cost
        # ~0.3 ms of CPU, and at 16 concurrent clients many batches are of one job (py-spy: the thread had 4.6%
        # of the API's samples)
        if self.loop_sender is not None:
            return await self.loop_sender.send_many(jobs)
        return await self.dispatcher.send_many(jobs)

    async def _send_one(self, pending: Pending) -> bool:
        return (await self._send_many([(pending,)]))[0]

    @classmethod
    def build(cls, settings: Settings, engine: Engine, enqueuer: Enqueuer) -> HotPath:
        """The resources for an app (no connection is opened until the first submission)."""
        from producers.api.routes.submit import submit_in_tx, submit_many_in_tx

        runner = TxRunner(engine)
        broker = enqueuer.broker
        sender = LoopSender(broker, settings.transport_url, runner) if (
            isinstance(broker, RedisBroker) and runner.native) else None
        amqp = AmqpSender(broker, runner) if runner.native and AmqpSender.fits(broker) else None
        return cls(engine=engine, runner=runner, commits=GroupCommit(runner, submit_in_tx, submit_many_in_tx),
                   gate=AsyncGate(settings.redis_url), keys=KeyCache(), dispatcher=Dispatcher(engine, enqueuer),
                   loop_sender=sender, amqp_sender=amqp)

    async def close(self) -> None:
        """Close this event loop's connections and stop the dispatcher (it restarts on the next use)."""
        if self.loop_sender is not None:
            await self.loop_sender.close()
        if self.amqp_sender is not None:
            await self.amqp_sender.close()
        await self.runner.close()
        await self.gate.close()
        await run_in_threadpool(self.dispatcher.stop)


def bearer_key(request: Request) -> str | None:
    """The ``Authorization: Bearer`` key of a request, if it sends one of a plausible length."""
    return parse_bearer(request.headers.get("authorization", ""))


def parse_bearer(header: str) -> str | None:
    """The key of an ``Authorization`` header's value, if ``Bearer`` with a key of a plausible length."""
    scheme, _, key = header.partition(" ")
    key = key.strip()
    return key if scheme.lower() == "bearer" and key and len(key) <= MAX_KEY_LENGTH else None


#: The route's security in the OpenAPI document (what ``Security(bearer)`` would declare: FastAPI works
#: out a security dependency's scopes on every request, which profiling showed at ~7% of a submission).
OPENAPI_SECURITY: dict[str, Any] = {"security": [{bearer.scheme_name: []}]}


async def authenticate(request: Request) -> tuple[Caller, str | None]:
    """The caller and its key's hash (None for a console session); 401 or 429 as ``get_caller``.

    A dependency of the route (so, as on every route, a request is authenticated before its body is
    parsed or checked); the route declares the scheme with :data:`OPENAPI_SECURITY`.
    """
    hot: HotPath = request.app.state.hot
    key = bearer_key(request)
    key_hash = hash_key(key) if key else None
    known = hot.keys.get(key_hash) if key_hash else None
    if key and key_hash and known is not None:
        ip = request.client.host if request.client else "unknown"
        return await admit_known(request.app, ip, key, key_hash, known), key_hash
    caller = await run_in_threadpool(_general, request, hot.engine)
    if key and key_hash:  # the general path authenticated this key: remember its workspace
        hot.keys.put(key_hash, KnownKey(workspace=caller.workspace, operator=caller.operator))
    return caller, key_hash if key else None


async def admit_known(app: Any, ip: str, key: str, key_hash: str, known: KnownKey) -> Caller:
    """The caller of a key found in the key cache, once the throttle gate admits the request (else 429)."""
    s: Settings = app.state.settings
    await app.state.hot.gate.admit(ip=ip, key_hash=key_hash,
                                   limits=(s.auth_failures_per_ip, s.rate_limit_per_ip, s.rate_limit_per_key))
    return Caller(workspace=known.workspace, key_prefix=key[:10], operator=known.operator)


def _general(request: Request, engine: Engine) -> Caller:
    with Session(engine) as session:
        return get_caller(request, session)


async def refuse_revoked(app: Any, ip: str, key_hash: str) -> ApiError:
    """Forget a key found revoked, count the failed authentication (of address ``ip``), and give the 401 to raise."""
    hot: HotPath = app.state.hot
    hot.keys.forget(key_hash)
    s: Settings = app.state.settings
    await run_in_threadpool(app.state.throttle.hit, "auth_failures", ip, s.auth_failures_per_ip,
                            what="failed authentications")
    return ApiError(401, "unauthorized", "invalid or revoked API key")
