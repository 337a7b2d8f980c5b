"""Shared pieces of the simulated Zendesk API: errors, Basic auth, rate-limit headers and pagination."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal, NoReturn, overload

from fastapi import APIRouter, Request, Response

from simulator.control import Reply, json_error, json_object, rate_header_route, state
from simulator.generic import Sim
from simulator.urls import BASES

PROVIDER = "zendesk"
PREFIX = BASES["zendesk"]
#: Requests per minute of the simulated plan (Suite Professional).
RATE_LIMIT = 700
#: Largest page Zendesk serves.
MAX_PAGE = 100
#: The search API returns at most this many results per query.
SEARCH_CAP = 1000
NO_AUTH = "Couldn't authenticate you"


def now() -> str:
    """Current UTC time as Zendesk writes it."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _body(status: int, message: str, code: str | None) -> Any:
    """Zendesk's classic ``{"error", "description"}`` (just ``{"error"}`` when there is no code, as its
    401 says); a 429 is plain text."""
    if status == 429:
        return message
    return {"error": message} if code is None else {"error": code, "description": message}


SIM = Sim(PROVIDER, body=_body, rate_limit=RATE_LIMIT, delay=60, faults={
    401: (NO_AUTH, None), 429: ("Rate limit exceeded: too many requests per minute for this account", None),
    403: ("You do not have access to this page. Please contact the account owner of this help desk for further "
          "help.", "Forbidden"), 404: ("Not found", "RecordNotFound"),
    400: ("Bad Request", "BadRequest"), 500: ("Internal Server Error", "InternalServerError")})
fault_response = SIM.fault_response


def error(status: int, name: str, description: str | None = None,
          details: dict[str, list[dict[str, str]]] | None = None) -> Response:
    """Zendesk's classic error body ``{"error", "description", "details"}``."""
    body = _body(status, description, name) if description is not None else {"error": name}
    return json_error(status, body | ({"details": details} if details else {}))


def fail(status: int, name: str, description: str | None = None,
         details: dict[str, list[dict[str, str]]] | None = None) -> NoReturn:
    """Answer the current request with a Zendesk error."""
    raise Reply(error(status, name, description, details))


def not_found() -> NoReturn:
    """Zendesk's 404."""
    fail(404, "RecordNotFound", "Not found")


def invalid(field: str, description: str, code: str = "InvalidValue") -> NoReturn:
    """Zendesk's 422 ``RecordInvalid`` naming one field."""
    details = {field: [{"description": description, "error": code}]}
    fail(422, "RecordInvalid", "Record validation errors", details)


def bad_attribute(message: str) -> NoReturn:
    """The newer ``{"error": {"title", "message"}}`` shape Zendesk uses for bad query parameters."""
    raise Reply(json_error(400, {"error": {"title": "Invalid attribute", "message": message}}))


def rate_headers(remaining: int | None = None) -> dict[str, str]:
    """The account-wide rate-limit headers Zendesk sends on every answer."""
    left = RATE_LIMIT - 1 if remaining is None else remaining
    return {"X-Rate-Limit": str(RATE_LIMIT), "X-Rate-Limit-Remaining": str(left),
            "ratelimit-limit": str(RATE_LIMIT), "ratelimit-remaining": str(left),
            "ratelimit-reset": str(60 - datetime.now(UTC).second)}


#: A route whose answers (errors included) carry Zendesk's rate-limit headers.
ZendeskRoute = rate_header_route("zendesk", RATE_LIMIT, rate_headers)


def new_router(prefix: str = PREFIX) -> APIRouter:
    """A router (under the Zendesk prefix unless it is mounted in one) whose answers carry the rate-limit
    headers."""
    return APIRouter(prefix=prefix, tags=["zendesk"], route_class=ZendeskRoute)


def route(router: APIRouter, method: str, path: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a handler at ``path`` and ``path.json`` (Zendesk accepts both; ``.json`` first so
    ``/tickets/1.json`` does not reach ``/tickets/{id}``)."""
    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        for variant in (f"{path}.json", path):
            router.add_api_route(variant, fn, methods=[method])
        return fn
    return register


def credentials(request: Request) -> tuple[str, str] | None:
    """``(email, token)`` of a ``{email}/token:{api_token}`` Basic header (None without one); 401 when
    malformed or refused."""
    if not request.headers.get("authorization"):
        return None
    user, _, secret = SIM.credential(request).partition(":")
    email, sep, kind = user.rpartition("/")
    if not sep or kind != "token" or not email:
        fail(401, NO_AUTH)
    return email, secret


@overload
def account(request: Request, seed: Callable[[str], dict[str, Any]], *, anonymous: Literal[False] = False
            ) -> dict[str, Any]: ...


@overload
def account(request: Request, seed: Callable[[str], dict[str, Any]], *, anonymous: bool) -> dict[str, Any] | None: ...


def account(request: Request, seed: Callable[[str], dict[str, Any]], *, anonymous: bool = False
            ) -> dict[str, Any] | None:
    """The state of the request's API token; 401 without credentials unless ``anonymous`` is allowed."""
    creds = credentials(request)
    if creds is None:
        if anonymous:
            return None
        fail(401, NO_AUTH)
    email, token = creds
    acct = state(request).account(PROVIDER, token, lambda: seed(email))
    with state(request).lock:
        acct["calls"] += 1
    request.state.zendesk = acct
    return acct


async def body_of(request: Request, root: str) -> dict[str, Any]:
    """The JSON body's ``root`` object, or Zendesk's parse error."""
    data = await json_object(request)
    if data is None or not isinstance(data.get(root), dict):
        fail(400, "InvalidValue", f"Expected a JSON object with a '{root}' object")
    return data


def _position(token: str | None) -> int:
    if not token:
        return 0
    try:
        return int(base64.urlsafe_b64decode(token.encode()).decode())
    except ValueError:
        bad_attribute("page[after] is not a valid cursor")


def cursor_page(request: Request, items: list[Any], key: str) -> dict[str, Any]:
    """One cursor page: ``page[size]``/``page[after]`` in, ``meta.has_more`` and ``links.next`` out."""
    raw = request.query_params.get("page[size]") or str(MAX_PAGE)
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        bad_attribute(f"page[size] must be an integer from 1 to {MAX_PAGE}")
    size, start = int(raw), _position(request.query_params.get("page[after]"))
    page = items[start: start + size]
    more = start + size < len(items)
    after = base64.urlsafe_b64encode(str(start + len(page)).encode()).decode()
    query = {k: v for k, v in request.query_params.items() if k != "page[after]"}
    next_url = str(request.url.replace_query_params(**query, **{"page[after]": after})) if more else None
    return {key: page, "meta": {"has_more": more, "after_cursor": after if page else None,
                                "before_cursor": None},
            "links": {"next": next_url, "prev": None}}


def offset_page(request: Request, items: list[Any], key: str, *, cap: int | None = None) -> dict[str, Any]:
    """One offset page: ``per_page``/``page`` in, ``next_page`` and ``count`` out (``cap`` results max)."""
    q = request.query_params
    per_page, page = q.get("per_page") or str(MAX_PAGE), q.get("page") or "1"
    if not per_page.isdigit() or not 1 <= int(per_page) <= MAX_PAGE or not page.isdigit() or page == "0":
        bad_attribute(f"per_page must be 1 to {MAX_PAGE} and page a positive integer")
    size, number = int(per_page), int(page)
    if cap is not None and (number - 1) * size >= cap:
        raise Reply(json_error(422, {"error": {"title": "Invalid search", "message": "Requested response "
                                               "size was greater than Search Response Limits"}}))
    visible = items[:cap] if cap is not None else items
    chunk = visible[(number - 1) * size: number * size]
    more = number * size < len(visible)
    others = {k: v for k, v in q.items() if k != "page"}
    next_page = str(request.url.replace_query_params(**others, page=number + 1)) if more else None
    prev = str(request.url.replace_query_params(**others, page=number - 1)) if number > 1 else None
    return {key: chunk, "count": len(items), "next_page": next_page, "previous_page": prev}
