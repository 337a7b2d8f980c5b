"""Shared pieces of the simulated SendGrid v3 API: auth, error bodies, rate-limit headers, paging, state."""

from __future__ import annotations

import base64
import time
import uuid
from datetime import UTC, datetime
from typing import Any, NoReturn

from fastapi import Request

from simulator.control import json_object, state
from simulator.generic import Sim

PROVIDER = "sendgrid"
#: Per-endpoint window SendGrid reports in ``X-RateLimit-Limit`` (requests per minute).
RATE_LIMIT = 600
#: Keys starting with this have no Email Activity add-on (``GET /v3/messages`` answers 403).
NO_ACTIVITY_PREFIX = "SG.basic"
#: Verified sender identities: ids for Single Sends, and an authenticated domain for mail send.
SENDERS = {1: {"id": 1, "nickname": "Acme news", "from": {"email": "news@acme.example", "name": "Acme"},
               "verified": True},
           2: {"id": 2, "nickname": "Unverified", "from": {"email": "sales@other.example", "name": "Sales"},
               "verified": False}}
AUTHENTICATED_DOMAIN = "acme.example"
SCOPES = ("mail.send", "marketing.read", "marketing.send", "messages.read", "stats.read", "stats.global.read",
          "categories.stats.read", "templates.create", "templates.read", "templates.update",
          "templates.versions.create", "templates.versions.read", "user.profile.read")


def errors_body(*errors: tuple[str | None, str], help_url: str | None = None) -> dict[str, Any]:
    """SendGrid's ``{"errors": [{"message", "field", "help"}]}``."""
    return {"errors": [{"message": message, "field": field, "help": help_url} for field, message in errors]}


#: SendGrid's body carries ``field`` and ``help`` beside the message, so it is the override; a 429 has only
#: the ``X-RateLimit-*`` headers (the reset an epoch second), no Retry-After.
SIM = Sim(PROVIDER, body=lambda _status, message, field: errors_body((field, message)), rate_limit=RATE_LIMIT,
          delay=60, retry_after_header=False, faults={
              401: ("The provided authorization grant is invalid, expired, or revoked", None),
              403: ("access forbidden", None), 404: ("resource not found", None), 429: ("too many requests", None)})


def fail(status: int, message: str, field: str | None = None) -> NoReturn:
    """Answer the current request with one SendGrid error."""
    SIM.fail(status, message, field)


def not_found() -> NoReturn:
    """SendGrid's 404."""
    fail(404, "resource not found", "")


#: The draft Single Send every account starts with (a fixed id: the catalog's examples schedule it).
SEEDED_SINGLE_SEND = "5e3f2c1a-0000-4000-8000-00000000a001"


def _seed() -> dict[str, Any]:
    stamp = "2026-01-05T10:00:00Z"
    draft: dict[str, Any] = {"id": SEEDED_SINGLE_SEND, "name": "Spring newsletter", "status": "draft", "categories": [],
             "send_at": None, "created_at": stamp, "updated_at": stamp, "is_abtest": False,
             "send_to": {"list_ids": ["7a1b2c3d-0000-4000-8000-000000000001"], "segment_ids": [], "all": False},
             "email_config": {"subject": "Spring is here", "html_content": "<h1>Spring is here</h1>",
                              "plain_content": "", "generate_plain_content": True, "editor": "code",
                              "suppression_group_id": None, "sender_id": 1, "design_id": None}}
    return {"messages": [], "single_sends": {SEEDED_SINGLE_SEND: draft}, "templates": {}, "calls": 0}


def api_key(request: Request) -> str:
    """The bearer key of the request; 401 as SendGrid answers a missing or revoked one."""
    return SIM.credential(request)


def account(request: Request) -> dict[str, Any]:
    """The state of the key (and subuser, with ``on-behalf-of``) of the request."""
    key = api_key(request)
    subuser = request.headers.get("on-behalf-of", "")
    return state(request).account(PROVIDER, f"{key}|{subuser}", _seed)


def has_activity(request: Request) -> bool:
    """Whether the key holds the Email Activity add-on."""
    return not api_key(request).startswith(NO_ACTIVITY_PREFIX)


#: Adds ``X-RateLimit-*`` (the reset at the next minute, as an epoch second) to every answer but mail send's.
rate_headers = SIM.counting(account, lambda: 60 - time.time() % 60,
                            skip=lambda request: request.url.path.endswith("/mail/send"))



async def body_of(request: Request) -> dict[str, Any]:
    """The JSON object body, or SendGrid's parse error."""
    if (data := await json_object(request)) is None:
        fail(400, "Bad Request", None)
    return data


def now_iso() -> str:
    """Current UTC time as the marketing API writes it."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_id() -> str:
    """A UUID like SendGrid's object ids."""
    return str(uuid.uuid4())


def token_page(request: Request, items: list[Any], *, max_size: int, required: bool = False
               ) -> dict[str, Any]:
    """One ``page_size`` + ``page_token`` page: ``result`` and ``_metadata`` (self, next, count)."""
    raw = request.query_params.get("page_size")
    if raw is None and required:
        fail(400, "page_size is required", "page_size")
    try:
        size = int(float(raw)) if raw is not None else max_size
    except ValueError:
        fail(400, "page_size must be a number", "page_size")
    if not 1 <= size <= max_size:
        fail(400, f"page_size should be between 1 and {max_size}", "page_size")
    token = request.query_params.get("page_token")
    try:
        start = int(base64.urlsafe_b64decode(token.encode()).decode()) if token else 0
    except ValueError:
        fail(400, "invalid page_token", "page_token")
    page = items[start: start + size]
    meta: dict[str, Any] = {"self": str(request.url), "count": len(items)}
    if start + size < len(items):
        nxt = base64.urlsafe_b64encode(str(start + size).encode()).decode()
        meta["next"] = str(request.url.include_query_params(page_token=nxt))
    return {"result": page, "_metadata": meta}
