"""What Instagram and Facebook share as Meta Graph APIs: the error object, the token check, cursor pages.

Both definitions give ``error.message``/``error.code`` and cursor paging with ``limit``/``after``; the
Graph error object also carries ``type``, ``is_transient`` and ``fbtrace_id``, which the paths cannot
build, so the body is this module's override of the generic one. A refused token answers 400 with code
190, as Graph does (not 401).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn

from fastapi import Request

from simulator.control import Reply, hex_id, json_error
from simulator.generic import Sim, credential, encode_cursor

BAD_TOKEN = "Invalid OAuth access token - Cannot parse access token"
NO_TOKEN = "An active access token must be used to query information about the current user."


def graph_body(status: int, message: str, code: Any, *, kind: str = "OAuthException",
               subcode: int | None = None, transient: bool | None = None) -> dict[str, Any]:
    """A Graph error object: ``{"error": {message, type, code, error_subcode, is_transient, fbtrace_id}}``
    (a throttle and a server error are transient)."""
    error: dict[str, Any] = {"message": message, "type": kind, "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    if transient is None and (status == 429 or status >= 500):
        transient = True
    if transient is not None:
        error["is_transient"] = transient
    error["fbtrace_id"] = "A" + hex_id(20)
    return {"error": error}


def graph_sim(provider: str, usage: str) -> Sim:
    """The generic layer of a Graph provider: Graph's fault codes, a 429 carrying ``X-App-Usage``."""
    return Sim(provider, body=graph_body, throttle_extra={"X-App-Usage": usage}, faults={
        429: ("(#4) Application request limit reached", 4), 401: (BAD_TOKEN, 190),
        403: ("(#10) Application does not have permission for this action", 10),
        500: ("An unexpected error has occurred. Please retry your request later.", 2),
        400: ("(#100) Invalid parameter", 100)})


def fail(status: int, message: str, code: int, **kw: Any) -> NoReturn:
    """Answer the current request with a Graph error."""
    raise Reply(json_error(status, graph_body(status, message, code, **kw)))


def invalid(message: str) -> NoReturn:
    """Graph's code 100 "invalid parameter"."""
    fail(400, f"(#100) {message}", 100)


def unsupported(obj_id: str, method: str) -> NoReturn:
    """Graph's answer for an unknown object or an edge it does not have."""
    fail(400, f"Unsupported {method.lower()} request. Object with ID '{obj_id}' does not exist, cannot be "
              "loaded due to missing permissions, or does not support this operation. Please read the Graph "
              "API documentation at https://developers.facebook.com/docs/graph-api", 100,
         kind="GraphMethodException", subcode=33)


def token(request: Request, sim: Sim) -> str:
    """The request's token, sent as the definition says (Bearer) or as Graph also takes it
    (``access_token``); Graph's 400 with code 2500 (none) or 190 (refused) otherwise."""
    sent = credential(request, sim.definition) or [request.query_params.get("access_token") or ""]
    if not sent[0]:
        fail(400, NO_TOKEN, 2500)
    if sent[0].startswith("bad"):
        fail(400, BAD_TOKEN, 190)
    return sent[0]


def cursor_page(request: Request, sim: Sim, items: list[Any], *, default: int = 25) -> dict[str, Any]:
    """One Graph cursor page: ``data`` plus ``paging.cursors`` and ``paging.next`` when more remain."""
    page = sim.page(request, items, default=default)
    if not page.items:
        return {"data": []}
    after = encode_cursor(page.start + len(page.items))
    paging: dict[str, Any] = {"cursors": {"before": encode_cursor(page.start), "after": after}}
    if page.more:
        query = {k: v for k, v in request.query_params.items() if k not in ("after", "access_token")}
        paging["next"] = str(request.url.replace_query_params(**query, after=after))
    return {"data": page.items, "paging": paging}


def number(key: str, low: int, high: int) -> int:
    """A stable pseudo-random number in ``[low, high]`` for ``key``."""
    return low + int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % (high - low + 1)


def stamp(delta: timedelta = timedelta()) -> str:
    """A Graph timestamp like ``2026-09-01T12:00:00+0000``."""
    return (datetime.now(UTC) + delta).strftime("%Y-%m-%dT%H:%M:%S+0000")
