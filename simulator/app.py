"""The provider simulator app: every provider module in ``simulator/providers`` plus the ``/_sim`` API."""

from __future__ import annotations

from fastapi import FastAPI

from simulator import control, oauth
from simulator.providers import provider_modules


def create_app() -> FastAPI:
    """A fresh simulator with its own in-memory state."""
    app = FastAPI(title="Sintra provider simulator", version="1", openapi_url="/_sim/openapi.json",
                  docs_url="/_sim/docs", redoc_url=None)
    app.state.sim = control.SimState()
    modules = provider_modules()
    control.install(app, {m.PROVIDER: m.fault_response for m in modules})
    app.include_router(oauth.router)  # first: Meta's exchange path would otherwise match a Graph node route
    for module in modules:
        app.include_router(module.router)
    return app
