"""Simulated Pipedrive under ``/pipedrive``: API v2 (``/api/v2/...``: pipelines, stages, deals, activities,
cursor paging, strict validation) and the v1 endpoints that have no v2 replacement (``/v1/users/me``,
``/v1/deals/{id}/changelog``, ``/v1/deals/summary``, ``/v1/deals/timeline``). The v1 endpoints that v2
replaced answer 410, as they are out of support since 1 Aug 2026.

State is kept per API token (``x-api-token`` header, or the legacy ``api_token`` query parameter); a token
starting with ``bad`` is rejected with Pipedrive's 401. Every answer carries the burst-window headers
``x-ratelimit-limit/-remaining/-reset``. The company starts with two pipelines, seven stages and six deals.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from fastapi import Request, Response
from fastapi.responses import JSONResponse

from simulator.control import json_object, state
from simulator.generic import Sim
from simulator.providers._pipedrive_data import (
    ACTIVITY_TYPES,
    BURST,
    USER_ID,
    cursor_page,
    fail,
    failure_body,
    invalid,
    new_activity,
    new_deal,
    not_found,
    now,
    periods,
    seed,
    stamp,
    summary,
    timeline_period,
)

PROVIDER = "pipedrive"
SIM = Sim(PROVIDER, body=failure_body, rate_limit=BURST, delay=2, query_alias="api_token",
          faults={429: ("Request over limit", None)})
router = SIM.router()
fault_response = SIM.fault_response
_DEAL_KEYS = {"title": str, "value": (int, float), "currency": str, "owner_id": int, "person_id": int,
              "org_id": int, "pipeline_id": int, "stage_id": int, "status": str, "probability": (int, float),
              "lost_reason": str, "expected_close_date": str, "custom_fields": dict, "visible_to": int}
_ACTIVITY_KEYS = {"subject": str, "type": str, "owner_id": int, "deal_id": int, "org_id": int,
                  "due_date": str, "due_time": str, "duration": str, "done": bool, "note": str,
                  "participants": list, "busy": bool}
_HHMM = re.compile(r"^\d{2}:\d{2}$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def account(request: Request) -> dict[str, Any]:
    """The company of the API token; 401 as Pipedrive answers it. Counts the call in the burst window."""
    acct = state(request).account(PROVIDER, SIM.credential(request), seed)
    window = int(time.time() // 2)
    with state(request).lock:
        if acct["rate"][0] != window:
            acct["rate"] = [window, 0]
        acct["rate"][1] += 1
        request.state.rate = {"x-ratelimit-limit": str(BURST),
                              "x-ratelimit-remaining": str(max(0, BURST - acct["rate"][1])),
                              "x-ratelimit-reset": "2"}
        if request.method in ("POST", "PUT", "PATCH"):
            acct["writes"] += 1
            request.state.rate["x-daily-requests-left"] = str(max(0, 10000 - acct["writes"]))
    return acct


def _getter(kind: str, what: str) -> Callable[[int, Request], JSONResponse]:
    """GET /api/v2/<kind>/{id}: one deal or activity, or Pipedrive's 404 naming ``what``."""
    def get(object_id: int, request: Request) -> JSONResponse:
        acct = account(request)
        with state(request).lock:
            return data(request, acct[kind].get(object_id) or not_found(what))
    return get


def ok(request: Request, body: dict[str, Any]) -> JSONResponse:
    """A success answer with the rate-limit headers."""
    return JSONResponse(body, headers=dict(getattr(request.state, "rate", {})))


def data(request: Request, value: Any) -> JSONResponse:
    """``{"success": true, "data": value}``."""
    return ok(request, {"success": True, "data": value, "additional_data": None})


async def body_of(request: Request) -> dict[str, Any]:
    """The JSON object body, or a 400."""
    if (loaded := await json_object(request)) is None:
        invalid("request body must be a JSON object")
    return loaded


def _typed(body: dict[str, Any], keys: dict[str, Any]) -> None:
    """v2's strict validation: known keys only, no coercion of strings to numbers."""
    for key, value in body.items():
        if key not in keys:
            invalid(f"'{key}' is not an allowed property")
        wrong = not isinstance(value, keys[key]) or (keys[key] is int and isinstance(value, bool))
        if value is not None and wrong:
            invalid(f"parameter '{key}' has the wrong type")


def _int_param(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    if not raw.isdigit():
        invalid(f"'{name}' must be an integer")
    return int(raw)


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _since(request: Request) -> datetime | None:
    raw = request.query_params.get("updated_since")
    try:
        return _time(raw) if raw else None
    except ValueError:
        invalid("'updated_since' must be an RFC 3339 date-time")


def _sorted(request: Request, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    key = request.query_params.get("sort_by") or "id"
    if key not in ("id", "add_time", "update_time", "due_date"):
        invalid("'sort_by' must be one of id, add_time, update_time")
    desc = request.query_params.get("sort_direction") == "desc"
    if key == "id":
        return sorted(items, key=lambda i: i["id"], reverse=desc)
    return sorted(items, key=lambda i: (str(i.get(key) or ""), i["id"]), reverse=desc)


@router.get("/v1/users/me")
def me(request: Request) -> JSONResponse:
    """GET /v1/users/me."""
    account(request)
    return data(request, {"id": USER_ID, "name": "Sim Seller", "email": "seller@example.com",
                          "company_id": 5001, "company_name": "Sim Co", "company_domain": "simco",
                          "company_country": "US",
                          "default_currency": "USD", "locale": "en_US", "lang": 1, "timezone_name": "UTC",
                          "is_admin": 1, "active_flag": True, "created": "2024-01-02 09:00:00"})


@router.get("/api/v2/pipelines")
def pipelines(request: Request) -> JSONResponse:
    """GET /api/v2/pipelines."""
    acct = account(request)
    return ok(request, cursor_page(request, list(acct["pipelines"].values())))


@router.get("/api/v2/stages")
def stages(request: Request) -> JSONResponse:
    """GET /api/v2/stages (optionally of one pipeline)."""
    acct, pid = account(request), _int_param(request, "pipeline_id")
    items = [s for s in acct["stages"].values() if pid is None or s["pipeline_id"] == pid]
    return ok(request, cursor_page(request, items))


# -- deals ------------------------------------------------------------------------------------------------
@router.get("/api/v2/deals")
def list_deals(request: Request) -> JSONResponse:
    """GET /api/v2/deals: owner/person/org/pipeline/stage, status (comma list), updated_since, sorting."""
    acct, q = account(request), request.query_params
    statuses = set((q.get("status") or "open,won,lost").split(","))
    if statuses - {"open", "won", "lost", "deleted"}:
        invalid("'status' must be open, won, lost or deleted")
    since = _since(request)
    with state(request).lock:
        items = [d for d in acct["deals"].values() if d["status"] in statuses and not d["is_deleted"]]
        for name in ("owner_id", "person_id", "org_id", "pipeline_id", "stage_id"):
            if (wanted := _int_param(request, name)) is not None:
                items = [d for d in items if d.get(name) == wanted]
        if since is not None:
            items = [d for d in items if _time(d["update_time"]) >= since]
        return ok(request, cursor_page(request, _sorted(request, items)))


def _place(acct: dict[str, Any], body: dict[str, Any], current: dict[str, Any] | None = None) -> None:
    """Fill ``pipeline_id`` from ``stage_id`` (or the first stage of the pipeline) and check both exist."""
    if "stage_id" in body:
        stage = acct["stages"].get(body["stage_id"]) or invalid(f"stage {body['stage_id']} does not exist")
        if body.get("pipeline_id") not in (None, stage["pipeline_id"]):
            invalid("stage_id does not belong to pipeline_id")
        body["pipeline_id"] = stage["pipeline_id"]
    elif "pipeline_id" in body or current is None:
        pid = body.get("pipeline_id", 1)
        if pid not in acct["pipelines"]:
            invalid(f"pipeline {pid} does not exist")
        body["stage_id"] = min((s for s in acct["stages"].values() if s["pipeline_id"] == pid),
                               key=lambda s: s["order_nr"])["id"]
        body["pipeline_id"] = pid


def _check_deal(body: dict[str, Any]) -> None:
    _typed(body, _DEAL_KEYS)
    if body.get("status") not in (None, "open", "won", "lost"):
        invalid("'status' must be open, won or lost")
    if "currency" in body and not re.fullmatch(r"[A-Z]{3}", body["currency"]):
        invalid("'currency' must be a 3-letter code")
    if body.get("expected_close_date") and not _DAY.match(body["expected_close_date"]):
        invalid("'expected_close_date' must be YYYY-MM-DD")


@router.post("/api/v2/deals")
async def create_deal(request: Request) -> JSONResponse:
    """POST /api/v2/deals (only ``title`` is required)."""
    acct, body = account(request), await body_of(request)
    if not isinstance(body.get("title"), str) or not body["title"]:
        invalid("'title' is required")
    _check_deal(body)
    with state(request).lock:
        _place(acct, body)
        d = new_deal(acct, body)
        acct["deals"][d["id"]] = d
        return data(request, d)


for _kind, _what in (("deals", "Deal"), ("activities", "Activity")):
    router.add_api_route(f"/api/v2/{_kind}/{{object_id}}", _getter(_kind, _what), methods=["GET"],
                         summary=f"GET /api/v2/{_kind}/{{id}}")


def _apply(acct: dict[str, Any], d: dict[str, Any], body: dict[str, Any]) -> None:
    """Change ``d`` and log each changed field in its changelog, newest first."""
    at = now()
    status = body.get("status", d["status"])
    if body.get("lost_reason") and status != "lost":
        invalid("'lost_reason' can only be set when the deal is lost")
    if "status" in body and body["status"] != d["status"]:
        won, lost = body["status"] == "won", body["status"] == "lost"
        body |= {"won_time": stamp(at) if won else None, "lost_time": stamp(at) if lost else None,
                 "close_time": stamp(at) if won or lost else None}
    if "stage_id" in body and body["stage_id"] != d["stage_id"]:
        body["stage_change_time"] = stamp(at)
    log = acct["changelog"].setdefault(d["id"], [])
    for key, value in body.items():
        if d.get(key) != value and not key.endswith("_time"):
            log.insert(0, {"field_key": key, "old_value": None if d.get(key) is None else str(d.get(key)),
                           "new_value": None if value is None else str(value), "actor_user_id": USER_ID,
                           "time": at.strftime("%Y-%m-%d %H:%M:%S"), "change_source": "api",
                           "change_source_user_agent": "sintra", "is_bulk_update_flag": False})
    d.update(body, update_time=stamp(at))


@router.patch("/api/v2/deals/{deal_id}")
async def update_deal(deal_id: int, request: Request) -> JSONResponse:
    """PATCH /api/v2/deals/{id}."""
    acct, body = account(request), await body_of(request)
    _check_deal(body)
    with state(request).lock:
        d = acct["deals"].get(deal_id) or not_found("Deal")
        _place(acct, body, d)
        _apply(acct, d, body)
        return data(request, d)


@router.get("/v1/deals/{deal_id}/changelog")
def changelog(deal_id: int, request: Request) -> JSONResponse:
    """GET /v1/deals/{id}/changelog (cursor paging)."""
    acct = account(request)
    with state(request).lock:
        if deal_id not in acct["deals"]:
            not_found("Deal")
        return ok(request, cursor_page(request, list(acct["changelog"].get(deal_id, [])), maximum=500))


# -- activities -------------------------------------------------------------------------------------------
@router.get("/api/v2/activities")
def list_activities(request: Request) -> JSONResponse:
    """GET /api/v2/activities: deal_id, owner_id, done, updated_since, sorting."""
    acct, done = account(request), request.query_params.get("done")
    if done not in (None, "true", "false"):
        invalid("'done' must be true or false")
    since = _since(request)
    with state(request).lock:
        items = [a for a in acct["activities"].values() if not a["is_deleted"]]
        for name in ("deal_id", "owner_id", "person_id", "org_id"):
            if (wanted := _int_param(request, name)) is not None:
                items = [a for a in items if a.get(name) == wanted]
        if done is not None:
            items = [a for a in items if a["done"] == (done == "true")]
        if since is not None:
            items = [a for a in items if _time(a["update_time"]) >= since]
        return ok(request, cursor_page(request, _sorted(request, items)))


@router.post("/api/v2/activities")
async def create_activity(request: Request) -> JSONResponse:
    """POST /api/v2/activities (``person_id`` is read-only: use a primary participant)."""
    acct, body = account(request), await body_of(request)
    if "person_id" in body:
        invalid("'person_id' is read-only; set a primary participant instead")
    _typed(body, _ACTIVITY_KEYS)
    if body.get("type", "call") not in ACTIVITY_TYPES:
        invalid(f"activity type '{body.get('type')}' does not exist")
    for name, pattern in (("due_time", _HHMM), ("duration", _HHMM), ("due_date", _DAY)):
        if body.get(name) and not pattern.match(body[name]):
            invalid(f"'{name}' has the wrong format")
    with state(request).lock:
        if body.get("deal_id") is not None and body["deal_id"] not in acct["deals"]:
            invalid(f"deal {body['deal_id']} does not exist")
        a = new_activity(acct, body)
        acct["activities"][a["id"]] = a
        return data(request, a)


# -- forecasting (v1, no v2 replacement) ------------------------------------------------------------------
def _deals_for(acct: dict[str, Any], request: Request) -> list[dict[str, Any]]:
    items = [d for d in acct["deals"].values() if not d["is_deleted"]]
    for name, key in (("pipeline_id", "pipeline_id"), ("stage_id", "stage_id"), ("user_id", "owner_id")):
        if (wanted := _int_param(request, name)) is not None:
            items = [d for d in items if d.get(key) == wanted]
    return items


@router.get("/v1/deals/summary")
def deals_summary(request: Request) -> JSONResponse:
    """GET /v1/deals/summary: status, pipeline_id, stage_id, user_id."""
    acct, status = account(request), request.query_params.get("status")
    if status not in (None, "open", "won", "lost"):
        fail(400, "Invalid status")
    with state(request).lock:
        items = [d for d in _deals_for(acct, request) if status is None or d["status"] == status]
        return data(request, summary(acct, items))


@router.get("/v1/deals/timeline")
def deals_timeline(request: Request) -> JSONResponse:
    """GET /v1/deals/timeline: start_date, interval, amount, field_key (all required)."""
    acct, q = account(request), request.query_params
    try:
        start, amount = date.fromisoformat(q.get("start_date") or ""), int(q.get("amount") or "")
    except ValueError:
        fail(400, "start_date (YYYY-MM-DD) and amount are required")
    if q.get("interval") not in ("day", "week", "month", "quarter") or not q.get("field_key"):
        fail(400, "interval (day, week, month, quarter) and field_key are required")
    convert = bool(q.get("totals_convert_currency"))
    with state(request).lock:
        items = _deals_for(acct, request)
        out = [timeline_period(acct, items, span, q["field_key"], convert)
               for span in periods(start, q["interval"], amount)]
        return data(request, out)


@router.api_route("/v1/{entity}", methods=["GET", "POST"], include_in_schema=False)
@router.api_route("/v1/{entity}/{rest:path}", methods=["GET", "POST", "PUT", "DELETE"],
                  include_in_schema=False)
def retired(entity: str, request: Request, rest: str = "") -> Response:
    """v1 endpoints with a v2 replacement: 410 Gone; anything else: 404."""
    account(request)
    if entity in ("deals", "persons", "organizations", "activities", "products", "pipelines", "stages",
                  "itemSearch"):
        return SIM.error(410, f"This endpoint is no longer supported. Use /api/v2/{entity} instead.",
                         "ERR_GONE")
    return SIM.error(404, "Unknown method .")


@router.api_route("/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
def unknown(rest: str, request: Request) -> Response:
    """Any other path: 404."""
    account(request)
    return SIM.error(404, "Unknown method .")
