"""Simulated Mailchimp Marketing API v3 under ``/mailchimp<base path>``: real paths, bodies and problem+json errors.

State is kept per API key; each starts with the same sandbox (two automations and five campaigns, one per
status the examples need, with fixed ids). Every list id is an existing audience (1200 members plus the members upserted
into it) except ids starting with ``missing``. A key starting with ``bad`` is rejected as Mailchimp does.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any, NoReturn
from uuid import uuid4

from fastapi import Request, Response
from fastapi.responses import JSONResponse

from simulator.control import (
    Reply,
    hex_id,
    json_error,
    json_object,
    state,
)
from simulator.generic import Sim

PROVIDER = "mailchimp"
PROBLEM_TYPE = "https://mailchimp.com/developer/marketing/docs/errors/"
BASE_MEMBERS = 1200
DEFAULT_LIST = "a1b2c3d4e5"
TYPES = ("regular", "plaintext", "absplit", "rss", "variate")
_LIST = re.compile(r"^(?!missing)[A-Za-z0-9_-]{1,64}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$", re.I)
_INVALID = ("The resource submitted could not be validated. "
            "For field-specific details, see the 'errors' array.")


def problem_body(status: int, detail: str, title: Any, errors: list[dict[str, str]] | None = None
                 ) -> dict[str, Any]:
    """Mailchimp's ``application/problem+json`` body (``type`` and ``instance`` are beyond the paths)."""
    body: dict[str, Any] = {"type": PROBLEM_TYPE, "title": title or HTTPStatus(status).phrase, "status": status,
                            "detail": detail, "instance": str(uuid4())}
    return body | ({"errors": errors} if errors else {})


SIM = Sim(PROVIDER, body=problem_body, media_type="application/problem+json", faults={
    401: ("Your API key may be invalid, or you've attempted to access the wrong datacenter.", "API Key Invalid"),
    403: ("You don't have permission to access this resource.", "Forbidden"),
    404: ("The requested resource could not be found.", "Resource Not Found"),
    429: ("You have exceeded the limit of 10 simultaneous connections.", "Too Many Requests"),
    500: ("An unexpected internal error has occurred. Please contact Support for more information.",
          "Internal Server Error")})
router = SIM.router()
fault_response = SIM.fault_response


def fail(status: int, title: str, detail: str, errors: list[dict[str, str]] | None = None) -> NoReturn:
    """Answer the current request with a problem body."""
    raise Reply(json_error(status, problem_body(status, detail, title, errors), media_type=SIM.media_type))


def invalid(field: str, message: str) -> NoReturn:
    """Mailchimp's 400 "Invalid Resource" naming one field."""
    fail(400, "Invalid Resource", _INVALID, [{"field": field, "message": message}])


def not_found() -> NoReturn:
    """Mailchimp's 404."""
    fail(404, "Resource Not Found", "The requested resource could not be found.")


def _time_param(value: str | None) -> datetime | None:
    """An ISO 8601 query parameter (Mailchimp's ``since_create_time``); 400 when unreadable."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        fail(400, "Invalid Resource", f"invalid date-time {value!r}")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def now() -> str:
    """Current UTC time as Mailchimp writes it."""
    return datetime.now(UTC).isoformat(timespec="seconds")


#: The sandbox every account starts with; its ids are fixed because the catalog's examples name them.
SEEDED_AUTOMATIONS = (("1a2b3c4d5e", "Welcome series", "save", 0), ("2b3c4d5e6f", "Birthday greetings", "paused", 312))
SEEDED_CAMPAIGNS = (("42694e9e57", "save", "Spring sale: 20% off everything"), ("5d0c4e7a10", "save", "Summer preview"),
                    ("6b3f2a9c21", "schedule", "Autumn newsletter"), ("7e8d1c5b32", "save", "Product launch"),
                    ("8a9b0c1d43", "sent", "Welcome offer"))
SEEDED_AT = "2026-01-05T10:00:00+00:00"


def _seed_campaigns(acct: dict[str, Any]) -> None:
    """Ready-to-send campaigns in each status an example needs: one per example, so none waits on another."""
    for cid, status, subject in SEEDED_CAMPAIGNS:
        settings = {"subject_line": subject, "title": subject, "from_name": "Sim Co", "reply_to": "hello@example.com"}
        campaign = _new_campaign(acct, {"type": "regular", "recipients": {"list_id": DEFAULT_LIST},
                                        "settings": settings}, cid=cid)
        campaign |= {"create_time": SEEDED_AT, "status": status}
        if status == "schedule":
            campaign["send_time"] = "2031-03-03T09:00:00+00:00"
        if status == "sent":
            campaign |= {"send_time": SEEDED_AT, "emails_sent": campaign["recipients"]["recipient_count"]}
        acct["campaigns"][cid] = campaign
        acct["content"][cid] = {"plain_text": subject, "html": f"<h1>{subject}</h1>", "_links": []}


def _seed() -> dict[str, Any]:
    automations = {}
    for wid, title, status, sent in SEEDED_AUTOMATIONS:
        automations[wid] = {
            "id": wid, "create_time": now(), "start_time": now() if sent else "", "status": status,
            "emails_sent": sent, "recipients": {"list_id": DEFAULT_LIST, "list_is_active": True,
                                                "list_name": "Simulated audience"},
            "settings": {"title": title, "from_name": "Sim Co", "reply_to": "hello@example.com",
                         "use_conversation": False, "to_name": "", "authenticate": True,
                         "auto_footer": False, "inline_css": False},
            "tracking": {"opens": True, "html_clicks": True, "text_clicks": False},
            "trigger_settings": {"workflow_type": "emailSeries", "workflow_title": title,
                                 "workflow_emails_count": 3},
            "report_summary": {"opens": sent // 2, "unique_opens": sent // 3, "open_rate": 0.33,
                               "clicks": sent // 20, "subscriber_clicks": sent // 25, "click_rate": 0.04}}
    acct = {"campaigns": {}, "content": {}, "members": {}, "segments": {}, "automations": automations}
    _seed_campaigns(acct)
    return acct


def account(request: Request) -> dict[str, Any]:
    """The state of the API key (the Basic password); 401 as Mailchimp answers it."""
    return state(request).account(PROVIDER, SIM.credential(request).partition(":")[2], _seed)


def listing(request: Request, items: list[Any], key: str, **extra: Any) -> dict[str, Any]:
    """One ``count``/``offset`` page of ``items`` under ``key``, with ``total_items``."""
    page = SIM.page(request, items, default=10, maximum=1000)
    return {key: page.items, **extra, "total_items": page.total, "_links": []}


async def body_of(request: Request) -> dict[str, Any]:
    """The JSON object body, or Mailchimp's parse error."""
    if (data := await json_object(request)) is None:
        fail(400, "JSON Parse Exception", "We encountered an unspecified JSON parsing error.")
    return data


def _members(acct: dict[str, Any], list_id: str) -> int:
    return BASE_MEMBERS + sum(1 for (lid, _h) in acct["members"] if lid == list_id)


def _get(items: dict[Any, Any], key: Any) -> dict[str, Any]:
    item = items.get(key)
    if item is None:
        not_found()
    return item


@router.get("/ping")
def ping(request: Request) -> dict[str, str]:
    """GET /ping: the health check."""
    account(request)
    return {"health_status": "Everything's Chimpy!"}


@router.get("/")
def root(request: Request) -> dict[str, Any]:
    """GET /: account facts (honours ``fields``)."""
    account(request)
    info = {"account_id": "8d3a3db4d97663a9074efcc16", "login_id": "10011", "account_name": "Simulated Co",
            "email": "owner@example.com", "role": "owner", "account_timezone": "UTC",
            "pricing_plan_type": "monthly", "total_subscribers": BASE_MEMBERS}
    fields = [f for f in request.query_params.get("fields", "").split(",") if f]
    return {k: v for k, v in info.items() if not fields or k in fields}


def _new_campaign(acct: dict[str, Any], data: dict[str, Any], cid: str | None = None) -> dict[str, Any]:
    ctype, recipients, settings = data.get("type"), data.get("recipients") or {}, data.get("settings") or {}
    if ctype not in TYPES:
        invalid("type", f"Data presented is not one of the accepted values: {', '.join(TYPES)}.")
    list_id = recipients.get("list_id")
    if list_id is not None and not _LIST.match(str(list_id)):
        invalid("recipients.list_id", "The list_id does not match an existing audience.")
    if settings.get("reply_to") and not _EMAIL.match(settings["reply_to"]):
        invalid("settings.reply_to", "This value should be a valid email address.")
    variate = data.get("variate_settings") or {}
    if ctype == "variate" and not variate.get("winner_criteria"):
        invalid("variate_settings.winner_criteria", "This value should not be blank.")
    cid = cid or hex_id()
    campaign = {
        "id": cid, "web_id": 100000 + len(acct["campaigns"]), "type": ctype, "create_time": now(),
        "archive_url": f"https://mailchi.mp/sim/{cid}", "status": "save", "emails_sent": 0, "send_time": "",
        "content_type": "template", "needs_block_refresh": False, "resendable": False,
        "recipients": {"list_id": list_id, "list_is_active": True, "list_name": "Simulated audience",
                       "segment_text": "", "segment_opts": recipients.get("segment_opts") or {},
                       "recipient_count": _members(acct, list_id) if list_id else 0},
        "settings": {"subject_line": "", "preview_text": "", "title": "", "from_name": "", "reply_to": "",
                     "use_conversation": False, "to_name": "", "authenticate": True, **settings},
        "tracking": {"opens": True, "html_clicks": True, "text_clicks": False}}
    if ctype == "variate":
        combos = (max(1, len(variate.get("subject_lines") or []))
                  * max(1, len(variate.get("from_names") or [])))
        campaign["variate_settings"] = {"send_times": [], "contents": [], "combinations": [
            {"id": hex_id(), "recipients": 0} for _ in range(combos)], **variate}
    return campaign


@router.post("/campaigns")
async def create_campaign(request: Request) -> dict[str, Any]:
    """POST /campaigns."""
    acct, data = account(request), await body_of(request)
    with state(request).lock:
        campaign = _new_campaign(acct, data)
        acct["campaigns"][campaign["id"]] = campaign
        return campaign


@router.get("/campaigns")
def list_campaigns(request: Request) -> dict[str, Any]:
    """GET /campaigns (count/offset, status, type, since_create_time/before_create_time)."""
    acct, q = account(request), request.query_params
    since, before = (_time_param(q.get(k)) for k in ("since_create_time", "before_create_time"))
    with state(request).lock:
        items = [c for c in acct["campaigns"].values()
                 if q.get("status", c["status"]) == c["status"] and q.get("type", c["type"]) == c["type"]
                 and (since is None or datetime.fromisoformat(c["create_time"]) >= since)
                 and (before is None or datetime.fromisoformat(c["create_time"]) < before)]
        items = items[::-1] if q.get("sort_dir") == "DESC" else items
        return listing(request, items, "campaigns")


def _getter(kind: str) -> Callable[[str, Request], dict[str, Any]]:
    """GET /<kind>/{id}: one campaign or automation, or Mailchimp's 404."""
    def get(object_id: str, request: Request) -> dict[str, Any]:
        acct = account(request)
        with state(request).lock:
            return _get(acct[kind], object_id)
    return get


for _kind in ("campaigns", "automations"):  # before the catch-all route; no other GET has one segment after
    router.add_api_route(f"/{_kind}/{{object_id}}", _getter(_kind), methods=["GET"], summary=f"GET /{_kind}/{{id}}")


@router.get("/campaigns/{cid}/content")
def get_content(cid: str, request: Request) -> dict[str, Any]:
    """GET /campaigns/{id}/content."""
    acct = account(request)
    with state(request).lock:
        _get(acct["campaigns"], cid)
        return acct["content"].get(cid) or {"plain_text": "", "html": "", "_links": []}


@router.put("/campaigns/{cid}/content")
async def put_content(cid: str, request: Request) -> dict[str, Any]:
    """PUT /campaigns/{id}/content."""
    acct, data = account(request), await body_of(request)
    if not isinstance(data.get("html"), str) and "template" not in data:
        invalid("html", "Provide html, template or url content.")
    with state(request).lock:
        campaign = _get(acct["campaigns"], cid)
        if campaign["status"] not in ("save", "paused"):
            fail(400, "Bad Request", "Content can only be changed on a campaign that has not been sent.")
        html = data.get("html") or ""
        acct["content"][cid] = {"plain_text": re.sub(r"<[^>]+>", "", html), "html": html, "_links": []}
        campaign["content_type"] = "html"
        return acct["content"][cid]


def _check_ready(acct: dict[str, Any], campaign: dict[str, Any]) -> None:
    s, missing = campaign["settings"], []
    subject_ok = s.get("subject_line") or (campaign.get("variate_settings") or {}).get("subject_lines")
    html = (acct["content"].get(campaign["id"]) or {}).get("html")
    for ok, what in ((subject_ok, "settings.subject_line"), (s.get("from_name"), "settings.from_name"),
                     (s.get("reply_to"), "settings.reply_to"),
                     (campaign["recipients"]["list_id"], "recipients.list_id"), (html, "content")):
        if not ok:
            missing.append({"field": what, "message": "This value should not be blank."})
    if missing:
        fail(400, "Bad Request", "Your Campaign is not ready to send.", missing)


def _schedule(acct: dict[str, Any], campaign: dict[str, Any], data: dict[str, Any]) -> None:
    raw = data.get("schedule_time")
    if not raw:
        invalid("schedule_time", "This value should not be blank.")
    try:
        when = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
        when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    except ValueError:
        invalid("schedule_time", "This value is not a valid datetime.")
    if when.minute % 15 or when.second:
        invalid("schedule_time", "Schedule time must be on the quarter-hour (:00, :15, :30, :45).")
    if when <= datetime.now(UTC):
        invalid("schedule_time", "Schedule time must be in the future.")
    if campaign["status"] not in ("save", "paused"):
        fail(400, "Bad Request", f"Cannot schedule a campaign with status '{campaign['status']}'.")
    _check_ready(acct, campaign)
    campaign |= {"status": "schedule", "send_time": when.isoformat(timespec="seconds")}


def _send(acct: dict[str, Any], campaign: dict[str, Any]) -> None:
    if campaign["status"] not in ("save", "paused"):
        fail(400, "Bad Request", f"Cannot send a campaign with status '{campaign['status']}'.")
    _check_ready(acct, campaign)
    campaign |= {"status": "sent", "send_time": now(),
                 "emails_sent": campaign["recipients"]["recipient_count"]}


@router.post("/campaigns/{cid}/actions/{verb}", status_code=204)
async def campaign_action(cid: str, verb: str, request: Request) -> Response:
    """POST /campaigns/{id}/actions/{schedule|unschedule|send}."""
    acct = account(request)
    data = await body_of(request) if verb == "schedule" else {}
    with state(request).lock:
        campaign = _get(acct["campaigns"], cid)
        if verb == "schedule":
            _schedule(acct, campaign, data)
        elif verb == "unschedule":
            if campaign["status"] != "schedule":
                fail(400, "Bad Request", "This campaign is not scheduled.")
            campaign |= {"status": "save", "send_time": ""}
        elif verb == "send":
            _send(acct, campaign)
        else:
            not_found()
    return Response(status_code=204)


@router.get("/automations")
def list_automations(request: Request) -> dict[str, Any]:
    """GET /automations (classic automations)."""
    acct, q = account(request), request.query_params
    with state(request).lock:
        items = [a for a in acct["automations"].values() if q.get("status", a["status"]) == a["status"]]
        return listing(request, items, "automations")


@router.post("/automations/{wid}/actions/{verb}", status_code=204)
def automation_action(wid: str, verb: str, request: Request) -> Response:
    """POST /automations/{id}/actions/{start-all-emails|pause-all-emails}."""
    acct = account(request)
    with state(request).lock:
        automation = _get(acct["automations"], wid)
        if verb not in ("start-all-emails", "pause-all-emails"):
            not_found()
        automation["status"] = "sending" if verb == "start-all-emails" else "paused"
        automation["start_time"] = automation["start_time"] or now()
    return Response(status_code=204)


def _list(acct: dict[str, Any], list_id: str) -> None:
    if not _LIST.match(list_id):
        not_found()
    acct["segments"].setdefault(list_id, {})


@router.get("/lists/{list_id}/segments")
def list_segments(list_id: str, request: Request) -> dict[str, Any]:
    """GET /lists/{id}/segments."""
    acct, q = account(request), request.query_params
    with state(request).lock:
        _list(acct, list_id)
        items = [s for s in acct["segments"][list_id].values() if q.get("type", s["type"]) == s["type"]]
        return listing(request, items, "segments", list_id=list_id)


@router.get("/lists/{list_id}/segments/{sid}")
def get_segment(list_id: str, sid: int, request: Request) -> dict[str, Any]:
    """GET /lists/{id}/segments/{id}."""
    acct = account(request)
    with state(request).lock:
        _list(acct, list_id)
        return _get(acct["segments"][list_id], sid)


@router.post("/lists/{list_id}/segments")
async def create_segment(list_id: str, request: Request) -> dict[str, Any]:
    """POST /lists/{id}/segments (static or saved)."""
    acct, data = account(request), await body_of(request)
    if not data.get("name"):
        invalid("name", "This value should not be blank.")
    static, options = data.get("static_segment"), data.get("options")
    if static is not None and (not isinstance(static, list) or not all(_EMAIL.match(str(e)) for e in static)):
        invalid("static_segment", "Provide a list of valid email addresses.")
    if static is None and not (options or {}).get("conditions"):
        invalid("options.conditions", "This value should not be blank.")
    with state(request).lock:
        _list(acct, list_id)
        sid = state(request).next_id()
        members = len(static) if static is not None else _members(acct, list_id) // 4
        segment = {"id": sid, "name": data["name"], "member_count": members,
                   "type": "static" if static is not None else "saved", "created_at": now(),
                   "updated_at": now(), "options": options or {}, "list_id": list_id}
        acct["segments"][list_id][sid] = segment
        return segment


@router.put("/lists/{list_id}/members/{member_hash}")
async def upsert_member(list_id: str, member_hash: str, request: Request) -> dict[str, Any]:
    """PUT /lists/{id}/members/{md5 of the lower-case email}."""
    acct, data = account(request), await body_of(request)
    email = str(data.get("email_address") or "")
    if not email:
        invalid("email_address", "This value should not be blank.")
    if not _EMAIL.match(email):
        fail(400, "Invalid Resource", f"{email} looks fake or invalid, please enter a real email address.")
    if hashlib.md5(email.lower().encode()).hexdigest() != member_hash:
        fail(400, "Invalid Resource", "The subscriber hash does not match the email address.")
    with state(request).lock:
        _list(acct, list_id)
        member = acct["members"].get((list_id, member_hash))
        if member is None:
            if not (data.get("status_if_new") or data.get("status")):
                invalid("status_if_new", "This value should not be blank.")
            member = {"id": member_hash, "email_address": email, "unique_email_id": hex_id(),
                      "web_id": 500000 + len(acct["members"]), "email_type": "html",
                      "status": data.get("status_if_new"), "merge_fields": {"FNAME": "", "LNAME": ""},
                      "stats": {"avg_open_rate": 0, "avg_click_rate": 0}, "timestamp_signup": now(),
                      "list_id": list_id, "tags_count": 0, "tags": []}
            acct["members"][(list_id, member_hash)] = member
        member["merge_fields"] |= data.get("merge_fields") or {}
        member |= {"email_address": email, "status": data.get("status") or member["status"],
                   "last_changed": now()}
        return member


@router.get("/lists/{list_id}/members/{member_hash}")
def get_member(list_id: str, member_hash: str, request: Request) -> dict[str, Any]:
    """GET /lists/{id}/members/{hash}."""
    acct = account(request)
    with state(request).lock:
        return _get(acct["members"], (list_id, member_hash))


def _report(campaign: dict[str, Any]) -> dict[str, Any]:
    sent, seed = campaign["emails_sent"], int(hashlib.sha256(campaign["id"].encode()).hexdigest()[:6], 16)
    unique_opens, unique_clicks = sent * (22 + seed % 15) // 100, sent * (2 + seed % 4) // 100
    open_rate = round(unique_opens / sent, 4) if sent else 0
    click_rate = round(unique_clicks / sent, 4) if sent else 0
    return {
        "id": campaign["id"], "campaign_title": campaign["settings"].get("title"), "type": campaign["type"],
        "list_id": campaign["recipients"]["list_id"], "list_name": "Simulated audience",
        "subject_line": campaign["settings"].get("subject_line"), "emails_sent": sent,
        "abuse_reports": sent // 5000, "unsubscribed": sent // 400, "send_time": campaign["send_time"],
        "bounces": {"hard_bounces": sent // 250, "soft_bounces": sent // 120, "syntax_errors": 0},
        "forwards": {"forwards_count": 0, "forwards_opens": 0},
        "opens": {"opens_total": unique_opens * 3 // 2, "unique_opens": unique_opens, "open_rate": open_rate,
                  "last_open": campaign["send_time"] if sent else ""},
        "clicks": {"clicks_total": unique_clicks * 2, "unique_clicks": unique_clicks,
                   "unique_subscriber_clicks": unique_clicks, "click_rate": click_rate,
                   "last_click": campaign["send_time"] if sent else ""},
        "list_stats": {"sub_rate": 1.2, "unsub_rate": 0.3, "open_rate": 24.5, "click_rate": 3.1}}


def _reportable(acct: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in acct["campaigns"].values() if c["status"] in ("sent", "sending", "schedule")]


@router.get("/reports")
def list_reports(request: Request) -> dict[str, Any]:
    """GET /reports."""
    acct, q = account(request), request.query_params
    with state(request).lock:
        items = [_report(c) for c in _reportable(acct) if q.get("type", c["type"]) == c["type"]]
        return listing(request, items, "reports")


@router.get("/reports/{cid}")
def get_report(cid: str, request: Request) -> dict[str, Any]:
    """GET /reports/{id}."""
    acct = account(request)
    with state(request).lock:
        campaign = next((c for c in _reportable(acct) if c["id"] == cid), None)
        return _report(campaign) if campaign else not_found()


@router.api_route("/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
def unknown(rest: str, request: Request) -> JSONResponse:
    """Any other path: 404 Resource Not Found."""
    account(request)
    not_found()
