"""``/mcp/{agent}``: an agent's MCP server over streamable HTTP, mounted on the API.

Stateless: every POST is authenticated with its own ``Authorization: Bearer <key>`` and served by a
fresh server bound to that key, so nothing about a caller outlives its request and any API replica
can serve any request. The key is checked by the API itself (an in-process
``GET /api/integrations/{agent}``), so a missing, wrong or revoked key is the API's 401 and an
unknown agent its 404, before any MCP message is read. ``?tools=a,b`` lists a subset (tool names or
integration ids); ``?wait=N`` lowers how long a call waits for its job (at most ``mcp_wait_seconds``).
"""

from __future__ import annotations

import json

import httpx
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from config.catalog import CatalogError, agent
from config.settings import Settings
from producers.client import AsyncSintraClient, SintraApiError
from producers.mcp.calls import ToolSession
from producers.mcp.server import build_server
from producers.mcp.tools import select

#: Base URL of the in-process API calls (never resolved: the transport is the app itself).
IN_PROCESS = "http://sintra.in-process"


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps({"error": {"code": code, "message": message}}), status_code=status,
                    media_type="application/json", headers=headers)


def _options(request: Request, settings: Settings) -> tuple[list[str] | None, float]:
    chosen = [t.strip() for t in request.query_params.get("tools", "").split(",") if t.strip()] or None
    wait = settings.mcp_wait_seconds
    if "wait" in request.query_params:
        try:
            wait = min(max(float(request.query_params["wait"]), 0.0), wait)
        except ValueError:
            raise ValueError(f"wait: {request.query_params['wait']!r} is not a number of seconds") from None
    return chosen, wait


class McpEndpoint:
    """ASGI endpoint of ``/mcp/{agent}`` (a class: Starlette would wrap a function as request -> response)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Authenticate, then let a fresh stateless MCP server answer the request."""
        await serve(scope, receive, send)


async def serve(scope: Scope, receive: Receive, send: Send) -> None:
    """Serve one request of ``/mcp/{agent}``."""
    request = Request(scope, receive)
    app = scope["app"]
    try:
        spec = agent(scope["path_params"]["agent"])
        chosen, wait = _options(request, app.state.settings)
    except CatalogError as exc:
        return await _error(404, "not_found", str(exc))(scope, receive, send)
    except ValueError as exc:
        return await _error(422, "invalid_request", str(exc))(scope, receive, send)
    header = request.headers.get("authorization", "")
    key = header.partition(" ")[2].strip() if header.lower().startswith("bearer ") else ""
    client = (request.client.host, request.client.port) if request.client else ("127.0.0.1", 0)
    # the caller's address goes along, so per-address limits and failed-key throttling still apply
    transport = httpx.ASGITransport(app=app, client=client)
    async with AsyncSintraClient(IN_PROCESS, key, transport=transport) as api:
        session = ToolSession(api=api, agent=spec, chosen=chosen, wait_seconds=wait)
        try:
            connected = await session.connected()
            select([], spec, chosen)  # an unknown name in ?tools= is refused here, not on the first list
        except SintraApiError as exc:
            headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
            return await _error(exc.status, exc.code, exc.message, headers)(scope, receive, send)
        except ValueError as exc:
            return await _error(422, "invalid_request", str(exc))(scope, receive, send)
        manager = StreamableHTTPSessionManager(build_server(session, connected), stateless=True)
        async with manager.run():
            await manager.handle_request(scope, receive, send)
