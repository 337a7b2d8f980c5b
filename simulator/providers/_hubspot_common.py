"""Shared parts of the HubSpot simulator: error bodies, token bookkeeping, the portal of a request (with
its ``X-HubSpot-RateLimit-*`` headers) and how CRM records are shown."""

from __future__ import annotations

import uuid
from typing import Any, NoReturn

from fastapi import Request, Response
from fastapi.responses import JSONResponse

from simulator.control import Reply, state
from simulator.generic import Sim
from simulator.providers._hubspot_seed import seed

PROVIDER = "hubspot"
#: Burst limit of the simulated app: requests per ten-second window.
BURST_MAX, BURST_WINDOW_MS = 190, 10_000
SINGULAR = {"contact": "contacts", "company": "companies", "deal": "deals", "email": "emails"}
DEFAULT_PROPERTIES = {"contacts": ("email", "firstname", "lastname"), "companies": ("name", "domain"),
                      "deals": ("dealname", "amount", "closedate", "dealstage", "pipeline"),
                      "emails": ("hs_email_subject", "hs_timestamp")}
NO_AUTH = ("Authentication credentials not found. This API supports OAuth 2.0 authentication and you can "
           "find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview")


def _extra(status: int) -> dict[str, Any]:
    """What a HubSpot error carries beside ``message`` and ``category`` (a throttle names its policy)."""
    out: dict[str, Any] = {"status": "error", "correlationId": str(uuid.uuid4())}
    if status == 429:
        out |= {"errorType": "RATE_LIMIT", "policyName": "TEN_SECONDLY_ROLLING",
                "groupName": "publicapi:oauth:simulated"}
    return out


#: A throttle answers 429 with the burst headers (the window in milliseconds as the reset).
SIM = Sim(PROVIDER, extra=_extra, rate_limit=BURST_MAX, delay=BURST_WINDOW_MS / 1000, faults={
    401: (NO_AUTH, "INVALID_AUTHENTICATION"),
    403: ("This app hasn't been granted all required scopes to make this call.", "MISSING_SCOPES"),
    404: ("resource not found", "OBJECT_NOT_FOUND"), 429: ("You have reached your ten_secondly_rolling limit.", None),
    400: ("Invalid input", "VALIDATION_ERROR"), 500: ("internal error", "INTERNAL_ERROR")})


def error(status: int, message: str, category: str, **extra: Any) -> JSONResponse:
    """HubSpot's error answer ``{status: "error", message, correlationId, category, ...}``."""
    return JSONResponse(SIM.error_body(status, message, category) | extra, status_code=status)


def fail(status: int, message: str, category: str, **extra: Any) -> NoReturn:
    """Answer the current request with a HubSpot error."""
    raise Reply(error(status, message, category, **extra))


def not_found() -> NoReturn:
    """HubSpot's 404 for an unknown object."""
    fail(404, "resource not found", "OBJECT_NOT_FOUND")


def invalid(message: str, **extra: Any) -> NoReturn:
    """HubSpot's 400 VALIDATION_ERROR."""
    fail(400, message, "VALIDATION_ERROR", **extra)


def rate_headers(portal: dict[str, Any]) -> dict[str, str]:
    """The burst rate-limit headers after this portal's latest call."""
    return {"X-HubSpot-RateLimit-Interval-Milliseconds": str(BURST_WINDOW_MS),
            "X-HubSpot-RateLimit-Max": str(BURST_MAX),
            "X-HubSpot-RateLimit-Remaining": str(BURST_MAX - 1 - portal["calls"] % BURST_MAX)}


# -- tokens and portals --------------------------------------------------------------------------------
def oauth(request: Request) -> dict[str, Any]:
    """Token bookkeeping: issued access tokens and refresh tokens -> the portal key they belong to."""
    return state(request).account(PROVIDER, "__oauth__", lambda: {"issued": {}, "roots": {}, "used": set()})


def portal_for(request: Request, key: str) -> dict[str, Any]:
    """The portal (account) behind ``key`` (a configured token, or the root of a refresh chain)."""
    return state(request).account(PROVIDER, key, lambda: seed(key))


def portal(request: Request, response: Response) -> dict[str, Any]:
    """The portal of the request's bearer token (401 otherwise), with the rate-limit headers set."""
    token = SIM.credential(request)
    with state(request).lock:
        found = portal_for(request, oauth(request)["issued"].get(token, token))
        found["calls"] += 1
        response.headers.update(rate_headers(found))
    return found


# -- storage -------------------------------------------------------------------------------------------
def new_id(request: Request) -> str:
    """A fresh numeric object id."""
    return str(50_000 + state(request).next_id())


def view(obj: dict[str, Any], kind: str, wanted: list[str] | None = None) -> dict[str, Any]:
    """A record as the API shows it: the asked-for properties (null when unset) or the defaults."""
    names = list(wanted or DEFAULT_PROPERTIES[kind]) + ["hs_object_id", "createdate", "lastmodifieddate"]
    props = {n: obj["properties"].get(n) for n in dict.fromkeys(names)}
    return {"id": obj["id"], "properties": props, "createdAt": obj["createdAt"],
            "updatedAt": obj["updatedAt"], "archived": False}


def wanted_properties(value: Any) -> list[str] | None:
    """The ``properties`` of a query string (comma-separated) or a JSON body (a list)."""
    if isinstance(value, list):
        return [str(v) for v in value] or None
    return [v for v in str(value or "").split(",") if v] or None
