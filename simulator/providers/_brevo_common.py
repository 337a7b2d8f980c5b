"""Shared pieces of the simulated Brevo API v3: auth, ``{"code", "message"}`` errors, rate headers, paging."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any, NoReturn

from fastapi import Request

from simulator.control import json_object
from simulator.generic import Sim

PROVIDER = "brevo"
#: Requests per window that ``x-sib-ratelimit-limit`` reports, and the window in seconds.
RATE_LIMIT, RATE_WINDOW = 36000, 3600
#: The authenticated sending domain: senders of other domains are refused.
SENDER_DOMAIN = "acme.example"
#: Contact lists of every simulated account; list 2 starts with SEEDED contacts.
LISTS = {2: "Newsletter", 7: "VIP"}
SEEDED = 120


SIM = Sim(PROVIDER, rate_limit=RATE_LIMIT, retry_after_header=False, faults={
    401: ("Key not found", "unauthorized"), 403: ("Operation not allowed", "permission_denied"),
    404: ("Document not found", "document_not_found"),
    429: ("The expected rate limit is exceeded.", "too_many_requests"),
    400: ("Bad request", "bad_request"), 500: ("Internal server error", "internal_error")})


def fail(status: int, code: str, message: str) -> NoReturn:
    """Answer the current request with a Brevo error."""
    SIM.fail(status, message, code)


def now() -> str:
    """Current UTC time as Brevo writes it."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{datetime.now(UTC).microsecond // 1000:03d}Z"


def _seed() -> dict[str, Any]:
    contacts = {}
    for n in range(1, SEEDED + 1):
        contacts[n] = {"id": n, "email": f"member{n:03d}@example.com", "emailBlacklisted": False,
                       "smsBlacklisted": False, "createdAt": "2026-01-01T00:00:00.000Z",
                       "modifiedAt": "2026-01-01T00:00:00.000Z", "attributes": {"FIRSTNAME": f"Member {n}"},
                       "listIds": [2], "listUnsubscribed": [], "statistics": {}}
    draft = {"id": 1, "name": "Welcome series", "subject": "Welcome to Acme", "status": "draft", "type": "classic",
             "scheduledAt": None, "createdAt": "2026-01-01T00:00:00.000Z", "modifiedAt": "2026-01-01T00:00:00.000Z",
             "sentDate": None, "sender": {"name": "Acme", "email": f"news@{SENDER_DOMAIN}", "id": 1},
             "replyTo": f"news@{SENDER_DOMAIN}", "htmlContent": "<p>Welcome</p>", "templateId": None,
             "testSent": False, "tag": "", "recipients": {"lists": [2], "exclusionLists": []},
             "statistics": {"globalStats": dict.fromkeys(("uniqueClicks", "clickers", "complaints", "delivered",
                                                          "sent", "softBounces", "hardBounces", "uniqueViews",
                                                          "unsubscriptions", "viewed"), 0), "campaignStats": []}}
    # campaign 1 is the sandbox's draft (the catalog's send_email_campaign example sends it)
    return {"contacts": contacts, "next_contact": SEEDED + 1, "email_campaigns": {1: draft}, "sms_campaigns": {},
            "next_campaign": 2, "smtp": [], "keys": {}, "events": [], "calls": 0}


def account(request: Request) -> dict[str, Any]:
    """The state of the request's ``api-key``; 401 as Brevo answers a missing or unknown key."""
    return SIM.account(request, _seed)


#: Adds ``x-sib-ratelimit-*`` (the reset in seconds, to the end of the hour's window) to every answer.
rate_headers = SIM.counting(account, lambda: RATE_WINDOW - int(time.time()) % RATE_WINDOW)


async def body_of(request: Request) -> dict[str, Any]:
    """The JSON object body, or Brevo's 400."""
    if (data := await json_object(request)) is None:
        fail(400, "bad_request", "Input must be a valid JSON object")
    return data


def page(request: Request, items: list[Any], *, max_limit: int, default: int = 50) -> tuple[list[Any], int]:
    """One limit/offset page of ``items`` (sorted newest first unless ``sort=asc``) and the count."""
    q = request.query_params
    try:
        limit, offset = int(q.get("limit") or default), int(q.get("offset") or 0)
    except ValueError:
        fail(400, "invalid_parameter", "limit and offset must be integers")
    if not 0 <= limit <= max_limit or offset < 0:
        fail(400, "invalid_parameter", f"limit must be between 0 and {max_limit}")
    ordered = items if q.get("sort") == "asc" else items[::-1]
    return ordered[offset: offset + limit], len(items)


def find_contact(acct: dict[str, Any], identifier: str) -> dict[str, Any] | None:
    """A contact by id or (case-insensitive) e-mail."""
    if identifier.isdigit():
        return acct["contacts"].get(int(identifier))
    return next((c for c in acct["contacts"].values() if c["email"] == identifier.lower()), None)


def new_contact(acct: dict[str, Any], email: str) -> dict[str, Any]:
    """Create and store a contact."""
    cid = acct["next_contact"]
    acct["next_contact"] += 1
    contact = {"id": cid, "email": email.lower(), "emailBlacklisted": False, "smsBlacklisted": False,
               "createdAt": now(), "modifiedAt": now(), "attributes": {}, "listIds": [],
               "listUnsubscribed": [], "statistics": {}}
    acct["contacts"][cid] = contact
    return contact


def check_lists(list_ids: Any, field: str = "listIds") -> list[int]:
    """Existing list ids, or Brevo's 400."""
    if not isinstance(list_ids, list) or not all(isinstance(i, int) for i in list_ids):
        fail(400, "invalid_parameter", f"{field} should be an array of integers")
    missing = [i for i in list_ids if i not in LISTS]
    if missing:
        fail(404, "document_not_found", f"List ID does not exist: {missing[0]}")
    return list_ids
