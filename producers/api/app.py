"""The HTTP API: ``create_app(settings)`` builds it; ``uvicorn producers.api.app:app`` serves it."""

from __future__ import annotations

import gc
import random
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import redis
import structlog
from fastapi import Depends, FastAPI
from fastapi.routing import APIRoute
from starlette.routing import Route

from config.logging import configure_logging
from config.settings import Settings, get_settings
from producers.api import metrics
from producers.api.deps import get_caller
from producers.api.errors import install_error_handlers
from producers.api.limits import BodyLimit, Throttle, check_inputs
from producers.api.hotpath import HotPath, authenticate
from producers.api.routes import (events, health, integrations, jobs, keys, oauth, ops, schedules, submit, tools,
                                   webhooks, workflows)
from producers.enqueue import Enqueuer
from workers.broker import build_broker
from workers.store.db import build_engine


def _lazy_writer(settings: Settings) -> Callable[[], Any]:
    lock, holder = threading.Lock(), {}

    def get() -> Any:
        with lock:
            if "writer" not in holder:
                from workers.vault.client import VaultSession
                from workers.vault.writer import CredentialWriter

                holder["writer"] = CredentialWriter(VaultSession.from_settings(settings, "api"))
            return holder["writer"]

    return get


class BindRequest:
    """Bind each request's id, path and method to the log context (a plain ASGI middleware: Starlette's
    ``BaseHTTPMiddleware`` would run every request in an extra task with memory streams)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            structlog.contextvars.clear_contextvars()
            # a log correlation id, not a secret: no system call for randomness per request
            structlog.contextvars.bind_contextvars(request_id=f"{random.getrandbits(48):012x}", path=scope["path"],
                                                   method=scope["method"])
        await self.app(scope, receive, send)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Connect the dispatcher to the broker before the first submission; close the hot path's
    connections of this event loop when it stops serving."""
    app.state.hot.dispatcher.warm()
    yield
    await app.state.hot.close()


def operation_id(route: APIRoute) -> str:
    """A stable OpenAPI operation id: ``<tag>_<function>``, e.g. ``jobs_create``."""
    return f"{route.tags[0] if route.tags else 'api'}_{route.name.rstrip('_')}"


def create_app(settings: Settings | None = None, *, broker: Any = None) -> FastAPI:
    """The API app for ``settings``."""
    settings = settings or get_settings()
    app = FastAPI(title="Sintra", version="0.1.0", generate_unique_id_function=operation_id, lifespan=_lifespan,
                  description="Run AI agents' jobs against SaaS integrations. Every `/api` route needs "
                              "`Authorization: Bearer <key>`; errors are `{\"error\": {\"code\", \"message\"}}`.")
    app.state.settings = settings
    app.state.throttle = Throttle(redis.Redis.from_url(settings.redis_url))
    app.state.engine = build_engine(settings.db_url)
    app.state.enqueuer = Enqueuer(broker or build_broker(settings, set_global=False))
    app.state.writer = _lazy_writer(settings)
    app.state.hot = HotPath.build(settings, app.state.engine, app.state.enqueuer)
    install_error_handlers(app)
    # first, so routing (which tries routes in order) finds the hot path at once; it authenticates itself
    # (key cache, one Redis round trip; see producers.api.hotpath)
    app.include_router(submit.router, dependencies=[Depends(authenticate), Depends(check_inputs)])
    app.include_router(health.router)
    app.include_router(metrics.router)
    # every /api route needs a key, whether or not its handler asks who calls (cached: runs once); then
    # its inputs are checked (control characters, NULs, params size) before the handler sees them
    for module in (integrations, oauth, jobs, keys, schedules, workflows, webhooks, events, ops, tools):
        app.include_router(module.router, dependencies=[Depends(get_caller), Depends(check_inputs)])
    app.include_router(oauth.callback_router)  # the provider redirects a browser here: the signed state authenticates
    from producers.mcp.http import McpEndpoint

    # an agent's MCP server; authenticated by the API itself on every request (not in the OpenAPI document)
    app.router.routes.append(Route("/mcp/{agent}", endpoint=McpEndpoint(), methods=["GET", "POST", "DELETE"]))
    from producers.console import install as install_console

    install_console(app)

    # innermost: plain submissions skip FastAPI's request handling (see FastSubmit); the log context and
    # the body limit apply to them as to every request
    app.add_middleware(submit.FastSubmit)
    app.add_middleware(BindRequest)
    # outermost: an oversized body is refused before routing, parsing or authentication
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)

    return app


def app_factory() -> FastAPI:
    """Entry point for ``uvicorn --factory producers.api.app:app_factory``."""
    settings = get_settings()
    configure_logging(fmt=settings.log_format, level=settings.log_level)
    from workers.telemetry import configure_tracing

    configure_tracing(settings.tracing, "sintra-api")  # FastAPI itself opens a server span per request
    app = create_app(settings)
    # What is alive now (modules, the app, its routes and schemas: ~270k objects) lives as long as the
    # process: moved out of the collector's reach, each full collection scans only what requests made.
    # Without this a full collection took 90-190 ms on a loaded 2-core machine, stalling every request.
    gc.collect()
    gc.freeze()
    return app
