"""Request limits of the API: body size (before parsing and auth), input checks, and rate limits.

* :class:`BodyLimit` is a pure ASGI middleware: a ``Content-Length`` over the limit is answered 413 at
  once; a chunked body is counted as it streams and cut off at the limit. Nothing is parsed, no key is
  looked up, no route runs for an oversized request.
* :func:`check_inputs` (a dependency on every route) refuses control characters in path and query
  parameters and in identifier fields of the body, a NUL anywhere in the body (PostgreSQL cannot store
  it), and oversized ``params``: 422 naming the field, never a 500.
* :class:`Throttle` counts requests in fixed one-minute windows in Redis, per key, per client address
  and per failed authentication (so guessing keys is throttled before any key is looked up): 429 with
  ``Retry-After``.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import redis as redis_lib
import structlog
from fastapi import Request

from producers.api.errors import ApiError

log = structlog.get_logger("sintra.api")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

#: Body fields that name things (never free text): no control characters at all.
IDENTIFIER_FIELDS = frozenset({"agent", "integration", "action", "idempotency_key", "name", "cron", "timezone",
                               "misfire_policy", "run_at"})
#: Length of a rate-limit window in seconds.
WINDOW_SECONDS = 60


#: C0 and C1 control characters and DEL (a regex: a per-character Python loop cost ~0.1 ms per submission).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def _control(text: str) -> bool:
    return _CONTROL.search(text) is not None


class BodyLimit:
    """Answer 413 to any request whose body exceeds ``limit`` bytes, without reading the rest of it."""

    def __init__(self, app: Callable[..., Awaitable[None]], limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = next((v for k, v in scope.get("headers") or () if k == b"content-length"), None)
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            return await self._refuse(send)
        if declared is not None:
            # the server delivers no more body than a Content-Length declares (what follows is the next
            # request): nothing left to count, so no wrapped receive and send per message
            return await self.app(scope, receive, send)
        seen, started, refused = 0, False, False

        async def counted_receive() -> Message:
            nonlocal seen, refused
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    if not started and not refused:
                        refused = True
                        await self._refuse(send)
                    # the app sees the client go away: it stops reading and its answer is dropped
                    return {"type": "http.disconnect"}
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if refused:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, tracking_send)
        except Exception:
            if not refused:
                raise

    async def _refuse(self, send: Send) -> None:
        body = json.dumps({"error": {"code": "body_too_large",
                                     "message": f"request body is larger than {self.limit} bytes"}}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})


async def check_inputs(request: Request) -> None:
    """Refuse control characters in ids, NULs in the body and oversized params, naming the field."""
    for name, value in request.path_params.items():
        if isinstance(value, str) and _control(value):
            raise _bad(f"path parameter {name}", "contains control characters")
    for name, value in request.query_params.multi_items():
        if _control(name) or _control(value):
            raise _bad(f"query parameter {name!r}", "contains control characters")
    if request.method not in ("POST", "PUT", "PATCH") or "json" not in request.headers.get("content-type", "json"):
        return
    raw = await request.body()
    if not raw:
        return
    try:
        body = json.loads(raw)
    except ValueError:
        return  # FastAPI answers malformed JSON itself
    check_body(body, request.app.state.settings.max_params_bytes)


def check_body(body: Any, limit: int) -> None:
    """:func:`check_inputs`' checks of a parsed JSON body: 422 naming the field."""
    _walk(body, "")
    for holder in (body, body.get("job") if isinstance(body, dict) else None):
        if isinstance(holder, dict) and "params" in holder and len(json.dumps(holder["params"])) > limit:
            where = "params" if holder is body else "job.params"
            raise _bad(where, f"is larger than {limit} bytes of JSON")


def _walk(value: Any, where: str) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{where}.{key}" if where else str(key)
            if "\x00" in key or _control(key):
                raise _bad(f"field name at {where or 'body'}", "contains control characters")
            if isinstance(item, str) and key in IDENTIFIER_FIELDS and _control(item):
                raise _bad(path, "contains control characters")
            _walk(item, path)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _walk(item, f"{where}.{i}" if where else str(i))
    elif isinstance(value, str) and "\x00" in value:
        raise _bad(where or "body", "contains a NUL character")


def _bad(field: str, problem: str) -> ApiError:
    return ApiError(422, "invalid_request", f"invalid request: {field} {problem}",
                    fields=[{"field": field, "problem": problem}])


#: What a Redis outage raises (connection refused or lost, timeouts).
redis_errors: tuple[type[BaseException], ...] = (redis_lib.ConnectionError, redis_lib.TimeoutError, OSError)


class Throttle:
    """Fixed-window counters in Redis; :meth:`hit` raises 429 with ``Retry-After`` past a limit."""

    def __init__(self, redis: Any, prefix: str = "sintra:throttle") -> None:
        self.redis, self.prefix = redis, prefix

    def _key(self, bucket: str, ident: str) -> tuple[str, int]:
        now = time.time()
        window = int(now // WINDOW_SECONDS)
        retry = int((window + 1) * WINDOW_SECONDS - now) + 1
        return f"{self.prefix}:{bucket}:{ident}:{window}", retry

    def count(self, bucket: str, ident: str) -> int:
        """The current window's count."""
        key, _ = self._key(bucket, ident)
        return int(self.redis.get(key) or 0)

    def hit(self, bucket: str, ident: str, limit: int, *, what: str) -> None:
        """Count one event; 429 when the window already holds ``limit``."""
        key, retry = self._key(bucket, ident)
        try:
            pipe = self.redis.pipeline()
            pipe.incr(key)
            pipe.expire(key, WINDOW_SECONDS + 5)
            count = int(pipe.execute()[0])
        except redis_errors as exc:  # Redis down: serve unthrottled rather than fail every request
            log.warning("throttle.unavailable", error=type(exc).__name__)
            return
        if count > limit:
            raise too_many(what, retry)

    def check(self, bucket: str, ident: str, limit: int, *, what: str) -> None:
        """429 when the window already holds ``limit`` events (counts nothing)."""
        key, retry = self._key(bucket, ident)
        try:
            seen = int(self.redis.get(key) or 0)
        except redis_errors as exc:  # Redis down: serve unthrottled rather than fail every request
            log.warning("throttle.unavailable", error=type(exc).__name__)
            return
        if seen >= limit:
            raise too_many(what, retry)


def too_many(what: str, retry_after: int) -> ApiError:
    """The 429 answer."""
    return ApiError(429, "rate_limited", f"too many {what}; retry after {retry_after} s",
                    retry_after=retry_after, headers={"Retry-After": str(retry_after)})
