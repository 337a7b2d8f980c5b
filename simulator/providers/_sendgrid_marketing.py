"""Simulated SendGrid Single Sends, transactional templates and statistics (routes under ``/sendgrid``)."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request

from simulator.control import state
from simulator.providers._sendgrid_common import (
    SENDERS,
    account,
    body_of,
    fail,
    new_id,
    not_found,
    now_iso,
    token_page,
)

router = APIRouter()
MAX_TEMPLATES = 300
METRICS = ("blocks", "bounce_drops", "bounces", "clicks", "deferred", "delivered", "invalid_emails", "opens",
           "processed", "requests", "spam_report_drops", "spam_reports", "unique_clicks", "unique_opens",
           "unsubscribe_drops", "unsubscribes")


def _single_send(acct: dict[str, Any], sid: str) -> dict[str, Any]:
    found = acct["single_sends"].get(sid)
    return found if found is not None else not_found()


@router.post("/v3/marketing/singlesends", status_code=201)
async def create_single_send(request: Request) -> dict[str, Any]:
    """POST /v3/marketing/singlesends: a draft."""
    acct, data = account(request), await body_of(request)
    name = data.get("name")
    if not isinstance(name, str) or not 1 <= len(name) <= 100:
        fail(400, "name is required and must be at most 100 characters", "name")
    send_to, config = data.get("send_to") or {}, data.get("email_config") or {}
    if any(str(i).startswith("missing") for i in send_to.get("list_ids") or []):
        fail(400, "list_ids contains an id that does not exist", "send_to.list_ids")
    if config.get("sender_id") is not None and config["sender_id"] not in SENDERS:
        fail(400, "sender_id does not exist", "email_config.sender_id")
    stamp = now_iso()
    single = {"id": new_id(), "name": name, "status": "draft", "categories": data.get("categories") or [],
              "send_at": None, "created_at": stamp, "updated_at": stamp, "is_abtest": False,
              "send_to": {"list_ids": [], "segment_ids": [], "all": False, **send_to},
              "email_config": {"subject": "", "html_content": "", "plain_content": "",
                               "generate_plain_content": True, "editor": "code", "suppression_group_id": None,
                               "sender_id": None, "design_id": None, **config}}
    with state(request).lock:
        acct["single_sends"][single["id"]] = single
    return single


@router.get("/v3/marketing/singlesends")
def list_single_sends(request: Request) -> dict[str, Any]:
    """GET /v3/marketing/singlesends (page_size <= 100, page_token), condensed, newest first."""
    acct = account(request)
    keys = ("id", "name", "status", "categories", "send_at", "is_abtest", "created_at", "updated_at")
    with state(request).lock:
        items = [{k: s[k] for k in keys} for s in reversed(acct["single_sends"].values())]
    return token_page(request, items, max_size=100)


@router.get("/v3/marketing/singlesends/{sid}")
def get_single_send(sid: str, request: Request) -> dict[str, Any]:
    """GET /v3/marketing/singlesends/{id}."""
    acct = account(request)
    with state(request).lock:
        return _single_send(acct, sid)


def _check_ready(single: dict[str, Any]) -> None:
    config, send_to = single["email_config"], single["send_to"]
    sender = SENDERS.get(config.get("sender_id"))
    for ok, field, message in (
            (sender and sender["verified"], "email_config.sender_id", "a verified sender is required"),
            (config.get("subject"), "email_config.subject", "subject is required"),
            (config.get("html_content") or config.get("design_id"), "email_config.html_content",
             "html_content or design_id is required"),
            (send_to.get("all") or send_to.get("list_ids") or send_to.get("segment_ids"), "send_to",
             "a list, a segment or all contacts is required")):
        if not ok:
            fail(400, message, field)


@router.put("/v3/marketing/singlesends/{sid}/schedule", status_code=201)
async def schedule_single_send(sid: str, request: Request) -> dict[str, Any]:
    """PUT /v3/marketing/singlesends/{id}/schedule: ``send_at`` is ``now`` or a future ISO time."""
    acct, data = account(request), await body_of(request)
    raw = data.get("send_at")
    with state(request).lock:
        single = _single_send(acct, sid)
        if single["status"] != "draft":
            fail(400, f"cannot schedule a Single Send with status {single['status']}", "status")
        _check_ready(single)
        if raw == "now":
            single |= {"status": "triggered", "send_at": now_iso()}
        else:
            try:
                when = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
            except ValueError:
                fail(400, "send_at must be 'now' or an ISO 8601 date-time", "send_at")
            if when.tzinfo is None or when <= datetime.now(UTC):
                fail(400, "send_at must be in the future and include a time zone", "send_at")
            single |= {"status": "scheduled", "send_at": when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
        single["updated_at"] = now_iso()
        return {"send_at": single["send_at"], "status": single["status"]}


@router.delete("/v3/marketing/singlesends/{sid}/schedule")
def unschedule_single_send(sid: str, request: Request) -> dict[str, Any]:
    """DELETE /v3/marketing/singlesends/{id}/schedule: back to draft."""
    acct = account(request)
    with state(request).lock:
        single = _single_send(acct, sid)
        if single["status"] == "triggered":
            fail(400, "cannot cancel a Single Send that has been triggered", "status")
        single |= {"status": "draft", "send_at": None, "updated_at": now_iso()}
        return single


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")


@router.post("/v3/templates", status_code=201)
async def create_template(request: Request) -> dict[str, Any]:
    """POST /v3/templates."""
    acct, data = account(request), await body_of(request)
    name, generation = data.get("name"), data.get("generation", "legacy")
    if not isinstance(name, str) or not 1 <= len(name) <= 100:
        fail(400, "name is required and must be at most 100 characters", "name")
    if generation not in ("legacy", "dynamic"):
        fail(400, "generation must be legacy or dynamic", "generation")
    with state(request).lock:
        if len(acct["templates"]) >= MAX_TEMPLATES:
            fail(400, "You have reached the maximum number of templates", "name")
        template = {"id": new_id(), "name": name, "generation": generation, "updated_at": _stamp(),
                    "versions": []}
        acct["templates"][template["id"]] = template
        return template


@router.get("/v3/templates")
def list_templates(request: Request) -> dict[str, Any]:
    """GET /v3/templates?generations=...&page_size=... (required, <= 200)."""
    acct = account(request)
    wanted = set(request.query_params.get("generations", "legacy").split(","))
    if not wanted <= {"legacy", "dynamic"}:
        fail(400, "generations must be legacy, dynamic or legacy,dynamic", "generations")
    with state(request).lock:
        items = [t for t in acct["templates"].values() if t["generation"] in wanted]
    return token_page(request, items, max_size=200, required=True)


@router.get("/v3/templates/{tid}")
def get_template(tid: str, request: Request) -> dict[str, Any]:
    """GET /v3/templates/{id}."""
    acct = account(request)
    with state(request).lock:
        return acct["templates"].get(tid) or not_found()


@router.post("/v3/templates/{tid}/versions", status_code=201)
async def create_version(tid: str, request: Request) -> dict[str, Any]:
    """POST /v3/templates/{id}/versions: the first version is active."""
    acct, data = account(request), await body_of(request)
    for field in ("name", "subject"):
        if not isinstance(data.get(field), str) or not data[field]:
            fail(400, f"{field} is required", field)
    with state(request).lock:
        template = acct["templates"].get(tid) or not_found()
        active = 1 if not template["versions"] or data.get("active") == 1 else 0
        if active:
            for other in template["versions"]:
                other["active"] = 0
        version = {"id": new_id(), "template_id": tid, "active": active, "name": data["name"],
                   "subject": data["subject"], "html_content": data.get("html_content", ""),
                   "plain_content": data.get("plain_content", ""), "updated_at": _stamp(),
                   "generate_plain_content": data.get("generate_plain_content", True), "editor": "code"}
        template["versions"].append(version)
        template["updated_at"] = version["updated_at"]
        return version


def _baseline(day: date, salt: str) -> dict[str, int]:
    seed = int(hashlib.sha256(f"{day}:{salt}".encode()).hexdigest()[:8], 16)
    requests = 150 + seed % 120
    delivered = requests * 96 // 100
    unique_opens, unique_clicks = delivered * (25 + seed % 10) // 100, delivered * (3 + seed % 3) // 100
    bounces = requests * 2 // 100
    out = dict.fromkeys(METRICS, 0)
    out |= {"requests": requests, "processed": requests, "delivered": delivered, "bounces": bounces,
            "blocks": requests - delivered - bounces, "deferred": seed % 7, "unique_opens": unique_opens,
            "opens": unique_opens * 3 // 2, "unique_clicks": unique_clicks, "clicks": unique_clicks * 2,
            "spam_reports": seed % 2, "unsubscribes": seed % 4}
    return out


def _range(request: Request) -> tuple[date, date, str]:
    q = request.query_params
    try:
        start = date.fromisoformat(q["start_date"])
        end = date.fromisoformat(q["end_date"]) if q.get("end_date") else datetime.now(UTC).date()
    except KeyError:
        fail(400, "missing required argument", "start_date")
    except ValueError:
        fail(400, "dates must be YYYY-MM-DD", "start_date")
    aggregated_by = q.get("aggregated_by", "day")
    if aggregated_by not in ("day", "week", "month") or end < start:
        fail(400, "aggregated_by must be day, week or month and end_date not before start_date",
             "aggregated_by")
    return start, end, aggregated_by


def _stats(request: Request, names: list[str | None]) -> list[dict[str, Any]]:
    acct = account(request)
    start, end, aggregated_by = _range(request)
    buckets: dict[date, dict[str | None, dict[str, int]]] = {}
    with state(request).lock:
        sent = list(acct["messages"])
    day = start
    while day <= end:
        key = day if aggregated_by == "day" else max(start, day - timedelta(days=day.weekday())) \
            if aggregated_by == "week" else max(start, day.replace(day=1))
        for name in names:
            metrics = buckets.setdefault(key, {}).setdefault(name, dict.fromkeys(METRICS, 0))
            mine = sum(1 for m in sent
                       if m["date"] == day.isoformat() and (name is None or name in m["categories"]))
            for metric, value in _baseline(day, name or "").items():
                metrics[metric] += value + (mine if metric in ("requests", "processed", "delivered") else 0)
        day += timedelta(days=1)
    return [{"date": key.isoformat(), "stats": [
        {"metrics": m} if name is None else {"type": "category", "name": name, "metrics": m}
        for name, m in per.items()]} for key, per in buckets.items()]


@router.get("/v3/stats")
def global_stats(request: Request) -> list[dict[str, Any]]:
    """GET /v3/stats: global e-mail statistics per day, week or month."""
    return _stats(request, [None])


@router.get("/v3/categories/stats")
def category_stats(request: Request) -> list[dict[str, Any]]:
    """GET /v3/categories/stats?categories=...: statistics per category (at most 10)."""
    names = request.query_params.getlist("categories")
    if not 1 <= len(names) <= 10:
        fail(400, "between 1 and 10 categories are required", "categories")
    return _stats(request, list(names))
