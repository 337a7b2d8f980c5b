"""The web console: the product's integrations pages and the ops dashboard, served by the API process.

It is a producer like the API (DESIGN.md §3): pages read through ``workers.store`` and the same view
functions as the ``/api`` routes, and every change is a ``fetch()`` of an ``/api`` route made with the
session cookie and its CSRF token, so the console can never bypass validation or idempotency.
"""

from __future__ import annotations

import html
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from producers.console.auth import SignInRequired
from producers.console.session import Sessions, SessionStoreDown

__all__ = ["install"]

STATIC = Path(__file__).resolve().parent / "static"


def _redis(settings):
    import redis

    return redis.Redis.from_url(settings.redis_url, socket_timeout=5)


def install(app: FastAPI) -> None:
    """Add the console's pages, static files and session manager to the API app."""
    from producers.console import pages_integrations, pages_ops, pages_session

    settings = app.state.settings
    app.state.console_sessions = Sessions(settings, _redis(settings))
    app.mount("/console/static", StaticFiles(directory=STATIC), name="console-static")
    app.include_router(pages_session.router)
    app.include_router(pages_integrations.router)
    app.include_router(pages_ops.router)

    @app.exception_handler(SignInRequired)
    async def _sign_in(_req: Request, exc: SignInRequired) -> RedirectResponse:
        return RedirectResponse(f"/signin?next={quote(str(exc), safe='/')}", status_code=303)

    @app.exception_handler(SessionStoreDown)
    async def _store_down(_req: Request, exc: SessionStoreDown) -> HTMLResponse:
        return HTMLResponse(f"<!doctype html><title>Sintra console unavailable</title><h1>Console unavailable</h1>"
                            f"<p>{html.escape(str(exc))}. The /api routes still answer with an API key.</p>",
                            status_code=503)
