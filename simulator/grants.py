"""Revoked grants: ``POST /_sim/grants/revoke`` ends an OAuth grant as a user or provider would.

A grant is named by any token of it (refresh or access). Tokens a token endpoint issues from a refresh
token join that token's grant, so revoking the configured tokens also revokes every token refreshed
from them. Afterwards the provider's token endpoint answers ``400 invalid_grant`` with the reason,
and every API call presenting one of its tokens answers the provider's own 401.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

router = APIRouter(prefix="/_sim/grants", tags=["simulator control"])
#: What a revoked grant's token endpoint says when the caller gave no reason (Google's wording).
DEFAULT_REASON = "Token has been expired or revoked."


class RevokeSpec(BaseModel):
    """A revocation as posted to ``/_sim/grants/revoke``."""

    provider: str
    tokens: list[str] = Field(min_length=1, description="Any tokens of the grant (refresh and/or access).")
    reason: str = DEFAULT_REASON


def _sim(request: Request) -> Any:
    return request.app.state.sim


@router.post("/revoke")
def revoke(spec: RevokeSpec, request: Request) -> dict[str, int]:
    """Revoke the grants the given tokens belong to."""
    sim = _sim(request)
    with sim.lock:
        for token in spec.tokens:
            root = sim.lineage.get((spec.provider, token), token)
            sim.revoked[(spec.provider, root)] = spec.reason
        return {"revoked": len(spec.tokens)}


def _presented(request: Request) -> list[str]:
    """Access tokens a request presents: a bearer header, TikTok's ``Access-Token``, an ``access_token`` query."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    found = [value] if scheme.lower() == "bearer" and value else []
    found += [v for v in (request.headers.get("access-token"), request.query_params.get("access_token")) if v]
    return found


async def _refresh_token(request: Request) -> str | None:
    """The refresh token in a form or JSON token request, if any."""
    body = await request.body()
    if not body:
        return None
    if "json" in request.headers.get("content-type", ""):
        try:
            data = json.loads(body)
        except ValueError:
            return None
    else:
        data = dict(parse_qsl(body.decode(errors="replace")))
    value = data.get("refresh_token") if isinstance(data, dict) else None
    return str(value) if value else None


async def _remember(response: Response, provider: str, parent: str, sim: Any) -> Response:
    """Link the tokens a token answer issues to the grant of ``parent``; return the answer unchanged."""
    body = b"".join([chunk async for chunk in getattr(response, "body_iterator")])  # noqa: B009 - streamed answer
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    issued = []
    for part in (data, data.get("data") if isinstance(data, dict) else None):
        if isinstance(part, dict):
            issued += [str(part[k]) for k in ("access_token", "refresh_token") if part.get(k)]
    with sim.lock:
        root = sim.lineage.get((provider, parent), parent)
        for token in issued:
            sim.lineage[(provider, token)] = root
    return Response(body, status_code=response.status_code, headers=dict(response.headers))


async def answer(request: Request, provider: str, call_next: Callable[[Request], Awaitable[Response]],
                 unauthorized: Callable[[], Response]) -> Response:
    """The provider's answer, unless the request presents a revoked grant's token."""
    sim = _sim(request)
    is_token_call = request.method == "POST" and "token" in request.url.path.lower()
    refresh = await _refresh_token(request) if is_token_call else None
    with sim.lock:
        reason = next((sim.revoked[(provider, root)] for t in [*_presented(request), *([refresh] if refresh else [])]
                       if (provider, root := sim.lineage.get((provider, t), t)) in sim.revoked), None)
    if reason is not None:
        if refresh:
            return JSONResponse({"error": "invalid_grant", "error_description": reason}, status_code=400)
        return unauthorized()
    response = await call_next(request)
    if refresh and response.status_code < 300:
        response = await _remember(response, provider, refresh, sim)
    return response
