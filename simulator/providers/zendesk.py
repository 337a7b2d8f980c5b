"""Simulated Zendesk Support API under ``/zendesk<base path>``: real paths (with or without ``.json``), bodies,
errors, rate-limit headers and both pagination styles.

State is kept per API token (Basic ``{email}/token:{token}``); a token starting with ``bad`` is rejected
with 401 ``Couldn't authenticate you``, and ``GET /users/me`` without credentials answers the anonymous
user, as Zendesk does. ``POST /tickets`` honours ``Idempotency-Key`` (replayed for two hours, with
``x-idempotency-lookup: hit``; a different body under the same key is a 400 ``IdempotentRequestError``).
Ticket updates keep audits whose ``metadata.custom`` holds the request's ``ticket.metadata``.
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from simulator.control import state
from simulator.providers import _zendesk_help
from simulator.providers._zendesk_core import (
    PROVIDER,
    SEARCH_CAP,
    account,
    body_of,
    cursor_page,
    fail,
    fault_response,
    invalid,
    new_router,
    not_found,
    now,
    offset_page,
    route,
)
from simulator.providers._zendesk_data import STATUSES, comment_audit, matches, new_id, seed, user

__all__ = ["PROVIDER", "fault_response", "router"]

router = new_router()
router.include_router(_zendesk_help.router)
#: How long Zendesk keeps an idempotency key.
IDEMPOTENCY_TTL_S = 2 * 3600
FIELDS = ("subject", "priority", "type", "assignee_id", "group_id", "tags", "custom_fields", "external_id")
ANONYMOUS = {"id": None, "url": None, "name": "Anonymous user", "email": "invalid@example.com",
             "role": "end-user", "active": True, "locale": "en-US", "time_zone": "UTC"}


@route(router, "GET", "/users/me")
def me(request: Request) -> dict[str, Any]:
    """GET /users/me: the token's user, or the anonymous user without credentials."""
    acct = account(request, seed, anonymous=True)
    if acct is None:
        return {"user": {**ANONYMOUS, "authenticity_token": "sim"}}
    with state(request).lock:
        return {"user": acct["users"][acct["me"]]}


def _ticket(acct: dict[str, Any], tid: int) -> dict[str, Any]:
    ticket = acct["tickets"].get(tid)
    if ticket is None:
        not_found()
    return ticket


def _requester(acct: dict[str, Any], data: dict[str, Any]) -> int:
    if "requester_id" in data:
        if data["requester_id"] not in acct["users"]:
            invalid("requester", "Requester: is invalid")
        return int(data["requester_id"])
    requester = data.get("requester") or {}
    email = str(requester.get("email") or "")
    if not email:
        return int(acct["me"])
    found = next((u for u in acct["users"].values() if u["email"] == email.lower()), None)
    if found:
        return int(found["id"])
    uid = new_id(acct)
    acct["users"][uid] = user(uid, requester.get("name") or email, email.lower(), "end-user")
    return uid


def _new_ticket(acct: dict[str, Any], data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    comment = data.get("comment") or {}
    text = comment.get("body") or comment.get("html_body") or data.get("description")
    if not text:
        invalid("description", "Description: cannot be blank", "BlankValue")
    if data.get("priority") not in (None, "low", "normal", "high", "urgent"):
        invalid("priority", "Priority: is not valid")
    requester = _requester(acct, data)
    tid = new_id(acct)
    ticket = {"id": tid, "url": f"/api/v2/tickets/{tid}.json", "type": None, "priority": None,
              "status": "new", "subject": data.get("subject") or str(text)[:50], "description": text,
              "requester_id": requester, "submitter_id": acct["me"], "assignee_id": None, "group_id": None,
              "tags": [], "custom_fields": [], "external_id": None, "created_at": now(), "updated_at": now(),
              "via": {"channel": "api"}}
    ticket |= {k: data[k] for k in FIELDS if k in data}
    ticket["raw_subject"] = ticket["subject"]
    if data.get("status") in STATUSES:
        ticket["status"] = data["status"]
    acct["tickets"][tid] = ticket
    audit = comment_audit(acct, ticket, acct["me"], {"public": comment.get("public", True), **comment}
                          if comment else {"body": text, "public": True}, [], data.get("metadata"))
    return ticket, audit


@route(router, "POST", "/tickets")
async def create_ticket(request: Request) -> JSONResponse:
    """POST /tickets, with ``Idempotency-Key`` replay."""
    acct, data = account(request, seed), await body_of(request, "ticket")
    key = request.headers.get("idempotency-key")
    digest = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()
    with state(request).lock:
        remembered = acct["idempotency"].get(key) if key else None
        if remembered and time.time() - remembered["at"] < IDEMPOTENCY_TTL_S:
            if remembered["digest"] != digest:
                fail(400, "IdempotentRequestError",
                     "Request parameters don't match the given idempotency key")
            body = {"ticket": acct["tickets"][remembered["ticket_id"]], "audit": remembered["audit"]}
            return JSONResponse(body, status_code=201, headers={"x-idempotency-lookup": "hit"})
        ticket, audit = _new_ticket(acct, data["ticket"])
        headers = {}
        if key:
            acct["idempotency"][key] = {"digest": digest, "ticket_id": ticket["id"], "audit": audit,
                                        "at": time.time()}
            headers["x-idempotency-lookup"] = "miss"
        return JSONResponse({"ticket": ticket, "audit": audit}, status_code=201, headers=headers)


@route(router, "GET", "/tickets")
def list_tickets(request: Request) -> dict[str, Any]:
    """GET /tickets (cursor pages; ``external_id`` filter)."""
    acct, external = account(request, seed), request.query_params.get("external_id")
    with state(request).lock:
        items = [t for t in acct["tickets"].values() if external is None or t.get("external_id") == external]
        return cursor_page(request, items, "tickets")


@route(router, "GET", "/tickets/{tid}")
def get_ticket(tid: int, request: Request) -> dict[str, Any]:
    """GET /tickets/{id}."""
    acct = account(request, seed)
    with state(request).lock:
        return {"ticket": _ticket(acct, tid)}


def _changes(ticket: dict[str, Any], data: dict[str, Any]) -> list[dict[str, Any]]:
    changes = []
    for key in ("status", *FIELDS):
        if key in data and data[key] != ticket.get(key):
            changes.append({"type": "Change", "field_name": key, "value": data[key],
                            "previous_value": ticket.get(key)})
    return changes


def _check_update(acct: dict[str, Any], ticket: dict[str, Any], data: dict[str, Any]) -> None:
    if ticket["status"] == "closed":
        invalid("status", "Status: closed prevents ticket update")
    if "status" in data and data["status"] not in STATUSES:
        invalid("status", f"Status: {data['status']} is not valid")
    assignee = acct["users"].get(data.get("assignee_id")) or {}
    if data.get("assignee_id") is not None and assignee.get("role") not in ("agent", "admin"):
        invalid("assignee_id", "Assignee: is not an agent")
    comment = data.get("comment")
    if comment is not None and not (comment.get("body") or comment.get("html_body")):
        invalid("comment", "Comment: cannot be blank", "BlankValue")
    if data.get("safe_update") and data.get("updated_stamp") != ticket["updated_at"]:
        fail(409, "UpdateConflict", "Safe Update prevented the update due to outdated ticket data. "
                                    "Please fetch the latest ticket data and try again.")


@route(router, "PUT", "/tickets/{tid}")
async def update_ticket(tid: int, request: Request) -> dict[str, Any]:
    """PUT /tickets/{id}: field changes and an optional comment, recorded as one audit."""
    acct, data = account(request, seed), (await body_of(request, "ticket"))["ticket"]
    with state(request).lock:
        ticket = _ticket(acct, tid)
        _check_update(acct, ticket, data)
        changes = _changes(ticket, data)
        ticket |= {k: data[k] for k in ("status", *FIELDS) if k in data}
        ticket["updated_at"] = now()
        audit = comment_audit(acct, ticket, acct["me"], {"public": True, **(data.get("comment") or {})}
                              if data.get("comment") else {}, changes, data.get("metadata"))
        return {"ticket": ticket, "audit": audit}


@route(router, "GET", "/tickets/{tid}/audits")
def list_audits(tid: int, request: Request) -> dict[str, Any]:
    """GET /tickets/{id}/audits (cursor pages, oldest first)."""
    acct = account(request, seed)
    with state(request).lock:
        _ticket(acct, tid)
        return cursor_page(request, acct["audits"].get(tid, []), "audits")


@route(router, "GET", "/search")
def search(request: Request) -> dict[str, Any]:
    """GET /search?query=... over tickets (the only simulated type; offset pages, 1000 results at most)."""
    acct, q = account(request, seed), request.query_params
    query = q.get("query") or ""
    with state(request).lock:
        found = [{**t, "result_type": "ticket"} for t in acct["tickets"].values() if matches(acct, t, query)]
    key = {"ticket_type": "type"}.get(q.get("sort_by") or "", q.get("sort_by") or "created_at")
    found.sort(key=lambda t: str(t.get(key) or ""), reverse=q.get("sort_order", "desc") == "desc")
    return {**offset_page(request, found, "results", cap=SEARCH_CAP), "facets": None}


def _macro_result(acct: dict[str, Any], ticket: dict[str, Any], macro: dict[str, Any]) -> dict[str, Any]:
    changed: dict[str, Any] = {"id": ticket["id"], "url": ticket["url"]}
    comment: dict[str, Any] = {}
    for action in macro["actions"]:
        field, value = action["field"], action["value"]
        if field in ("status", "priority", "type", "group_id", "assignee_id"):
            changed[field] = value
        elif field == "set_tags":
            changed["tags"] = str(value).split()
        elif field == "current_tags":
            changed["tags"] = sorted({*changed.get("tags", ticket["tags"]), *str(value).split()})
        elif field in ("comment_value", "comment_value_html"):
            comment["html_body" if field.endswith("html") else "body"] = value
        elif field == "comment_mode_is_public":
            comment["public"] = str(value).lower() == "true"
    out: dict[str, Any] = {"ticket": changed}
    if comment.get("body") or comment.get("html_body"):
        html = comment.get("html_body") or f"<p>{comment['body']}</p>"
        out["comment"] = {"body": comment.get("body") or html, "html_body": html, "scoped_body": [],
                          "public": comment.get("public", True)}
    return out


@route(router, "GET", "/tickets/{tid}/macros/{mid}/apply")
def apply_macro(tid: int, mid: int, request: Request) -> dict[str, Any]:
    """GET /tickets/{id}/macros/{id}/apply: the ticket as the macro would leave it (nothing is saved)."""
    acct = account(request, seed)
    with state(request).lock:
        ticket, macro = _ticket(acct, tid), acct["macros"].get(mid)
        if macro is None:
            not_found()
        return {"result": _macro_result(acct, ticket, macro)}
