"""Templates and their filters: one layout, times in UTC with the browser's local time beside them."""

from __future__ import annotations

import json
from datetime import datetime, UTC
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from config.catalog import agents
from producers.api.deps import Caller
from producers.console.session import sessions

templates = Jinja2Templates(directory=str(Path(__file__).resolve().parent / "templates"))

#: CSS class of each job and integration status (the badge colour; the text always says the status).
STATUS_CLASS = {"succeeded": "ok", "connected": "ok", "active": "ok", "running": "info", "queued": "info",
                "scheduled": "muted", "retrying": "warn", "configured": "warn", "paused": "warn",
                "failed": "bad", "error": "bad", "needs_reconnect": "bad", "auth_failed": "bad",
                "provider_unreachable": "bad",
                "cancelled": "muted", "disconnected": "muted", "not_configured": "muted"}


def ts(value: datetime | str | None) -> str:
    """A UTC timestamp, to the second."""
    if value is None:
        return "-"
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%d %H:%M:%S UTC")


def seconds(value: float | None) -> str:
    """A duration in seconds, readably (ms below one second)."""
    if value is None:
        return "-"
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s" if value < 60 else f"{value / 60:.1f} min"


def label(status: str | None) -> str:
    """A status as words."""
    return (status or "-").replace("_", " ")


def pretty(value: Any) -> str:
    """JSON, indented, for a <pre>."""
    return json.dumps(value, indent=2, sort_keys=True, default=str)


#: Audit outcomes that are failures (provider error kinds and network failures).
BAD_OUTCOMES = frozenset({"auth", "rate_limited", "transient", "permanent", "timeout", "network_error",
                          "unavailable", "malformed", "error"})


def outcome_class(outcome: str | None) -> str:
    """CSS class of an audit outcome."""
    return "ok" if outcome == "ok" else "bad" if outcome in BAD_OUTCOMES else "muted"


templates.env.filters.update(ts=ts, outcome_class=outcome_class, seconds=seconds, label=label, pretty=pretty,
                             status_class=lambda s: STATUS_CLASS.get(str(s), "muted"))


def page(request: Request, name: str, caller: Caller, context: dict[str, Any], *, status_code: int = 200,
         part: str | None = None) -> HTMLResponse:
    """Render a page of the layout (or only its ``parts/<part>.html`` for a live refresh)."""
    ctx = {"caller": caller, "operator": bool(getattr(caller, "operator", False)), "agents": agents(),
           "csrf": sessions(request).csrf_token(request), "path": request.url.path, **context}
    template = f"parts/{part}.html" if part else name
    response = templates.TemplateResponse(request, template, ctx, status_code=status_code)
    return secure(response)


def secure(response: Any) -> Any:
    """Headers of every console page: no caching, no framing, scripts and styles from this origin only."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = ("default-src 'self'; script-src 'self'; style-src 'self'; "
                                                   "img-src 'self' data:; frame-ancestors 'none'; form-action 'self'")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    return response
