"""Simulated Freshdesk API v2 under ``/freshdesk<base path>``: real paths, page/per_page paging with ``Link``
headers, the ticket-search query language, ``X-RateLimit-*`` headers and Freshdesk's error bodies.

State is kept per API key (Basic auth user name; any password). A key starting with ``bad`` is rejected
with 401 ``invalid_credentials``. The helpdesk starts with one customer, four tickets (two of them past
their SLA due time), two SLA policies and a FAQ folder (id 43000010001) with two articles.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from fastapi import Request, Response
from fastapi.responses import JSONResponse

from simulator.control import Reply, state
from simulator.generic import Sim
from simulator.providers._freshdesk_data import (
    BAD_LOGIN,
    RATE_TOTAL,
    SOURCES,
    TICKET_TYPES,
    agent,
    big_id,
    body_of,
    error,
    get_or_404,
    invalid,
    new_article,
    new_contact,
    new_ticket,
    not_found,
    now,
    ok,
    page,
    parse_query,
    parse_time,
    seed,
    since,
    stamp,
)

PROVIDER = "freshdesk"


def _body(status: int, message: str, code: Any) -> dict[str, Any] | None:
    """Freshdesk's ``{"code", "message"}`` (the definition reads ``description`` first, which only
    validation errors carry); a 404 has no body."""
    return None if status == 404 else {"message": message} | ({"code": code} if code else {})


SIM = Sim(PROVIDER, body=_body,
          rate_limit=RATE_TOTAL, throttle_extra={"X-RateLimit-Used-CurrentRequest": "1"}, faults={
              401: (BAD_LOGIN["message"], BAD_LOGIN["code"]),
              403: ("You are not authorized to perform this action.", "access_denied"),
              429: ("You have exceeded the limit of requests per minute", None),
              400: ("Bad Request", "invalid_value"), 500: ("Internal Server Error", "internal_error")})
router = SIM.router()
fault_response = SIM.fault_response
_UPDATABLE = ("status", "priority", "type", "group_id", "responder_id", "tags", "custom_fields", "subject")


def _one(request: Request, kind: str, object_id: str) -> JSONResponse:
    """GET of one object of ``kind`` (404 without a body when there is none)."""
    acct = account(request)
    with state(request).lock:
        return ok(request, get_or_404(acct[kind], object_id))


def _rate_headers(acct: dict[str, Any]) -> dict[str, str]:
    """Count the call in this minute's window (failed calls count too, as at Freshdesk)."""
    window = int(time.time() // 60)
    if acct["rate"][0] != window:
        acct["rate"] = [window, 0]
    acct["rate"][1] += 1
    left = max(0, RATE_TOTAL - acct["rate"][1])
    return {"X-RateLimit-Total": str(RATE_TOTAL), "X-RateLimit-Remaining": str(left),
            "X-RateLimit-Used-CurrentRequest": "1"}


def account(request: Request) -> dict[str, Any]:
    """The helpdesk of the API key in the Basic auth header; 401 as Freshdesk answers it."""
    acct = state(request).account(PROVIDER, SIM.credential(request).partition(":")[0], seed)
    request.state.rate = _rate_headers(acct)
    return acct


@router.get("/agents/me")
def me(request: Request) -> JSONResponse:
    """The agent who owns the API key."""
    account(request)
    return ok(request, agent(""))


# -- tickets ----------------------------------------------------------------------------------------------
def _requester(acct: dict[str, Any], data: dict[str, Any]) -> int:
    if data.get("requester_id") is not None:
        if int(data["requester_id"]) not in acct["contacts"]:
            invalid("requester_id", "There is no contact matching the given requester_id")
        return int(data["requester_id"])
    email = data.get("email")
    if not email:
        invalid("requester_id", "Please fill at least 1 of requester_id, phone, email, twitter_id, "
                                "facebook_id, unique_external_id fields", "missing_field")
    found = next((c for c in acct["contacts"].values() if c["email"] == email), None)
    if found is None:  # Freshdesk creates the contact of an unknown requester
        found = new_contact({"name": data.get("name") or str(email).split("@")[0], "email": email})
        acct["contacts"][found["id"]] = found
    return int(found["id"])


def _check_ticket_fields(data: dict[str, Any]) -> None:
    for name, allowed in (("priority", (1, 2, 3, 4)), ("status", (2, 3, 4, 5)), ("source", SOURCES)):
        if name in data and data[name] not in allowed:
            invalid(name, f"It should be one of these values: '{','.join(map(str, allowed))}'")
    if data.get("type") is not None and data["type"] not in TICKET_TYPES:
        invalid("type", f"It should be one of these values: '{','.join(TICKET_TYPES)}'")
    for key in data.get("custom_fields") or {}:
        if not key.startswith("cf_"):
            invalid(key, "Unexpected/invalid field in request", "invalid_field")


@router.post("/tickets")
async def create_ticket(request: Request) -> JSONResponse:
    """POST /tickets."""
    acct, data = account(request), await body_of(request)
    for name in ("subject", "description"):
        if not data.get(name):
            invalid(name, "It should be a/an String", "missing_field")
    _check_ticket_fields(data)
    with state(request).lock:
        t = new_ticket(acct, data, _requester(acct, data), now())
        acct["tickets"][t["id"]] = t
        return ok(request, t, 201)


@router.get("/tickets")
def list_tickets(request: Request) -> JSONResponse:
    """GET /tickets: filter, requester_id, email, updated_since (else the last 30 days), order_by/type."""
    acct, q = account(request), request.query_params
    after = since(q.get("updated_since"), "updated_since")
    with state(request).lock:
        items = list(acct["tickets"].values())
        if "email" in q:
            who = next((c["id"] for c in acct["contacts"].values() if c["email"] == q["email"]), None)
            if who is None:
                invalid("email", "There is no contact matching the given email")
            items = [t for t in items if t["requester_id"] == who]
        if "requester_id" in q:
            items = [t for t in items if str(t["requester_id"]) == q["requester_id"]]
        if after is not None:
            items = [t for t in items if parse_time(t["updated_at"]) >= after]
        else:
            cutoff = stamp(now() - timedelta(days=30))
            items = [t for t in items if t["created_at"] >= cutoff]
        flt = q.get("filter")
        if flt == "new_and_my_open":
            items = [t for t in items if t["status"] == 2]
        elif flt in ("watching", "spam", "deleted"):
            items = []
        elif flt is not None:
            invalid("filter", "It should be one of these values: 'new_and_my_open,watching,spam,deleted'")
        key = q.get("order_by") or "created_at"
        items.sort(key=lambda t: (t[key], t["id"]), reverse=q.get("order_type", "desc") == "desc")
        return page(request, [{k: v for k, v in t.items() if k not in ("description", "description_text")}
                              for t in items])


@router.get("/tickets/{ticket_id}")
def get_ticket(ticket_id: str, request: Request) -> JSONResponse:
    """GET /tickets/{id}."""
    return _one(request, "tickets", ticket_id)


@router.put("/tickets/{ticket_id}")
async def update_ticket(ticket_id: str, request: Request) -> JSONResponse:
    """PUT /tickets/{id}: only the fields given change; ``tags`` replaces all tags."""
    acct, data = account(request), await body_of(request)
    for key in data:
        if key not in _UPDATABLE:
            invalid(key, "Unexpected/invalid field in request", "invalid_field")
    _check_ticket_fields(data)
    with state(request).lock:
        t = get_or_404(acct["tickets"], ticket_id)
        t["custom_fields"] |= data.pop("custom_fields", None) or {}
        t |= data | {"updated_at": stamp(now())}
        return ok(request, t)


@router.post("/tickets/{ticket_id}/reply")
async def reply(ticket_id: str, request: Request) -> JSONResponse:
    """POST /tickets/{id}/reply."""
    acct, data = account(request), await body_of(request)
    if not data.get("body"):
        invalid("body", "It should be a/an String", "missing_field")
    with state(request).lock:
        t = get_or_404(acct["tickets"], ticket_id)
        at = stamp(now())
        conv = {"id": big_id(),
                "body": data["body"], "body_text": data["body"], "incoming": False, "private": False,
                "user_id": 43000000001, "support_email": "support@sim.freshdesk.com", "source": 0,
                "ticket_id": t["id"], "to_emails": [], "from_email": "support@sim.freshdesk.com",
                "cc_emails": list(data.get("cc_emails") or []), "bcc_emails": [], "attachments": [],
                "created_at": at, "updated_at": at}
        acct["conversations"].setdefault(t["id"], []).append(conv)
        t["updated_at"] = at
        return ok(request, conv, 201)


@router.get("/tickets/{ticket_id}/conversations")
def conversations(ticket_id: str, request: Request) -> JSONResponse:
    """GET /tickets/{id}/conversations, oldest first."""
    acct = account(request)
    with state(request).lock:
        t = get_or_404(acct["tickets"], ticket_id)
        return page(request, list(acct["conversations"].get(t["id"], [])))


@router.get("/search/tickets")
def search_tickets(request: Request) -> JSONResponse:
    """GET /search/tickets?query="..." — 30 results a page, pages 1 to 10, ``{"results", "total"}``."""
    acct, q = account(request), request.query_params
    raw = q.get("query") or ""
    if len(raw) < 2 or not (raw.startswith('"') and raw.endswith('"')):
        invalid("query", "Query should be enclosed in double quotes", "invalid_value")
    try:
        check = parse_query(raw[1:-1])
    except ValueError as exc:
        invalid("query", str(exc), "invalid_value")
    number = int(q.get("page") or 1)
    if not 1 <= number <= 10:
        invalid("page", "Value must be less than or equal to 10", "invalid_value")
    with state(request).lock:
        hits = [t for t in acct["tickets"].values() if check(t)]
        hits.sort(key=lambda t: t["created_at"], reverse=True)
        return ok(request, {"results": hits[(number - 1) * 30: number * 30], "total": len(hits)})


# -- SLA, knowledge base, contacts ------------------------------------------------------------------------
@router.get("/sla_policies")
def sla_policies(request: Request) -> JSONResponse:
    """GET /sla_policies."""
    acct = account(request)
    return page(request, acct["sla_policies"])


def _folder(acct: dict[str, Any], folder_id: str) -> int:
    try:
        number = int(folder_id)
    except ValueError:
        not_found()
    return number if number in acct["folders"] else not_found()


@router.get("/solutions/folders/{folder_id}/articles")
def folder_articles(folder_id: str, request: Request) -> JSONResponse:
    """GET /solutions/folders/{id}/articles."""
    acct = account(request)
    with state(request).lock:
        fid = _folder(acct, folder_id)
        return page(request, [a for a in acct["articles"].values() if a["folder_id"] == fid])


@router.post("/solutions/folders/{folder_id}/articles")
async def create_article(folder_id: str, request: Request) -> JSONResponse:
    """POST /solutions/folders/{id}/articles."""
    acct, data = account(request), await body_of(request)
    if len(str(data.get("title") or "")) < 3:
        invalid("title", "It should be a/an String with at least 3 characters", "missing_field")
    if not data.get("description"):
        invalid("description", "It should be a/an String", "missing_field")
    if data.get("status") not in (1, 2):
        invalid("status", "It should be one of these values: '1,2'")
    with state(request).lock:
        a = new_article(_folder(acct, folder_id), data)
        acct["articles"][a["id"]] = a
        return ok(request, a, 201)


@router.get("/solutions/articles/{article_id}")
def get_article(article_id: str, request: Request) -> JSONResponse:
    """GET /solutions/articles/{id}."""
    return _one(request, "articles", article_id)


@router.get("/search/solutions")
def search_solutions(request: Request) -> JSONResponse:
    """GET /search/solutions?term= (title and body, case-insensitive)."""
    acct, term = account(request), (request.query_params.get("term") or "").lower()
    if not term:
        invalid("term", "It should be a/an String", "missing_field")
    with state(request).lock:
        return ok(request, [a for a in acct["articles"].values()
                            if term in a["title"].lower() or term in a["description_text"].lower()])


@router.get("/contacts")
def list_contacts(request: Request) -> JSONResponse:
    """GET /contacts: email, mobile, phone, company_id, state, _updated_since."""
    acct, q = account(request), request.query_params
    after = since(q.get("_updated_since"), "_updated_since")
    with state(request).lock:
        items = [c for c in acct["contacts"].values()
                 if all(str(c.get(k)) == q[k] for k in ("email", "mobile", "phone", "company_id") if k in q)]
        if q.get("state") in ("blocked", "deleted"):
            items = []
        elif q.get("state") in ("verified", "unverified"):
            items = [c for c in items if c["active"] == (q["state"] == "verified")]
        if after is not None:
            items = [c for c in items if parse_time(c["updated_at"]) >= after]
        return page(request, items)


@router.post("/contacts")
async def create_contact(request: Request) -> JSONResponse:
    """POST /contacts: e-mail is unique (409 ``duplicate_value`` naming the existing contact)."""
    acct, data = account(request), await body_of(request)
    if not data.get("name"):
        invalid("name", "It should be a/an String", "missing_field")
    if not any(data.get(k) for k in ("email", "phone", "mobile", "twitter_id", "unique_external_id")):
        invalid("email", "Please fill at least 1 of email, mobile, phone, twitter_id, unique_external_id "
                         "fields", "missing_field")
    with state(request).lock:
        email = data.get("email")
        same = next((c for c in acct["contacts"].values() if email and c["email"] == email), None)
        if same is not None:
            raise Reply(error(409, {"description": "Validation failed", "errors": [
                {"field": "email", "additional_info": {"user_id": same["id"]},
                 "message": "It should be a unique value", "code": "duplicate_value"}]}))
        c = new_contact(data)
        acct["contacts"][c["id"]] = c
        return ok(request, c, 201)


@router.get("/contacts/{contact_id}")
def get_contact(contact_id: str, request: Request) -> JSONResponse:
    """GET /contacts/{id}."""
    return _one(request, "contacts", contact_id)


@router.api_route("/{rest:path}", methods=["GET", "POST", "PUT", "DELETE"], include_in_schema=False)
def unknown(rest: str, request: Request) -> Response:
    """Any other path: 404 without a body."""
    account(request)
    return error(404, None)

