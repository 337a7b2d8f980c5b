"""Shared simulator machinery: in-memory state under one lock, the call log, and faults on demand.

Control API (not part of any provider): ``POST /_sim/faults``, ``POST /_sim/reset``,
``GET /_sim/calls?provider=``, ``POST /_sim/grants/revoke`` (:mod:`simulator.grants`). A fault answers
the next ``times`` matching requests (optionally after letting ``after`` matching requests through) with
the provider's own error body for that status.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import secrets
import threading
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field

from simulator import grants


class FaultSpec(BaseModel):
    """A fault as posted to ``/_sim/faults``."""

    provider: str
    status: int = Field(default=500, ge=100, le=599)
    times: int = Field(default=1, ge=1)
    path: str | None = None
    method: str | None = None
    after: int = Field(default=0, ge=0, description="Let this many matching requests through first.")
    retry_after: float | None = None
    body: str | None = None
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = Field(default_factory=dict)
    delay: float = Field(default=0.0, ge=0, le=600, description="Seconds to hold the answer (a hung provider).")


@dataclass
class Fault:
    """A pending fault and how many matching requests it still lets through or answers."""

    spec: FaultSpec
    skip: int
    left: int

    def matches(self, provider: str, method: str, path: str) -> bool:
        """Whether this fault applies to the request."""
        s = self.spec
        return (s.provider == provider and (s.path is None or s.path in path)
                and (s.method is None or s.method.upper() == method))


@dataclass
class SimState:
    """All simulator state; every read and write goes through ``lock``."""

    lock: threading.RLock = field(default_factory=threading.RLock)
    calls: list[dict[str, Any]] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    accounts: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    #: Revoked OAuth grants by (provider, first token) with the reason, and each issued token's grant.
    revoked: dict[tuple[str, str], str] = field(default_factory=dict)
    lineage: dict[tuple[str, str], str] = field(default_factory=dict)

    def reset(self) -> None:
        """Forget every account, fault and recorded call."""
        with self.lock:
            self.calls.clear()
            self.faults.clear()
            self.accounts.clear()
            self.revoked.clear()
            self.lineage.clear()
            self.ids = itertools.count(1)

    def account(self, provider: str, credential: str, seed: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """The state of one credential at one provider, created by ``seed`` on first use."""
        with self.lock:
            key = (provider, credential)
            if key not in self.accounts:
                self.accounts[key] = seed()
            return self.accounts[key]

    def next_id(self) -> int:
        """A number never handed out before in this state."""
        with self.lock:
            return next(self.ids)

    def take_fault(self, provider: str, method: str, path: str) -> FaultSpec | None:
        """The fault that answers this request, if any (consumes one use)."""
        with self.lock:
            for fault in self.faults:
                if not fault.matches(provider, method, path):
                    continue
                if fault.skip:
                    fault.skip -= 1
                    continue
                fault.left -= 1
                if fault.left <= 0:
                    self.faults.remove(fault)
                return fault.spec
            return None

    def record(self, provider: str, method: str, path: str, status: int) -> None:
        """Log one provider request (never headers, query strings or bodies)."""
        with self.lock:
            self.calls.append({"provider": provider, "method": method, "path": path, "status": status})


def state(request: Request) -> SimState:
    """The simulator state of the app serving ``request``."""
    return request.app.state.sim


class Reply(Exception):
    """Raised by a handler to answer with a ready response (a provider error body)."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def raw_fault_response(spec: FaultSpec) -> Response | None:
    """A fault with a raw ``body`` (e.g. not JSON), or None when the provider builds the body."""
    if spec.body is None:
        return None
    return Response(spec.body, status_code=spec.status, media_type=spec.content_type,
                    headers=fault_headers(spec))


def fault_headers(spec: FaultSpec, extra: dict[str, str] | None = None) -> dict[str, str]:
    """Headers of a fault answer: the provider's own, Retry-After when asked, then the spec's."""
    headers = dict(extra or {})
    if spec.retry_after is not None:
        delay = spec.retry_after
        headers["Retry-After"] = str(int(delay) if delay.is_integer() else delay)
    return headers | spec.headers


async def json_object(request: Request) -> dict[str, Any] | None:
    """The request's JSON body when it is an object (an empty body reads as ``{}``), else None."""
    try:
        data = json.loads(await request.body() or b"{}")
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def rate_header_route(attr: str, limit: int, headers: Callable[[int], dict[str, str]]) -> type[APIRoute]:
    """A route class whose answers (errors included) carry ``headers(remaining)`` for the account that a
    handler stored in ``request.state.<attr>`` (its ``calls`` counted against ``limit``)."""

    class RateHeaderRoute(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler = super().get_route_handler()

            async def with_headers(request: Request) -> Response:
                try:
                    response = await handler(request)
                except Reply as reply:
                    response = reply.response
                acct = getattr(request.state, attr, None)
                used = acct["calls"] if acct else 1
                response.headers.update(headers(max(0, limit - used % limit)))
                return response

            return with_headers

    return RateHeaderRoute


async def params(request: Request) -> dict[str, Any]:
    """Query, form and JSON parameters of a request, merged (Graph accepts all three)."""
    out: dict[str, Any] = dict(request.query_params)
    body = await request.body()
    ctype = request.headers.get("content-type", "")
    if body and "json" in ctype:
        try:
            loaded = json.loads(body)
        except ValueError:
            loaded = None
        out |= loaded if isinstance(loaded, dict) else {}
    elif body:
        out |= dict(parse_qsl(body.decode(errors="replace"), keep_blank_values=True))
    return out


def hex_id(n: int = 10) -> str:
    """A random lower-case hex id like Mailchimp's."""
    return secrets.token_hex(n)[:n]


router = APIRouter(prefix="/_sim", tags=["simulator control"])


@router.post("/faults")
def add_fault(spec: FaultSpec, request: Request) -> dict[str, Any]:
    """Queue a fault for the next matching requests."""
    with state(request).lock:
        state(request).faults.append(Fault(spec=spec, skip=spec.after, left=spec.times))
    return {"queued": spec.model_dump()}


@router.post("/faults/clear")
def clear_faults(request: Request, provider: str | None = None) -> dict[str, int]:
    """Drop pending faults (of one provider, or all), leaving the simulated state as it is."""
    sim = state(request)
    with sim.lock:
        before = len(sim.faults)
        sim.faults[:] = [f for f in sim.faults if provider is not None and f.spec.provider != provider]
        return {"cleared": before - len(sim.faults)}


@router.post("/reset")
def reset(request: Request) -> dict[str, bool]:
    """Clear all state, faults and the call log."""
    state(request).reset()
    return {"reset": True}


@router.get("/calls")
def calls(request: Request, provider: str | None = None) -> list[dict[str, Any]]:
    """Provider requests received so far: method, path and status only."""
    with state(request).lock:
        return [{k: c[k] for k in ("method", "path", "status")} for c in state(request).calls
                if provider is None or c["provider"] == provider]


FaultBuilder = Callable[[FaultSpec], Response]


def install(app: FastAPI, builders: dict[str, FaultBuilder]) -> None:
    """Add the control routes, the fault/call-log middleware and the :class:`Reply` handler."""
    app.include_router(router)
    app.include_router(grants.router)

    async def on_reply(_request: Request, exc: Exception) -> Response:
        return exc.response  # type: ignore[attr-defined]

    app.add_exception_handler(Reply, on_reply)

    @app.middleware("http")
    async def faults_and_log(request: Request,
                             call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        path, method = request.url.path, request.method
        first = path.split("/", 2)[1] if path.count("/") >= 1 else ""
        provider = first if first in builders else None  # a provider's paths start with /<PROVIDER>/
        if provider is None:
            return await call_next(request)
        spec = state(request).take_fault(provider, method, path)
        if spec is None:
            response = await grants.answer(request, provider, call_next,
                                           lambda: builders[provider](FaultSpec(provider=provider, status=401)))
        else:
            if spec.delay:
                await asyncio.sleep(spec.delay)
            response = raw_fault_response(spec) or builders[provider](spec)
        state(request).record(provider, method, path, response.status_code)
        return response


def json_error(status: int, body: dict[str, Any], *, media_type: str = "application/json",
               headers: dict[str, str] | None = None) -> JSONResponse:
    """A JSON error answer with the given media type."""
    return JSONResponse(body, status_code=status, media_type=media_type, headers=headers)
