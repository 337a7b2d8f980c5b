"""The provider simulator app: Mailchimp and Instagram wire formats plus the ``/_sim`` control API."""

from __future__ import annotations

from fastapi import FastAPI

from simulator import control, instagram, mailchimp


def create_app() -> FastAPI:
    """A fresh simulator with its own in-memory state."""
    app = FastAPI(title="Sintra provider simulator", version="1", openapi_url="/_sim/openapi.json",
                  docs_url="/_sim/docs", redoc_url=None)
    app.state.sim = control.SimState()
    control.install(app, {"mailchimp": mailchimp.fault_response, "instagram": instagram.fault_response})
    app.include_router(mailchimp.router)
    app.include_router(instagram.router)
    return app
