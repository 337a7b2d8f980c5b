"""Simulated Twilio SendGrid v3 under ``/sendgrid/v3``: real paths, bodies, ``{"errors": [...]}`` answers.

State is kept per API key (and ``on-behalf-of`` subuser). A key starting with ``bad`` is rejected with
SendGrid's 401; a key starting with ``SG.basic`` lacks the Email Activity add-on (``GET /v3/messages`` is
403). Mail send accepts senders of the authenticated domain ``acme.example`` and answers 202 with an
``X-Message-Id``; each recipient becomes a message in the Email Activity feed and in the statistics.
Every answer but mail send's carries ``X-RateLimit-*`` with the reset as an epoch second.
"""

from __future__ import annotations

import re
import secrets
import time
from datetime import UTC, datetime
from typing import Any

from fastapi import Depends, Request, Response

from simulator.control import state
from simulator.providers import _sendgrid_marketing as marketing
from simulator.providers._sendgrid_common import (
    AUTHENTICATED_DOMAIN,
    PROVIDER,
    SCOPES,
    SIM,
    SENDERS,
    account,
    body_of,
    fail,
    has_activity,
    not_found,
    rate_headers,
)

__all__ = ["PROVIDER", "fault_response", "router"]

router = SIM.router(dependencies=[Depends(rate_headers)])
fault_response = SIM.fault_response
HELP = "http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html"
MAX_AHEAD = 72 * 3600
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$", re.I)
_CLAUSE = re.compile(r"""^\s*(?:unique_args\['(?P<arg>[^']+)'\]|(?P<field>[a-z_]+))"""
                     r"""\s*=\s*"(?P<value>[^"]*)"\s*$""")
_FIELDS = ("msg_id", "from_email", "subject", "to_email", "status", "template_id")


@router.get("/v3/scopes")
def scopes(request: Request) -> dict[str, Any]:
    """GET /v3/scopes: what the key may do."""
    account(request)
    held = [s for s in SCOPES if s != "messages.read" or has_activity(request)]
    return {"scopes": held}


def _check_mail(data: dict[str, Any]) -> None:
    personalizations = data.get("personalizations")
    if not isinstance(personalizations, list) or not personalizations or \
            not all(isinstance(p, dict) and p.get("to") for p in personalizations):
        fail(400, "The personalizations field is required and must have at least one personalization.",
             "personalizations")
    for p in personalizations:
        for to in p["to"]:
            if not _EMAIL.match(str((to or {}).get("email", ""))):
                fail(400, "Does not contain a valid address.", "personalizations.0.to.0.email")
    sender = str((data.get("from") or {}).get("email", ""))
    if not _EMAIL.match(sender):
        fail(400, "The from object must be provided for every email send. It is an object that requires the "
                  "email parameter, but may also contain a name parameter.", "from.email")
    if sender.rpartition("@")[2].lower() != AUTHENTICATED_DOMAIN:
        fail(403, "The from address does not match a verified Sender Identity. Mail cannot be sent until "
                  "this error is resolved.", "from")
    _check_content(data)


def _check_content(data: dict[str, Any]) -> None:
    template = data.get("template_id")
    if not data.get("subject") and not template:
        fail(400, "The subject is required. You can get around this requirement if you use a template with a "
                  "subject defined.", "subject")
    content = data.get("content") or []
    if not content and not template:
        fail(400, "Unless a valid template_id is provided, the content parameter is required.", "content")
    types = [c.get("type") for c in content if isinstance(c, dict)]
    if "text/plain" in types and types[0] != "text/plain":
        fail(400, "If present, text/plain content must be first, followed by any other content.", "content")
    if template is not None and not re.match(r"^d-[0-9a-f]{32}$", str(template)):
        fail(400, "The template_id must be a valid GUID.", "template_id")
    args = data.get("custom_args") or {}
    if not isinstance(args, dict) or not all(isinstance(v, str) for v in args.values()):
        fail(400, "Invalid type. Expected: string, given: other.", "custom_args")
    if len(data.get("categories") or []) > 10:
        fail(400, "Too many categories. You may only set up to 10 categories.", "categories")
    send_at = data.get("send_at")
    if send_at is not None and (not isinstance(send_at, int) or send_at > time.time() + MAX_AHEAD):
        fail(400, "The send_at parameter must be a unix timestamp no more than 72 hours in the future.",
             "send_at")


@router.post("/v3/mail/send", status_code=202)
async def mail_send(request: Request) -> Response:
    """POST /v3/mail/send: 202, empty body, ``X-Message-Id``."""
    acct, data = account(request), await body_of(request)
    _check_mail(data)
    xid = secrets.token_urlsafe(16)[:22]
    when = datetime.fromtimestamp(data.get("send_at") or time.time(), UTC)
    with state(request).lock:
        for n, p in enumerate(data["personalizations"]):
            for to in p["to"]:
                acct["messages"].append({
                    "msg_id": f"{xid}.filterdrecv-{n}-{len(acct['messages'])}-1.0", "to_email": to["email"],
                    "from_email": data["from"]["email"],
                    "subject": p.get("subject") or data.get("subject", ""),
                    "status": "delivered", "opens_count": 0, "clicks_count": 0,
                    "last_event_time": when.strftime("%Y-%m-%dT%H:%M:%SZ"), "date": when.date().isoformat(),
                    "template_id": data.get("template_id"), "categories": data.get("categories") or [],
                    "unique_args": {**(data.get("custom_args") or {}), **(p.get("custom_args") or {})}})
    return Response(status_code=202, headers={"X-Message-Id": xid})


def _matcher(query: str) -> Any:
    clauses = []
    for raw in re.split(r"\s+AND\s+", query.strip(), flags=re.I) if query.strip() else []:
        m = _CLAUSE.match(raw.strip("() "))
        if m is None or (m["field"] and m["field"] not in _FIELDS):
            fail(400, f"invalid syntax: '{raw.strip()}' is not a known field")
        clauses.append((m["arg"], m["field"], m["value"]))

    def match(msg: dict[str, Any]) -> bool:
        return all((msg["unique_args"].get(arg) if arg else msg.get(field)) == value
                   for arg, field, value in clauses)
    return match


@router.get("/v3/messages")
def messages(request: Request) -> dict[str, Any]:
    """GET /v3/messages: the Email Activity feed (a paid add-on), newest first."""
    acct = account(request)
    if not has_activity(request):
        fail(403, "access forbidden")
    try:
        limit = int(request.query_params.get("limit") or 10)
    except ValueError:
        limit = 0
    if not 1 <= limit <= 1000:
        fail(400, "limit must be greater than 0 and less than or equal to 1000", "limit")
    match = _matcher(request.query_params.get("query", ""))
    keys = ("from_email", "msg_id", "subject", "to_email", "status", "opens_count", "clicks_count",
            "last_event_time")
    with state(request).lock:
        found = [{k: m[k] for k in keys} for m in reversed(acct["messages"]) if match(m)]
    return {"messages": found[:limit]}


@router.get("/v3/senders")
def senders(request: Request) -> list[dict[str, Any]]:
    """GET /v3/senders: the sender identities (ids used by Single Sends)."""
    account(request)
    return list(SENDERS.values())


router.include_router(marketing.router)


@router.api_route("/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
def unknown(rest: str, request: Request) -> Response:
    """Any other path: SendGrid's 404."""
    account(request)
    not_found()
