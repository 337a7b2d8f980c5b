"""Shared pieces of the simulated Intercom API: error lists, bearer auth, rate-limit headers, search."""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Callable
from typing import Any, NoReturn

from fastapi import Request

from simulator.control import json_object, rate_header_route, state
from simulator.generic import Sim

PROVIDER = "intercom"
#: Calls per minute of one app, spread over 10-second windows.
RATE_LIMIT = 10000
WINDOW_S = 10
MAX_PER_PAGE = 150
OPERATORS = ("=", "!=", "IN", "NIN", ">", "<", "~", "!~", "^", "$")


#: Intercom's ``{"type": "error.list", "request_id", "errors": [{code, message}]}``: the definition's paths
#: build the errors; the type and request id are the extra fields. A 429 tells the wait only through
#: ``X-RateLimit-Reset`` (epoch seconds), no Retry-After.
SIM = Sim(PROVIDER, extra=lambda _status: {"type": "error.list", "request_id": str(uuid.uuid4())},
          rate_limit=RATE_LIMIT, delay=WINDOW_S, retry_after_header=False, faults={
              401: ("Access Token Invalid", "unauthorized"), 403: ("Forbidden: access denied", "forbidden"),
              404: ("Resource Not Found", "not_found"),
              429: (f"Exceeded rate limit of {RATE_LIMIT} in 1_minute", "rate_limit_exceeded"),
              400: ("Bad Request", "bad_request"), 500: ("Server Error", "server_error"),
              503: ("Sorry, the API service is temporarily unavailable", "service_unavailable")})
fault_response = SIM.fault_response


def fail(status: int, code: str, message: str) -> NoReturn:
    """Answer the current request with an error list."""
    SIM.fail(status, message, code)


def not_found(message: str = "Resource Not Found") -> NoReturn:
    """Intercom's 404."""
    fail(404, "not_found", message)


def invalid(message: str) -> NoReturn:
    """Intercom's 400 ``parameter_invalid``."""
    fail(400, "parameter_invalid", message)


def rate_headers(remaining: int, reset_in: float | None = None) -> dict[str, str]:
    """``X-RateLimit-Limit``, ``-Remaining`` and ``-Reset`` (epoch seconds)."""
    window_end = (int(time.time()) // WINDOW_S + 1) * WINDOW_S
    reset = round(time.time() + reset_in) if reset_in is not None else window_end
    return {"X-RateLimit-Limit": str(RATE_LIMIT), "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": str(reset)}


#: A route whose answers (errors included) carry Intercom's rate-limit headers.
IntercomRoute = rate_header_route("intercom", RATE_LIMIT, rate_headers)


def account(request: Request, seed: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """The state of the request's bearer token; Intercom's 401 for a missing or bad one."""
    acct = SIM.account(request, seed)
    with state(request).lock:
        acct["calls"] += 1
    request.state.intercom = acct
    return acct


def version(request: Request) -> tuple[int, int] | None:
    """The ``Intercom-Version`` asked for as ``(major, minor)``; None for Preview/Unstable (newest)."""
    raw = request.headers.get("intercom-version", "2.11")
    try:
        major, minor = raw.split(".")
        return int(major), int(minor)
    except ValueError:
        if raw.lower() in ("preview", "unstable"):
            return None
        fail(400, "intercom_version_invalid", f"Requested version {raw} is not a valid version")


def require_version(request: Request, least: tuple[int, int]) -> None:
    """A 404 for endpoints that do not exist in the requested API version."""
    asked = version(request)
    if asked is not None and asked < least:
        not_found(f"This endpoint needs Intercom-Version {least[0]}.{least[1]} or later")


async def body_of(request: Request) -> dict[str, Any]:
    """The JSON object body, or Intercom's 400."""
    if (data := await json_object(request)) is None:
        fail(400, "parameter_invalid", "The request body is not a JSON object")
    return data


def _lookup(obj: dict[str, Any], field: str) -> Any:
    value: Any = obj
    for part in field.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _test(actual: Any, op: str, wanted: Any) -> bool:
    many = actual if isinstance(actual, list) else [actual]
    if op in ("IN", "NIN"):
        if not isinstance(wanted, list):
            invalid(f"operator {op} needs a list value")
        hit = any(a in wanted for a in many)
        return hit if op == "IN" else not hit
    if op in ("=", "!="):
        hit = any(a == wanted or (a is not None and str(a) == str(wanted)) for a in many)
        return hit if op == "=" else not hit
    if op in (">", "<"):
        try:
            return any(a is not None and (float(a) > float(wanted) if op == ">" else float(a) < float(wanted))
                       for a in many)
        except (TypeError, ValueError):
            invalid(f"operator {op} needs numbers")
    text, needle = [str(a or "").lower() for a in many], str(wanted).lower()
    return {"~": any(needle in t for t in text), "!~": all(needle not in t for t in text),
            "^": any(t.startswith(needle) for t in text), "$": any(t.endswith(needle) for t in text)}[op]


def matches(obj: dict[str, Any], query: dict[str, Any]) -> bool:
    """Whether ``obj`` satisfies an Intercom search query (a condition or a nested AND/OR group)."""
    op = query.get("operator")
    if op in ("AND", "OR"):
        group = query.get("value")
        if not isinstance(group, list) or not group:
            invalid("AND/OR needs a list of conditions in value")
        results = [matches(obj, q) for q in group]
        return all(results) if op == "AND" else any(results)
    if op not in OPERATORS or not isinstance(query.get("field"), str):
        invalid(f"operator {op!r} is not one of {', '.join(OPERATORS)}, or field is missing")
    return _test(_lookup(obj, query["field"]), op, query.get("value"))


def search_page(items: list[dict[str, Any]], pagination: Any, key: str, kind: str) -> dict[str, Any]:
    """One page of search results with ``pages.next.starting_after`` when more remain."""
    pagination = pagination if isinstance(pagination, dict) else {}
    per_page = pagination.get("per_page", 50)
    if not isinstance(per_page, int) or not 1 <= per_page <= MAX_PER_PAGE:
        invalid(f"per_page must be an integer from 1 to {MAX_PER_PAGE}")
    after = pagination.get("starting_after")
    try:
        start = int(base64.b64decode(after).decode()) if after else 0
    except ValueError:
        invalid("starting_after is not a valid cursor")
    page, total_pages = items[start: start + per_page], max(1, -(-len(items) // per_page))
    pages: dict[str, Any] = {"type": "pages", "page": start // per_page + 1, "per_page": per_page,
                             "total_pages": total_pages}
    if start + per_page < len(items):
        pages["next"] = {"page": pages["page"] + 1,
                         "starting_after": base64.b64encode(str(start + per_page).encode()).decode()}
    return {"type": kind, key: page, "total_count": len(items), "pages": pages}
