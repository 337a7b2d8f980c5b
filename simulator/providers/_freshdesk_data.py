"""State, error bodies and the ticket-search query language of the simulated Freshdesk (helper module)."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any, NoReturn

from fastapi import Request, Response
from fastapi.responses import JSONResponse

from simulator.control import Reply, json_object

JSON = "application/json; charset=utf-8"
#: Per-minute limit the simulated account has (a Pro plan).
RATE_TOTAL = 400
BAD_LOGIN = {"code": "invalid_credentials", "message": "You have to be logged in to perform this action."}
TICKET_TYPES = ("Question", "Incident", "Problem", "Feature Request", "Refund")
SOURCES = (1, 2, 3, 7, 9, 10)
FOLDER_ID = 43000010001
#: Seconds to respond and to resolve per priority, in the default SLA policy.
DEFAULT_TARGETS = {4: (3600, 14400), 3: (14400, 86400), 2: (28800, 172800), 1: (86400, 259200)}
_ids = itertools.count(43000500001)


def now() -> datetime:
    """The current UTC time, to the second."""
    return datetime.now(UTC).replace(microsecond=0)


def stamp(value: datetime) -> str:
    """A time as Freshdesk writes it."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def big_id() -> int:
    """An id shaped like Freshdesk's (contacts, articles, conversations)."""
    return next(_ids)


def error(status: int, body: dict[str, Any] | None, headers: dict[str, str] | None = None) -> Response:
    """A Freshdesk error answer (404 has no body)."""
    if body is None:
        return Response(status_code=status, headers=headers)
    return JSONResponse(body, status_code=status, media_type=JSON, headers=headers)


def fail(status: int, body: dict[str, Any] | None) -> NoReturn:
    """Answer the current request with an error."""
    raise Reply(error(status, body))


def invalid(field: str, message: str, code: str = "invalid_value", status: int = 400) -> NoReturn:
    """Freshdesk's ``Validation failed`` body naming one field."""
    fail(status, {"description": "Validation failed",
                  "errors": [{"field": field, "message": message, "code": code}]})


def not_found() -> NoReturn:
    """Freshdesk's 404 (no body)."""
    fail(404, None)


def due(created: datetime, priority: int, which: int) -> str:
    """``fr_due_by`` (which=0) or ``due_by`` (which=1) under the default policy."""
    return stamp(created + timedelta(seconds=DEFAULT_TARGETS[priority][which]))


def parse_time(value: str) -> datetime:
    """A Freshdesk timestamp as an aware datetime."""
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def new_ticket(acct: dict[str, Any], data: dict[str, Any], requester_id: int, created: datetime
               ) -> dict[str, Any]:
    """A ticket as Freshdesk stores it, numbered per helpdesk."""
    acct["ticket_seq"] += 1
    priority = int(data.get("priority") or 1)
    return {"id": acct["ticket_seq"], "subject": data["subject"], "description": data.get("description", ""),
            "description_text": re.sub(r"<[^>]+>", "", data.get("description", "")),
            "status": int(data.get("status") or 2), "priority": priority,
            "source": int(data.get("source") or 2),
            "type": data.get("type"), "requester_id": requester_id, "responder_id": data.get("responder_id"),
            "group_id": data.get("group_id"), "company_id": None, "product_id": None, "email_config_id": None,
            "tags": list(data.get("tags") or []), "custom_fields": dict(data.get("custom_fields") or {}),
            "cc_emails": [], "fwd_emails": [], "reply_cc_emails": [], "to_emails": None, "spam": False,
            "is_escalated": False, "fr_escalated": False, "fr_due_by": due(created, priority, 0),
            "due_by": due(created, priority, 1), "created_at": stamp(created), "updated_at": stamp(created),
            "attachments": []}


def new_contact(data: dict[str, Any]) -> dict[str, Any]:
    """A contact as Freshdesk stores it."""
    at = stamp(now())
    return {"id": big_id(), "name": data["name"], "email": data.get("email"), "phone": data.get("phone"),
            "mobile": data.get("mobile"), "company_id": data.get("company_id"), "active": False,
            "address": None, "description": None, "job_title": None, "language": "en",
            "time_zone": "Eastern Time (US & Canada)", "tags": list(data.get("tags") or []),
            "custom_fields": dict(data.get("custom_fields") or {}), "other_emails": [], "created_at": at,
            "updated_at": at}


def new_article(folder_id: int, data: dict[str, Any]) -> dict[str, Any]:
    """A solution article as Freshdesk stores it."""
    at = stamp(now())
    body = data.get("description", "")
    return {"id": big_id(), "type": 1, "category_id": 43000001001, "folder_id": folder_id,
            "hierarchy": [], "thumbs_up": 0, "thumbs_down": 0, "hits": 0,
            "tags": list(data.get("tags") or []),
            "seo_data": {}, "agent_id": 43000000001, "title": data["title"], "description": body,
            "description_text": re.sub(r"<[^>]+>", "", body), "status": int(data.get("status") or 1),
            "created_at": at, "updated_at": at}


def _policy(pid: int, name: str, default: bool, targets: dict[int, tuple[int, int]]) -> dict[str, Any]:
    at = stamp(now() - timedelta(days=90))
    return {"id": pid, "name": name, "description": f"{name} policy", "active": True, "is_default": default,
            "position": 1 if default else 2,
            "applicable_to": {} if default else {"company_ids": [43000700001]},
            "sla_target": {f"priority_{p}": {"respond_within": r, "resolve_within": s,
                                             "business_hours": False, "escalation_enabled": True}
                           for p, (r, s) in targets.items()},
            "escalation": {}, "created_at": at, "updated_at": at}


def seed() -> dict[str, Any]:
    """A helpdesk with one customer, four tickets (two past their SLA), two policies and a FAQ folder."""
    acct: dict[str, Any] = {"ticket_seq": 0, "tickets": {}, "contacts": {}, "conversations": {},
                            "articles": {}, "folders": {FOLDER_ID: "FAQ"}, "rate": [0, 0]}
    ada = new_contact({"name": "Ada Customer", "email": "ada@example.com", "phone": "+15550100"})
    acct["contacts"][ada["id"]] = ada
    for hours_ago, subject, status, priority, source in (
            (80, "Cannot log in", 2, 3, 1), (30, "Billing question", 3, 3, 7),
            (1, "Feature request: dark mode", 2, 1, 2), (100, "Old resolved issue", 4, 4, 3)):
        created = now() - timedelta(hours=hours_ago)
        t = new_ticket(acct, {"subject": subject, "description": f"<div>{subject}</div>", "status": status,
                              "priority": priority, "source": source}, ada["id"], created)
        acct["tickets"][t["id"]] = t
    acct["sla_policies"] = [_policy(43000088001, "Default", True, DEFAULT_TARGETS),
                            _policy(43000088002, "Enterprise", False, {4: (900, 3600), 3: (3600, 14400),
                                                                       2: (7200, 28800), 1: (14400, 86400)})]
    for title in ("How to reset your password", "Billing FAQ"):
        a = new_article(FOLDER_ID, {"title": title, "description": f"<p>{title}.</p>", "status": 2})
        acct["articles"][a["id"]] = a
    return acct


def agent(key: str) -> dict[str, Any]:
    """``GET /agents/me`` for the key's owner."""
    at = stamp(now() - timedelta(days=400))
    return {"available": True, "occasional": False, "id": 43000000001, "ticket_scope": 1, "signature": None,
            "group_ids": [], "role_ids": [43000000101], "skill_ids": [], "available_since": None,
            "type": "support_agent", "created_at": at, "updated_at": at, "last_active_at": stamp(now()),
            "contact": {"active": True, "email": "agent@example.com", "job_title": "Support",
                        "language": "en", "last_login_at": at, "mobile": None, "name": "Sim Agent",
                        "phone": None, "time_zone": "UTC", "created_at": at, "updated_at": at}}


# -- answers --------------------------------------------------------------------------------------------
def ok(request: Request, body: Any, status: int = 200, link: str | None = None) -> JSONResponse:
    """A JSON answer with the rate-limit headers (and a ``Link`` to the next page)."""
    headers = dict(getattr(request.state, "rate", {}))
    if link:
        headers["Link"] = link
    return JSONResponse(body, status_code=status, media_type=JSON, headers=headers)


def page(request: Request, items: list[Any]) -> JSONResponse:
    """One page of ``items`` (``page``/``per_page`` ≤ 100) with ``Link: <next>; rel="next"``."""
    q = request.query_params
    try:
        number, size = int(q.get("page") or 1), int(q.get("per_page") or 30)
    except ValueError:
        invalid("page", "It should be a/an Positive Integer")
    if size > 100 or size < 1:
        invalid("per_page", "Has to be a positive number less than or equal to 100")
    start = (number - 1) * size
    link = None
    if start + size < len(items):
        link = f'<{request.url.include_query_params(page=number + 1)}>; rel="next"'
    return ok(request, items[start:start + size], link=link)


async def body_of(request: Request) -> dict[str, Any]:
    """The JSON body, or Freshdesk's 400 for one that does not parse."""
    if (data := await json_object(request)) is None:
        fail(400, {"code": "invalid_json", "message": "Request body has invalid json format"})
    return data


def since(value: str | None, field: str) -> datetime | None:
    """A ``*_since`` query parameter, or Freshdesk's 400 for one that is not a date."""
    if not value:
        return None
    try:
        return parse_time(value)
    except ValueError:
        invalid(field, "It should be in the 'valid date' format")


def get_or_404(items: dict[int, Any], raw: Any) -> dict[str, Any]:
    """The item with the numeric id ``raw``, or a 404."""
    try:
        found = items.get(int(raw))
    except (TypeError, ValueError):
        found = None
    return found if found is not None else not_found()



# -- the filter-tickets query language -------------------------------------------------------------------
_TOKEN = re.compile(r"\s*(?:(\()|(\))|(AND|OR)\b|(\w+):([<>]?)('[^']*'|[^\s()]+))")
_INT_FIELDS = {"status": "status", "priority": "priority", "group_id": "group_id", "agent_id": "responder_id"}
_DATE_FIELDS = ("created_at", "updated_at", "due_by", "fr_due_by")
Check = Callable[[dict[str, Any]], bool]


def _condition(field: str, op: str, raw: str) -> Check:
    value = raw.strip("'")
    if field in _DATE_FIELDS:
        day = date.fromisoformat(value[:10])
        compare = {"<": lambda d: d <= day, ">": lambda d: d >= day, "": lambda d: d == day}[op]
        return lambda t: bool(t.get(field)) and compare(date.fromisoformat(t[field][:10]))
    if field == "tag":
        return lambda t: (not t["tags"]) if value == "null" else value in t["tags"]
    if field == "type":
        return lambda t: t.get("type") == (None if value == "null" else value)
    if field in _INT_FIELDS:
        key, number = _INT_FIELDS[field], None if value == "null" else int(value)
        if op and number is not None:
            return lambda t: t.get(key) is not None and (t[key] <= number if op == "<" else t[key] >= number)
        return lambda t: t.get(key) == number
    if field.startswith("cf_"):
        return lambda t: str(t["custom_fields"].get(field)) == value
    raise ValueError(f"{field} is not a supported query field")


def parse_query(text: str) -> Check:
    """A predicate for ``(status:2 OR status:3) AND due_by:<'2026-01-01'`` and the like."""
    tokens: list[tuple[str, ...]] = []
    pos = 0
    while pos < len(text.rstrip()):
        m = _TOKEN.match(text, pos)
        if not m:
            raise ValueError("the query could not be parsed")
        tokens.append(m.groups())
        pos = m.end()

    def expr(i: int, word: str) -> tuple[Check, int]:
        left, i = (expr(i, "AND") if word == "OR" else factor(i))
        while i < len(tokens) and tokens[i][2] == word:
            right, i = expr(i + 1, "AND") if word == "OR" else factor(i + 1)
            left = (lambda a, b: (lambda t: a(t) or b(t)))(left, right) if word == "OR" else \
                (lambda a, b: (lambda t: a(t) and b(t)))(left, right)
        return left, i

    def factor(i: int) -> tuple[Check, int]:
        if i >= len(tokens):
            raise ValueError("the query ends too early")
        if tokens[i][0]:
            inner, i = expr(i + 1, "OR")
            if i >= len(tokens) or not tokens[i][1]:
                raise ValueError("unbalanced parentheses")
            return inner, i + 1
        if not tokens[i][3]:
            raise ValueError("expected field:value")
        return _condition(tokens[i][3], tokens[i][4], tokens[i][5]), i + 1

    check, end = expr(0, "OR")
    if end != len(tokens):
        raise ValueError("unexpected text after the query")
    return check
