"""Simulated Brevo API v3 under ``/brevo<base path>``: real paths, bodies and ``{"code", "message"}`` errors.

State is kept per ``api-key``; a key starting with ``bad`` is refused (401 ``unauthorized``). Every account
has lists 2 and 7, list 2 holding 120 contacts. Senders must belong to ``acme.example``. Transactional
e-mail honours ``headers.idempotencyKey`` for 30 minutes (``duplicate_parameter``) and logs each recipient
for ``GET /smtp/emails``. Events create their contact when needed. Every answer carries
``x-sib-ratelimit-*``, the reset in seconds.
"""

from __future__ import annotations

import re
import secrets
import time
import uuid
from datetime import datetime
from typing import Any

from fastapi import Depends, Request, Response

from simulator.control import state
from simulator.providers import _brevo_campaigns as campaigns
from simulator.providers._brevo_common import (
    LISTS,
    PROVIDER,
    SENDER_DOMAIN,
    account,
    body_of,
    check_lists,
    SIM,
    fail,
    find_contact,
    new_contact,
    now,
    page,
    rate_headers,
)

__all__ = ["PROVIDER", "fault_response", "router"]

router = SIM.router(dependencies=[Depends(rate_headers)])
fault_response = SIM.fault_response
IDEMPOTENCY_TTL = 30 * 60
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$", re.I)
_EVENT = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
@router.get("/account")
def get_account(request: Request) -> dict[str, Any]:
    """GET /account: owner, company and plan."""
    account(request)
    return {"email": "owner@acme.example", "firstName": "Ada", "lastName": "Lovelace", "companyName": "Acme",
            "address": {"street": "1 Main St", "city": "Paris", "zipCode": "75001", "country": "France"},
            "plan": [{"type": "starter", "credits": 20000, "creditsType": "sendLimit"},
                     {"type": "sms", "credits": 250.5, "creditsType": "sendLimit"}],
            "relay": {"enabled": True, "data": {"userName": "owner@acme.example",
                                                "relay": "smtp-relay.brevo.com", "port": 587}},
            "organization_id": "5f0c8e3a9d1b2c0012ab34cd", "user_id": 4242}


def _check_smtp(data: dict[str, Any]) -> None:
    to = data.get("to")
    if not isinstance(to, list) or not to or \
            not all(_EMAIL.match(str((t or {}).get("email", ""))) for t in to):
        fail(400, "invalid_parameter", "to is missing or has an invalid email address")
    if data.get("templateId") is None:
        sender = str((data.get("sender") or {}).get("email", ""))
        if not sender:
            fail(400, "missing_parameter", "sender is missing")
        if sender.rpartition("@")[2].lower() != SENDER_DOMAIN:
            fail(400, "invalid_parameter", "Sender is not valid, please use a verified sender")
        if not data.get("subject"):
            fail(400, "missing_parameter", "subject is missing")
        if not (data.get("htmlContent") or data.get("textContent")):
            fail(400, "missing_parameter", "htmlContent or textContent is missing")


@router.post("/smtp/email", status_code=201)
async def send_smtp(request: Request) -> dict[str, str]:
    """POST /smtp/email: 201 with ``messageId``; a repeated ``headers.idempotencyKey`` is refused."""
    acct, data = account(request), await body_of(request)
    _check_smtp(data)
    key = (data.get("headers") or {}).get("idempotencyKey")
    with state(request).lock:
        if key is not None:
            seen = acct["keys"].get(key)
            if seen is not None and time.time() - seen < IDEMPOTENCY_TTL:
                fail(400, "duplicate_parameter", "idempotencyKey has already been used")
            acct["keys"][key] = time.time()
        stamp = datetime.now().strftime("%Y%m%d%H%M%S")
        message_id = f"<{stamp}.{secrets.token_hex(6)}@smtp-relay.mailin.fr>"
        for to in data["to"]:
            acct["smtp"].append({"email": to["email"].lower(), "subject": data.get("subject", ""),
                                 "templateId": data.get("templateId"), "messageId": message_id,
                                 "uuid": str(uuid.uuid4()), "date": now(), "tags": data.get("tags") or [],
                                 "from": (data.get("sender") or {}).get("email")})
    return {"messageId": message_id}


@router.get("/smtp/emails")
def list_smtp(request: Request) -> dict[str, Any]:
    """GET /smtp/emails: the transactional log; ``email``, ``templateId`` or ``messageId`` is required."""
    acct, q = account(request), request.query_params
    if not (q.get("email") or q.get("templateId") or q.get("messageId")):
        fail(400, "missing_parameter", "email, templateId or messageId is required")
    with state(request).lock:
        items = [m for m in acct["smtp"] if (not q.get("email") or m["email"] == q["email"].lower())
                 and (not q.get("messageId") or m["messageId"] == q["messageId"])
                 and (not q.get("templateId") or str(m["templateId"]) == q["templateId"])]
    emails, count = page(request, items, max_limit=1000, default=500)
    return {"count": count, "transactionalEmails": emails}


def _event_contact(acct: dict[str, Any], identifiers: dict[str, Any]) -> dict[str, Any]:
    if identifiers.get("contact_id") is not None:
        contact = acct["contacts"].get(identifiers["contact_id"])
        return contact if contact is not None else fail(404, "document_not_found", "Contact does not exist")
    email = str(identifiers.get("email_id") or "")
    if not _EMAIL.match(email):
        fail(400, "invalid_parameter", "identifiers must contain a valid email_id or contact_id")
    return find_contact(acct, email) or new_contact(acct, email)


@router.post("/events", status_code=204, response_class=Response)
async def create_event(request: Request) -> None:
    """POST /events: record a custom event for a contact (creating the contact when needed)."""
    acct, data = account(request), await body_of(request)
    if not _EVENT.match(str(data.get("event_name") or "")):
        fail(400, "invalid_parameter", "event_name is limited to 255 alphanumeric characters, - and _")
    identifiers = data.get("identifiers")
    if not isinstance(identifiers, dict) or not identifiers:
        fail(400, "missing_parameter", "identifiers is missing")
    with state(request).lock:
        contact = _event_contact(acct, identifiers)
        contact["attributes"] |= data.get("contact_properties") or {}
        acct["events"].append({"contact_id": contact["id"], "event_name": data["event_name"],
                               "event_date": data.get("event_date") or now(), "object_type": None,
                               "event_properties": data.get("event_properties") or {}})


@router.get("/events")
def list_events(request: Request) -> dict[str, Any]:
    """GET /events (custom events; ``contact_id`` and ``event_name`` repeatable; limit <= 10000)."""
    acct, q = account(request), request.query_params
    ids, names = {int(i) for i in q.getlist("contact_id") if i.isdigit()}, set(q.getlist("event_name"))
    with state(request).lock:
        items = [e for e in acct["events"] if (not ids or e["contact_id"] in ids)
                 and (not names or e["event_name"] in names)]
    events, count = page(request, items, max_limit=10000, default=100)
    return {"events": events, "count": count}


@router.post("/contacts", status_code=201, response_model=None)
async def create_contact(request: Request, response: Response) -> dict[str, int] | None:
    """POST /contacts: 201 with the id, or 204 when ``updateEnabled`` updated an existing contact."""
    acct, data = account(request), await body_of(request)
    email = str(data.get("email") or "")
    if not _EMAIL.match(email):
        fail(400, "invalid_parameter", "Invalid email address")
    lists = check_lists(data.get("listIds") or [])
    with state(request).lock:
        contact = find_contact(acct, email)
        if contact is not None and not data.get("updateEnabled"):
            fail(400, "duplicate_parameter", "Unable to create contact, email is already associated with "
                                             "another Contact")
        created = contact is None
        contact = contact or new_contact(acct, email)
        contact["attributes"] |= data.get("attributes") or {}
        contact["listIds"] = sorted(set(contact["listIds"]) | set(lists))
        contact["modifiedAt"] = now()
    if created:
        return {"id": contact["id"]}
    response.status_code = 204
    return None


@router.get("/contacts")
def list_contacts(request: Request) -> dict[str, Any]:
    """GET /contacts (limit <= 1000, offset, modifiedSince, sort)."""
    return _contacts(request, None, 1000)


@router.get("/contacts/lists/{list_id}/contacts")
def list_contacts_of_list(list_id: int, request: Request) -> dict[str, Any]:
    """GET /contacts/lists/{id}/contacts (limit <= 500)."""
    if list_id not in LISTS:
        fail(404, "document_not_found", "List ID does not exist")
    return _contacts(request, list_id, 500)


def _when(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _contacts(request: Request, list_id: int | None, max_limit: int) -> dict[str, Any]:
    acct, since = account(request), request.query_params.get("modifiedSince")
    try:
        cutoff = datetime.fromisoformat(since.replace("Z", "+00:00")) if since else None
    except ValueError:
        fail(400, "invalid_parameter", "modifiedSince should be a date-time (YYYY-MM-DDTHH:mm:ss.SSSZ)")
    with state(request).lock:
        items = [c for c in acct["contacts"].values() if (list_id is None or list_id in c["listIds"])
                 and (cutoff is None or _when(c["modifiedAt"]) > cutoff)]
    contacts, count = page(request, items, max_limit=max_limit)
    return {"contacts": contacts, "count": count}


@router.get("/contacts/{identifier}")
def get_contact(identifier: str, request: Request) -> dict[str, Any]:
    """GET /contacts/{email or id}."""
    acct = account(request)
    with state(request).lock:
        contact = find_contact(acct, identifier)
        return contact if contact is not None else fail(404, "document_not_found", "Contact does not exist")


@router.put("/contacts/{identifier}", status_code=204, response_class=Response)
async def update_contact(identifier: str, request: Request) -> None:
    """PUT /contacts/{email or id}: attributes, listIds and unlinkListIds."""
    acct, data = account(request), await body_of(request)
    add, remove = check_lists(data.get("listIds") or []), check_lists(data.get("unlinkListIds") or [],
                                                                      "unlinkListIds")
    with state(request).lock:
        contact = find_contact(acct, identifier)
        if contact is None:
            fail(404, "document_not_found", "Contact does not exist")
        contact["attributes"] |= data.get("attributes") or {}
        contact["listIds"] = sorted((set(contact["listIds"]) | set(add)) - set(remove))
        contact["modifiedAt"] = now()


router.include_router(campaigns.router)


@router.api_route("/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
def unknown(rest: str, request: Request) -> Response:
    """Any other path: Brevo's 404."""
    account(request)
    fail(404, "document_not_found", "Invalid route")
