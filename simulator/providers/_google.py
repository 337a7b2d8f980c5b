"""Shared pieces of the simulated Google APIs: the standard error body, faults, the OAuth 2.0 token
endpoint and bearer-token accounts.

Like oauth2.googleapis.com, the token endpoint (``POST <prefix>/token``, form-encoded refresh_token grant)
answers ``{access_token, expires_in: 3599, scope, token_type}`` WITHOUT a new refresh token: Google does not
rotate them, so the old one stays valid. A refresh token or client secret starting with ``bad`` is refused
(400 ``invalid_grant`` / 401 ``invalid_client``). An access token starting with ``bad``, or an issued one
that has expired, gets Google's 401 ``UNAUTHENTICATED``; any other token is accepted. State belongs to the
refresh token behind an issued access token, else to the configured access token itself.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, NoReturn

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from simulator import oauth as sim_oauth
from config.providers import definition
from simulator.control import Reply, hex_id, json_error, params, state
from simulator.generic import Sim, credential

#: Lifetime of an issued access token (Google: one hour minus a second).
TOKEN_TTL = 3599
UNAUTHENTICATED = ("Request had invalid authentication credentials. Expected OAuth 2 access token, login "
                   "cookie or other valid authentication credential. See "
                   "https://developers.google.com/identity/sign-in/web/devconsole-project.")
STATUS_NAMES = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
                409: "ALREADY_EXISTS", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}


def error_body(code: int, message: str, *, reason: str | None = None, domain: str = "global",
               legacy: bool = False) -> dict[str, Any]:
    """Google's ``{"error": {code, message, status, errors?}}``; ``legacy`` APIs add ``errors[]``."""
    error: dict[str, Any] = {"code": code, "message": message}
    if legacy:
        error["errors"] = [{"message": message, "domain": domain, "reason": reason or "invalid"}]
    error["status"] = STATUS_NAMES.get(code, "UNKNOWN")
    return {"error": error}


def google_response(code: int, message: str, *, headers: dict[str, str] | None = None,
                    **kw: Any) -> JSONResponse:
    """A Google error answer (``application/json; charset=UTF-8``)."""
    return json_error(code, error_body(code, message, **kw), media_type="application/json; charset=UTF-8",
                      headers=headers)


def fail(code: int, message: str, **kw: Any) -> NoReturn:
    """Answer the current request with a Google error."""
    raise Reply(google_response(code, message, **kw))


def google_api(provider: str, quota_message: str, scope: str, *, legacy: bool) -> tuple[Sim, APIRouter]:
    """The generic layer of a Google API and its router (with the token endpoint): the error object (its
    ``code`` is the HTTP status and the legacy ``errors[].reason`` rides as the fault's code), a 429 that
    is the API's quota error."""
    def body(status: int, message: str, reason: Any) -> dict[str, Any]:
        return error_body(status, message, reason=reason, legacy=legacy,
                          domain="usageLimits" if status == 429 else "global")
    sim = Sim(provider, body=body, media_type="application/json; charset=UTF-8", faults={
        429: (quota_message, "rateLimitExceeded"), 401: (UNAUTHENTICATED, "authError"),
        403: ("The caller does not have permission", "forbidden"),
        404: ("Requested entity was not found.", "badRequest"), 400: ("Request contains an invalid argument.",
                                                                      "badRequest"),
        500: ("Internal error encountered.", "backendError"), 503: ("The service is currently unavailable.",
                                                                    "backendError")})
    router = sim.router()
    add_token_route(router, provider, scope)
    return sim, router


def add_token_route(router: APIRouter, provider: str, scope: str) -> None:
    """``POST /token`` on ``router``: Google's refresh_token grant, without rotation."""
    @router.post("/token", include_in_schema=False)
    async def token(request: Request) -> Response:
        if (answer := await sim_oauth.grant(request, provider)) is not None:  # "Connect with": the code exchange
            return answer
        form = await params(request)
        if form.get("grant_type") != "refresh_token":
            return JSONResponse({"error": "unsupported_grant_type",
                                 "error_description": "Invalid grant_type: " + str(form.get("grant_type"))},
                                status_code=400)
        if not form.get("client_id") or str(form.get("client_secret", "")).startswith("bad"):
            return JSONResponse({"error": "invalid_client", "error_description": "Unauthorized"},
                                status_code=401)
        refresh = str(form.get("refresh_token") or "")
        if not refresh or refresh.startswith("bad"):
            return JSONResponse({"error": "invalid_grant", "error_description": "Token has been expired or "
                                 "revoked."}, status_code=400)
        access = f"ya29.sim-{hex_id(24)}"
        sim = state(request)
        tokens = sim.account(provider, "__tokens__", dict)
        with sim.lock:
            tokens[access] = (refresh, time.time() + TOKEN_TTL)
        return JSONResponse({"access_token": access, "expires_in": TOKEN_TTL, "scope": scope,
                             "token_type": "Bearer"})


def account(request: Request, provider: str, seed: Callable[[], dict[str, Any]], *,
            legacy: bool = False) -> dict[str, Any]:
    """The state behind the request's bearer token, or Google's 401."""
    sent = credential(request, definition(provider))
    if not sent or sent[0].startswith("bad"):
        fail(401, UNAUTHENTICATED, legacy=legacy, reason="authError")
    token = sent[0]
    sim = state(request)
    with sim.lock:
        issued = sim.account(provider, "__tokens__", dict).get(token)
    if issued is not None and issued[1] < time.time():
        fail(401, UNAUTHENTICATED, legacy=legacy, reason="authError")
    owner = f"refresh:{issued[0]}" if issued else f"access:{token}"
    return sim.account(provider, owner, seed)


async def json_body(request: Request, allowed: frozenset[str], *, legacy: bool = False) -> dict[str, Any]:
    """The JSON request body; unknown fields are refused as Google's JSON parser refuses them."""
    try:
        body = await request.json() if await request.body() else {}
    except ValueError:
        fail(400, "Invalid JSON payload received.", legacy=legacy, reason="parseError")
    if not isinstance(body, dict):
        fail(400, "Invalid JSON payload received. Expected an object.", legacy=legacy, reason="parseError")
    for name in body:
        if name not in allowed:
            fail(400, f'Invalid JSON payload received. Unknown name "{name}": Cannot find field.',
                 legacy=legacy, reason="invalidParameter")
    return body
