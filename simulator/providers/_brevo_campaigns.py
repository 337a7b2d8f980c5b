"""Simulated Brevo e-mail and SMS campaigns (routes under ``/brevo<base path>``)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request, Response

from simulator.control import state
from simulator.providers._brevo_common import SENDER_DOMAIN, account, body_of, check_lists, fail, now, page

router = APIRouter()
_SMS_SENDER = re.compile(r"^(?:[A-Za-z0-9 ]{1,11}|\d{1,15})$")
_STATS: dict[str, Any] = {"globalStats": {"uniqueClicks": 0, "clickers": 0, "complaints": 0, "delivered": 0, "sent": 0,
                          "softBounces": 0, "hardBounces": 0, "uniqueViews": 0, "unsubscriptions": 0,
                          "viewed": 0}, "campaignStats": []}


def _when(value: Any) -> str | None:
    if value is None:
        return None
    try:
        when = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        fail(400, "invalid_parameter", "scheduledAt should be a valid date-time (YYYY-MM-DDTHH:mm:ss.SSSZ)")
    if when.tzinfo is None or when <= datetime.now(UTC):
        fail(400, "invalid_parameter", "scheduledAt should be a future date-time with a time zone")
    return str(value)


def _require(data: dict[str, Any], *fields: str) -> None:
    for field in fields:
        if data.get(field) in (None, ""):
            fail(400, "missing_parameter", f"{field} is missing")


def _new(acct: dict[str, Any], kind: str, data: dict[str, Any], extra: dict[str, Any]) -> dict[str, int]:
    recipients = data.get("recipients") or {}
    lists = check_lists(recipients.get("listIds"), "recipients.listIds")
    if not lists:
        fail(400, "missing_parameter", "recipients.listIds is missing")
    scheduled = _when(data.get("scheduledAt"))
    cid = acct["next_campaign"]
    acct["next_campaign"] += 1
    acct[kind][cid] = {
        "id": cid, "name": data["name"], "status": "queued" if scheduled else "draft",
        "scheduledAt": scheduled, "createdAt": now(), "modifiedAt": now(), "sentDate": None,
        "recipients": {"lists": lists, "exclusionLists": []}, "statistics": dict(_STATS), **extra}
    return {"id": cid}


def _get(acct: dict[str, Any], kind: str, cid: int) -> dict[str, Any]:
    campaign = acct[kind].get(cid)
    if campaign is None:
        fail(404, "document_not_found", "Campaign ID does not exist")
    return campaign


def _listing(request: Request, kind: str, max_limit: int) -> dict[str, Any]:
    acct, status = account(request), request.query_params.get("status")
    with state(request).lock:
        items = [c for c in acct[kind].values() if status in (None, c["status"])]
        campaigns, count = page(request, items, max_limit=max_limit)
        return {"campaigns": campaigns, "count": count}


@router.post("/emailCampaigns", status_code=201)
async def create_email_campaign(request: Request) -> dict[str, int]:
    """POST /emailCampaigns: a draft, or queued when ``scheduledAt`` is given."""
    acct, data = account(request), await body_of(request)
    _require(data, "name", "sender")
    if data.get("htmlContent") is None and data.get("templateId") is None:
        fail(400, "missing_parameter", "htmlContent, htmlUrl or templateId is missing")
    if data.get("templateId") is None:
        _require(data, "subject")
    sender = data["sender"] if isinstance(data["sender"], dict) else {}
    if str(sender.get("email", "")).rpartition("@")[2].lower() != SENDER_DOMAIN:
        fail(400, "invalid_parameter", "Sender is invalid / inactive")
    extra = {"subject": data.get("subject"), "type": "classic", "sender": {**sender, "id": 1},
             "replyTo": data.get("replyTo") or sender.get("email"),
             "htmlContent": data.get("htmlContent", ""),
             "templateId": data.get("templateId"), "testSent": False, "tag": data.get("tag", "")}
    with state(request).lock:
        return _new(acct, "email_campaigns", data, extra)


@router.post("/emailCampaigns/{cid}/sendNow", status_code=204, response_class=Response)
def send_email_campaign(cid: int, request: Request) -> None:
    """POST /emailCampaigns/{id}/sendNow: 204; the campaign is sent to its lists."""
    acct = account(request)
    with state(request).lock:
        campaign = _get(acct, "email_campaigns", cid)
        if campaign["status"] not in ("draft", "queued", "suspended"):
            fail(400, "invalid_parameter", f"Campaign cannot be sent: its status is {campaign['status']}")
        members = sum(1 for c in acct["contacts"].values()
                      if set(c["listIds"]) & set(campaign["recipients"]["lists"]))
        campaign |= {"status": "sent", "sentDate": now(), "modifiedAt": now(), "scheduledAt": None}
        campaign["statistics"] = {**_STATS, "globalStats": {**_STATS["globalStats"], "sent": members,
                                                            "delivered": members}}


@router.post("/smsCampaigns", status_code=201)
async def create_sms_campaign(request: Request) -> dict[str, int]:
    """POST /smsCampaigns."""
    acct, data = account(request), await body_of(request)
    _require(data, "name", "sender", "content")
    if not _SMS_SENDER.match(str(data["sender"])):
        fail(400, "invalid_parameter", "sender should be up to 11 alphanumeric characters or 15 digits")
    extra = {"sender": data["sender"], "content": data["content"]}
    with state(request).lock:
        return _new(acct, "sms_campaigns", data, extra)


def _campaign_routes(kind: str, path: str, max_limit: int) -> None:
    """``GET <path>`` (limit <= ``max_limit``, offset, status, sort) and ``GET <path>/{id}`` of ``kind``."""
    def listing(request: Request) -> dict[str, Any]:
        return _listing(request, kind, max_limit)

    def one(cid: int, request: Request) -> dict[str, Any]:
        acct = account(request)
        with state(request).lock:
            return _get(acct, kind, cid)

    router.add_api_route(path, listing, methods=["GET"], summary=f"GET {path}")
    router.add_api_route(path + "/{cid}", one, methods=["GET"], summary=f"GET {path}/{{id}}")


_campaign_routes("email_campaigns", "/emailCampaigns", 100)
_campaign_routes("sms_campaigns", "/smsCampaigns", 1000)
