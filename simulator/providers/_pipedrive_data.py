"""State, bodies and deal arithmetic of the simulated Pipedrive (helper module)."""

from __future__ import annotations

import base64
import calendar
from datetime import UTC, date, datetime, timedelta
from typing import Any, NoReturn

from fastapi import Request
from fastapi.responses import JSONResponse

from simulator.control import Reply

USER_ID = 1001
#: Conversion into the company currency (USD) for summaries and timelines.
RATES = {"USD": 1.0, "EUR": 1.1, "GBP": 1.25}
ACTIVITY_TYPES = ("call", "meeting", "task", "deadline", "email", "lunch")
#: Burst limit per 2-second window of an API token on the Growth plan.
BURST = 40
INFO = "Please check developers.pipedrive.com for more information about Pipedrive API."
UNAUTHORIZED = {"success": False, "error": "unauthorized access", "errorCode": 401,
                "error_info": "Please check developers.pipedrive.com"}


def now() -> datetime:
    """The current UTC time, to the second."""
    return datetime.now(UTC).replace(microsecond=0)


def stamp(value: datetime) -> str:
    """A time as the v2 API writes it (RFC 3339)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def v1_stamp(value: datetime) -> str:
    """A time as v1 writes it (``YYYY-MM-DD HH:MM:SS``, UTC)."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def failure_body(status: int, error: str, code: Any = None) -> dict[str, Any]:
    """A Pipedrive error body (its 401 is the older ``errorCode`` shape)."""
    if status == 401:
        return UNAUTHORIZED
    body: dict[str, Any] = {"success": False, "error": error, "error_info": INFO, "data": None,
                            "additional_data": None}
    return body | ({"code": code} if code else {})


def fail(status: int, error: str, code: str | None = None) -> NoReturn:
    """Answer the current request with an error."""
    raise Reply(JSONResponse(failure_body(status, error, code), status_code=status))


def invalid(message: str) -> NoReturn:
    """v2's strict validation error."""
    fail(400, f"Validation failed: {message}", "ERR_SCHEMA_VALIDATION_FAILED")


def not_found(what: str) -> NoReturn:
    """Pipedrive's 404."""
    fail(404, f"{what} not found", "ERR_NOT_FOUND")


def cursor_page(request: Request, items: list[Any], default: int = 100, maximum: int = 500) -> dict[str, Any]:
    """One cursor page: ``{"success", "data", "additional_data": {"next_cursor"}}``."""
    q = request.query_params
    try:
        limit = int(q.get("limit") or default)
        start = int(base64.urlsafe_b64decode(q["cursor"].encode()).decode()) if q.get("cursor") else 0
    except ValueError:
        invalid("limit and cursor must be valid")
    if not 1 <= limit <= maximum:
        invalid(f"limit must be between 1 and {maximum}")
    page = items[start:start + limit]
    more = start + limit < len(items)
    cursor = base64.urlsafe_b64encode(str(start + limit).encode()).decode() if more else None
    return {"success": True, "data": page, "additional_data": {"next_cursor": cursor}}


def _stage(sid: int, pid: int, order: int, name: str, probability: int) -> dict[str, Any]:
    return {"id": sid, "order_nr": order, "name": name, "is_deleted": False, "deal_probability": probability,
            "pipeline_id": pid, "is_deal_rot_enabled": False, "days_to_rotten": None,
            "add_time": "2024-01-02T09:00:00Z", "update_time": None}


def new_deal(acct: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """A v2 deal object."""
    acct["seq"] += 1
    at = stamp(now())
    return {"id": acct["seq"], "title": data["title"], "value": data.get("value", 0),
            "currency": data.get("currency", "USD"), "creator_user_id": USER_ID,
            "owner_id": data.get("owner_id", USER_ID), "person_id": data.get("person_id"),
            "org_id": data.get("org_id"), "pipeline_id": data["pipeline_id"], "stage_id": data["stage_id"],
            "status": data.get("status", "open"), "probability": data.get("probability"), "lost_reason": None,
            "visible_to": 3, "add_time": at, "update_time": at, "stage_change_time": None, "close_time": None,
            "won_time": None, "lost_time": None, "local_won_date": None, "local_lost_date": None,
            "local_close_date": None, "expected_close_date": data.get("expected_close_date"), "label_ids": [],
            "is_deleted": False, "is_archived": False, "origin": "API",
            "custom_fields": data.get("custom_fields") or {}}


def seed() -> dict[str, Any]:
    """A company with two pipelines, seven stages, six deals and two activities."""
    acct: dict[str, Any] = {"seq": 0, "deals": {}, "changelog": {}, "activities": {}, "rate": [0, 0],
                            "writes": 0}
    acct["pipelines"] = {
        1: {"id": 1, "name": "Sales pipeline", "order_nr": 1, "is_deleted": False, "is_selected": True,
            "is_deal_probability_enabled": True, "add_time": "2024-01-02T09:00:00Z", "update_time": None},
        2: {"id": 2, "name": "Renewals", "order_nr": 2, "is_deleted": False, "is_selected": False,
            "is_deal_probability_enabled": False, "add_time": "2024-01-02T09:00:00Z", "update_time": None}}
    stages = [_stage(1, 1, 1, "Lead in", 10), _stage(2, 1, 2, "Contact made", 20),
              _stage(3, 1, 3, "Proposal", 50), _stage(4, 1, 4, "Negotiation", 80),
              _stage(5, 1, 5, "Verbal yes", 90), _stage(6, 2, 1, "Due", 50), _stage(7, 2, 2, "Signed", 100)]
    acct["stages"] = {s["id"]: s for s in stages}
    month = now().date().replace(day=1)
    for title, stage, value, currency, status, close in (
            ("Acme onboarding", 1, 5000, "USD", "open", month + timedelta(days=20)),
            ("Globex expansion", 3, 12000, "EUR", "open", month + timedelta(days=40)),
            ("Initech pilot", 4, 8000, "USD", "open", month + timedelta(days=70)),
            ("Umbrella renewal", 6, 3000, "GBP", "open", month + timedelta(days=10)),
            ("Hooli license", 5, 20000, "USD", "won", month + timedelta(days=5)),
            ("Soylent trial", 2, 1500, "USD", "lost", None)):
        pipeline_id = acct["stages"][stage]["pipeline_id"]
        d = new_deal(acct, {"title": title, "stage_id": stage, "pipeline_id": pipeline_id,
                            "value": value, "currency": currency, "status": status,
                            "expected_close_date": close.isoformat() if close else None})
        acct["deals"][d["id"]] = d
    for subject, kind, deal_id, done in (("Intro call", "call", 1, True),
                                         ("Send proposal", "task", 2, False)):
        a = new_activity(acct, {"subject": subject, "type": kind, "deal_id": deal_id, "done": done,
                                "due_date": now().date().isoformat()})
        acct["activities"][a["id"]] = a
    return acct


def new_activity(acct: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """A v2 activity object."""
    acct["seq"] += 1
    at = stamp(now())
    primary = next((p for p in data.get("participants") or []
                    if p.get("primary") or p.get("primary_flag")), None)
    return {"id": acct["seq"], "subject": data.get("subject") or "Call", "type": data.get("type", "call"),
            "owner_id": data.get("owner_id", USER_ID), "creator_user_id": USER_ID, "is_deleted": False,
            "done": bool(data.get("done", False)), "due_date": data.get("due_date"),
            "due_time": data.get("due_time"),
            "duration": data.get("duration"), "busy": False, "add_time": at, "update_time": at,
            "marked_as_done_time": at if data.get("done") else None, "public_description": None,
            "location": None,
            "org_id": data.get("org_id"), "person_id": primary["person_id"] if primary else None,
            "deal_id": data.get("deal_id"), "lead_id": None, "project_id": None, "private": False,
            "priority": None, "note": data.get("note"),
            "participants": [{"person_id": primary["person_id"], "primary_flag": True}] if primary else []}


def weighted(acct: dict[str, Any], d: dict[str, Any]) -> float:
    """Value times probability (the deal's own, else its stage's)."""
    probability = d.get("probability")
    if probability is None:
        probability = acct["stages"][d["stage_id"]]["deal_probability"]
    return float(d["value"] or 0) * probability / 100


def summary(acct: dict[str, Any], deals: list[dict[str, Any]]) -> dict[str, Any]:
    """``GET /v1/deals/summary`` data for ``deals``."""
    values: dict[str, dict[str, Any]] = {}
    weights: dict[str, dict[str, Any]] = {}
    for d in deals:
        v = values.setdefault(d["currency"], {"value": 0.0, "count": 0, "value_converted": 0.0})
        v["value"] += d["value"]
        v["count"] += 1
        v["value_converted"] += d["value"] * RATES.get(d["currency"], 1.0)
        w = weights.setdefault(d["currency"], {"value": 0.0, "count": 0})
        w["value"] += weighted(acct, d)
        w["count"] += 1
    for cur, v in values.items():
        v |= {"value_formatted": f"{v['value']:,.0f} {cur}",
              "value_converted_formatted": f"US${v['value_converted']:,.2f}"}
        weights[cur]["value_formatted"] = f"{weights[cur]['value']:,.0f} {cur}"
    total = round(sum(v["value_converted"] for v in values.values()), 2)
    weighted_total = round(sum(weighted(acct, d) * RATES.get(d["currency"], 1.0) for d in deals), 2)
    return {"values_total": values, "weighted_values_total": weights, "total_count": len(deals),
            "total_currency_converted_value": total,
            "total_weighted_currency_converted_value": weighted_total,
            "total_currency_converted_value_formatted": f"US${total:,.2f}",
            "total_weighted_currency_converted_value_formatted": f"US${weighted_total:,.2f}"}


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


def periods(start: date, interval: str, amount: int) -> list[tuple[date, date]]:
    """``amount`` consecutive ``[start, end)`` periods."""
    out = []
    for _ in range(amount):
        if interval in ("day", "week"):
            end = start + timedelta(days=1 if interval == "day" else 7)
        else:
            end = _add_months(start, 1 if interval == "month" else 3)
        out.append((start, end))
        start = end
    return out


def timeline_period(acct: dict[str, Any], deals: list[dict[str, Any]], span: tuple[date, date], field: str,
                    convert: bool) -> dict[str, Any]:
    """One period of ``GET /v1/deals/timeline``: open and won deals whose ``field`` falls in ``span``."""
    inside = [d for d in deals if d["status"] in ("open", "won") and d.get(field)
              and span[0] <= date.fromisoformat(str(d[field])[:10]) < span[1]]

    def by_currency(items: list[dict[str, Any]], weigh: bool = False) -> dict[str, float]:
        out: dict[str, float] = {}
        for d in items:
            out[d["currency"]] = out.get(d["currency"], 0.0) + (weighted(acct, d) if weigh else d["value"])
        return out

    opened = [d for d in inside if d["status"] == "open"]
    won = [d for d in inside if d["status"] == "won"]
    totals = {"count": len(inside), "values": by_currency(inside),
              "weighted_values": by_currency(inside, True), "open_count": len(opened),
              "open_values": by_currency(opened), "weighted_open_values": by_currency(opened, True),
              "won_count": len(won), "won_values": by_currency(won)}
    first, after = (datetime.combine(day, datetime.min.time()) for day in span)
    out: dict[str, Any] = {"period_start": v1_stamp(first),
                           "period_end": v1_stamp(after - timedelta(seconds=1)), "deals": [], "totals": totals}
    if convert:
        def conv(items: list[dict[str, Any]], weigh: bool = False) -> float:
            return round(sum((weighted(acct, d) if weigh else d["value"]) * RATES.get(d["currency"], 1.0)
                             for d in items), 2)
        out["totals_converted"] = {"value": conv(inside), "weighted_value": conv(inside, True),
                                   "open_value": conv(opened), "weighted_open_value": conv(opened, True),
                                   "won_value": conv(won), "currency": "USD"}
    return out
