"""Simulated Google Analytics 4 Data API under ``/google_analytics``: ``v1beta`` getMetadata, runReport
and runRealtimeReport, ``v1alpha`` runFunnelReport, and the OAuth token endpoint (``/token``).

Any numeric property id is a property the user can read, except ids starting with ``999`` (Google's 403
"insufficient permissions"); a non-numeric id is a 400. Report rows are the cross product of the
requested dimensions' values with deterministic metrics, filtered by ``dimensionFilter`` and
``metricFilter``, ordered by ``orderBys`` (default: first metric, descending) and paged by
``offset``/``limit`` with ``rowCount``. Unknown request fields, dimensions or metrics are Google's 400.
Every request spends property tokens; ``returnPropertyQuota`` reports them and an exhausted hourly
budget is a 429 ``RESOURCE_EXHAUSTED``.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

from fastapi import Request

from simulator.control import state
from simulator.providers import _google_analytics_data as data
from simulator.providers._google import account, fail, google_api, json_body

PROVIDER = "google_analytics"
SIM, router = google_api(PROVIDER, "Exhausted property tokens per hour for this property. Wait for the quota to "
                         "refresh, or reduce the complexity of your requests.",
                         "https://www.googleapis.com/auth/analytics.readonly", legacy=False)
fault_response = SIM.fault_response

REPORT_FIELDS = frozenset({"property", "dimensions", "metrics", "dateRanges", "dimensionFilter",
                           "metricFilter", "offset", "limit", "metricAggregations", "orderBys",
                           "currencyCode", "cohortSpec", "keepEmptyRows", "returnPropertyQuota",
                           "comparisons"})
REALTIME_FIELDS = frozenset({"dimensions", "metrics", "dimensionFilter", "metricFilter", "limit",
                             "metricAggregations", "orderBys", "returnPropertyQuota", "minuteRanges"})
FUNNEL_FIELDS = frozenset({"property", "dateRanges", "funnel", "funnelBreakdown", "funnelNextAction",
                           "funnelVisualizationType", "segments", "limit", "dimensionFilter",
                           "returnPropertyQuota"})
TOKENS_PER_HOUR, TOKENS_PER_DAY, MAX_LIMIT, MAX_GENERATED = 40_000, 200_000, 250_000, 100_000


def _seed() -> dict[str, Any]:
    return {"tokens": {}}


def _property(request: Request, pid: str) -> dict[str, Any]:
    """The account of the token, checked for access to property ``pid``."""
    acct = account(request, PROVIDER, _seed)
    if not pid.isdigit():
        fail(400, f"Invalid property ID: {pid}. A numeric Property ID is required. To learn more about "
                  "Property ID, see https://developers.google.com/analytics/devguides/reporting/data/v1/"
                  "property-id.")
    if pid.startswith("999"):
        fail(403, "User does not have sufficient permissions for this property. To learn more about Property "
                  "ID, see https://developers.google.com/analytics/devguides/reporting/data/v1/property-id.")
    return acct


def _spend(request: Request, acct: dict[str, Any], pid: str, tokens: int) -> dict[str, Any]:
    """Charge ``tokens`` to the property; the PropertyQuota after it (429 once the hour is spent)."""
    with state(request).lock:
        used = acct["tokens"].get(pid, 0)
        if used + tokens > TOKENS_PER_HOUR:
            fail(429, "Exhausted property tokens per hour for this property. Wait for the quota to refresh, "
                      "or reduce the complexity of your requests.")
        acct["tokens"][pid] = used + tokens
    def status(consumed: int, limit: int) -> dict[str, int]:
        """One QuotaStatus."""
        return {"consumed": consumed, "remaining": max(0, limit - used - tokens)}
    return {"tokensPerDay": status(tokens, TOKENS_PER_DAY), "tokensPerHour": status(tokens, TOKENS_PER_HOUR),
            "concurrentRequests": {"consumed": 0, "remaining": 10},
            "serverErrorsPerProjectPerHour": {"consumed": 0, "remaining": 10},
            "potentiallyThresholdedRequestsPerHour": {"consumed": 0, "remaining": 120},
            "tokensPerProjectPerHour": status(tokens, TOKENS_PER_HOUR * 35 // 100)}


def _names(body: dict[str, Any], key: str) -> list[str]:
    items = body.get(key) or []
    if not isinstance(items, list) or not all(isinstance(i, dict) and i.get("name") for i in items):
        fail(400, f"Each of {key} must be an object with a name.")
    return [str(i["name"]) for i in items]


def _metrics(pid: str, row: dict[str, str], metrics: list[str], salt: str) -> dict[str, float]:
    """Deterministic metric values for one row."""
    out: dict[str, float] = {}
    base = f"{pid}|{sorted(row.items())}|{salt}"
    for m in metrics:
        kind = data.METRICS.get(m, "TYPE_INTEGER")
        if m == "keyEvents" and row.get("eventName", next(iter(data.KEY_EVENTS))) not in data.KEY_EVENTS:
            out[m] = 0
        elif kind == "TYPE_INTEGER":
            out[m] = data.number(f"{base}|{m}", 0, 5000)
        elif kind == "TYPE_FLOAT":
            out[m] = data.number(f"{base}|{m}", 0, 1000) / 1000
        else:
            out[m] = data.number(f"{base}|{m}", 0, 500_000) / 100
    return out


def _rows(pid: str, body: dict[str, Any], dims: list[str], metrics: list[str], days: tuple[str, ...]) \
        -> list[dict[str, Any]]:
    """Generated, filtered and ordered rows as ``{"dims": {...}, "metrics": {...}}``."""
    salt = json.dumps([body.get("dimensionFilter"), body.get("dateRanges"), body.get("minuteRanges")],
                      sort_keys=True)
    rows: list[dict[str, Any]] = []
    for keys in itertools.islice(itertools.product(*(data.values_of(d, days) for d in dims)), MAX_GENERATED):
        row = dict(zip(dims, keys, strict=True))
        if body.get("dimensionFilter") and data.evaluate(body["dimensionFilter"], row) is False:
            continue
        values = _metrics(pid, row, metrics, salt)
        if body.get("metricFilter") and data.evaluate(body["metricFilter"], values) is False:
            continue
        if body.get("keepEmptyRows") or any(values.values()) or not metrics:
            rows.append({"dims": row, "metrics": values})
    default: list[dict[str, Any]] = [{"metric": {"metricName": metrics[0]}, "desc": True}] if metrics else []
    for order in reversed(body.get("orderBys") or default):
        if "metric" in order:
            name = order["metric"].get("metricName")
            rows.sort(key=lambda r: r["metrics"].get(name, 0), reverse=bool(order.get("desc")))
        elif "dimension" in order:
            name = order["dimension"].get("dimensionName")
            rows.sort(key=lambda r: r["dims"].get(name, ""), reverse=bool(order.get("desc")))
    return rows


def _table(dims: list[str], metrics: list[str], rows: list[dict[str, Any]],
           types: dict[str, str] | None = None) -> dict[str, Any]:
    """A report table in the wire format (every value a string)."""
    types = types or data.METRICS
    return {"dimensionHeaders": [{"name": d} for d in dims],
            "metricHeaders": [{"name": m, "type": types.get(m, "TYPE_FLOAT")} for m in metrics],
            "rows": [{"dimensionValues": [{"value": r["dims"][d]} for d in dims],
                      "metricValues": [{"value": _text(r["metrics"][m])} for m in metrics]} for r in rows]}


def _text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _window(body: dict[str, Any]) -> tuple[int, int]:
    try:
        offset, limit = int(body.get("offset") or 0), int(body.get("limit") or 10_000)
    except (TypeError, ValueError):
        fail(400, "limit and offset must be integers.")
    if offset < 0 or limit < 0:
        fail(400, "limit and offset must be positive.")
    return offset, min(limit or 10_000, MAX_LIMIT)


def _answer(table: dict[str, Any], total: int, kind: str, quota: dict[str, Any] | None) -> dict[str, Any]:
    answer = {k: v for k, v in table.items() if v}
    if total:
        answer["rowCount"] = total
    answer["metadata"] = {"currencyCode": "USD", "timeZone": "America/Los_Angeles"}
    if quota:
        answer["propertyQuota"] = quota
    return answer | {"kind": kind}


@router.get("/v1beta/properties/{pid}/metadata")
def get_metadata(pid: str, request: Request) -> dict[str, Any]:
    """``properties.getMetadata``."""
    _property(request, pid)
    return data.metadata(pid)


@router.post("/v1beta/properties/{target}")
async def v1beta(target: str, request: Request) -> dict[str, Any]:
    """``properties/{id}:runReport`` and ``properties/{id}:runRealtimeReport``."""
    pid, _, method = target.partition(":")
    acct = _property(request, pid)
    if method == "runReport":
        return run_report(request, acct, pid, await json_body(request, REPORT_FIELDS))
    if method == "runRealtimeReport":
        return run_realtime(request, acct, pid, await json_body(request, REALTIME_FIELDS))
    fail(404, f"Method not found: {method}.")


def run_report(request: Request, acct: dict[str, Any], pid: str, body: dict[str, Any]) -> dict[str, Any]:
    """A core report, paged by offset/limit."""
    dims, metrics = _names(body, "dimensions"), _names(body, "metrics")
    data.check_names(dims, metrics)
    if not metrics and not dims:
        fail(400, "At least one dimension or metric is required.")
    rows = _rows(pid, body, dims, metrics, data.date_values(body.get("dateRanges")))
    offset, limit = _window(body)
    page = rows[offset: offset + limit]
    quota = _spend(request, acct, pid, 1 + len(page) // 1000)
    return _answer(_table(dims, metrics, page), len(rows), "analyticsData#runReport",
                   quota if body.get("returnPropertyQuota") else None)


def run_realtime(request: Request, acct: dict[str, Any], pid: str, body: dict[str, Any]) -> dict[str, Any]:
    """A realtime report over ``minuteRanges`` (0-29 minutes ago), cut at ``limit``; no offset."""
    dims, metrics = _names(body, "dimensions"), _names(body, "metrics")
    data.check_names(dims, metrics, realtime=True)
    for r in body.get("minuteRanges") or []:
        start, end = int(r.get("startMinutesAgo", 29)), int(r.get("endMinutesAgo", 0))
        if not 0 <= end <= start <= 29:
            fail(400, "minuteRanges must satisfy 0 <= endMinutesAgo <= startMinutesAgo <= 29 for a standard "
                      "property.")
    rows = _rows(pid, body, dims, metrics, ())
    _, limit = _window(body)
    quota = _spend(request, acct, pid, 1)
    return _answer(_table(dims, metrics, rows[:limit]), len(rows), "analyticsData#runRealtimeReport",
                   quota if body.get("returnPropertyQuota") else None)


@router.post("/v1alpha/properties/{target}")
async def v1alpha(target: str, request: Request) -> dict[str, Any]:
    """``properties/{id}:runFunnelReport``."""
    pid, _, method = target.partition(":")
    acct = _property(request, pid)
    if method != "runFunnelReport":
        fail(404, f"Method not found: {method}.")
    body = await json_body(request, FUNNEL_FIELDS)
    return run_funnel(request, acct, pid, body)


def _funnel_users(pid: str, body: dict[str, Any], events: list[str], salt: str) -> list[int]:
    users = [data.number(f"{pid}|{salt}|{events[0]}|{body.get('dateRanges')}", 500, 5000)]
    for event in events[1:]:
        share = data.number(f"{pid}|{salt}|{event}", 30, 85)
        share += 10 if body["funnel"].get("isOpenFunnel") else 0
        users.append(users[-1] * min(share, 100) // 100)
    return users


def run_funnel(request: Request, acct: dict[str, Any], pid: str, body: dict[str, Any]) -> dict[str, Any]:
    """Funnel table (per step, per breakdown value plus RESERVED_TOTAL) and the standard visualization."""
    data.date_values(body.get("dateRanges"))
    steps = (body.get("funnel") or {}).get("steps") or []
    if not steps:
        fail(400, "A funnel must have at least one step.")
    events = []
    for n, step in enumerate(steps):
        event = ((step.get("filterExpression") or {}).get("funnelEventFilter") or {}).get("eventName")
        if not step.get("name") or not event:
            fail(400, f"Funnel step {n} needs a name and a filterExpression.")
        events.append(str(event))
    breakdown = ((body.get("funnelBreakdown") or {}).get("breakdownDimension") or {}).get("name")
    if breakdown:
        data.check_names([breakdown], [])
    names = ["activeUsers", "funnelStepCompletionRate", "funnelStepAbandonments", "funnelStepAbandonmentRate"]
    groups = [("RESERVED_TOTAL", "total"), *((v, v) for v in data.values_of(breakdown, ())[:3])] \
        if breakdown else [(None, "total")]
    rows: list[dict[str, Any]] = []
    totals = _funnel_users(pid, body, events, "total")
    for n, step in enumerate(steps):
        for value, salt in groups:
            users = totals if salt == "total" else _funnel_users(pid, body, events, salt)
            after = users[n + 1] if n + 1 < len(users) else users[n]
            gone = users[n] - after
            dims = {"funnelStepName": f"{n + 1}. {step['name']}"} | ({breakdown: value} if breakdown else {})
            base = users[n] or 1
            rows.append({"dims": dims, "metrics": {
                "activeUsers": users[n], "funnelStepCompletionRate": after / base if users[n] else 0,
                "funnelStepAbandonments": gone, "funnelStepAbandonmentRate": gone / base}})
    columns = ["funnelStepName", *([breakdown] if breakdown else [])]
    typed = dict.fromkeys(names, "TYPE_INTEGER")  # GA types the rates as integers too
    visual = [{"dims": {"funnelStepName": f"{n + 1}. {s['name']}"}, "metrics": {"activeUsers": totals[n]}}
              for n, s in enumerate(steps)]
    answer = {"funnelTable": _table(columns, names, rows, typed) | {"metadata": {"samplingMetadatas": []}},
              "funnelVisualization": _table(["funnelStepName"], ["activeUsers"], visual, typed),
              "kind": "analyticsData#runFunnelReport"}
    quota = _spend(request, acct, pid, 5)
    return answer | ({"propertyQuota": quota} if body.get("returnPropertyQuota") else {})
