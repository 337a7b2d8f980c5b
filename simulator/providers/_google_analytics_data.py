"""Data of the simulated GA4 property: dimension and metric metadata, values, date resolution and the
FilterExpression evaluator (kept apart so ``google_analytics.py`` stays a router)."""

from __future__ import annotations

import hashlib
import re
from datetime import date, timedelta
from typing import Any

from simulator.providers._google import fail

PAGES = ("/", "/pricing", "/features", "/blog/", "/blog/seo-guide", "/blog/ga4-funnels", "/docs/api",
         "/signup", "/checkout", "/contact")
EVENTS = ("page_view", "session_start", "first_visit", "user_engagement", "scroll", "click", "sign_up",
          "generate_lead", "add_to_cart", "purchase")
KEY_EVENTS = frozenset({"sign_up", "generate_lead", "purchase"})
DIMENSIONS: dict[str, tuple[str, ...]] = {
    "sessionDefaultChannelGroup": ("Organic Search", "Direct", "Referral", "Paid Search", "Email",
                                   "Organic Social"),
    "landingPagePlusQueryString": PAGES, "pagePath": PAGES, "landingPage": PAGES, "eventName": EVENTS,
    "country": ("United States", "United Kingdom", "Germany", "France", "India", "Canada"),
    "city": ("New York", "London", "Berlin", "Paris", "Mumbai", "Toronto"),
    "deviceCategory": ("desktop", "mobile", "tablet"), "platform": ("web", "Android", "iOS"),
    "sessionSource": ("google", "(direct)", "bing", "newsletter", "t.co"),
    "sessionMedium": ("organic", "(none)", "referral", "email", "cpc"),
    "newVsReturning": ("new", "returning"),
    "pageTitle": ("Home", "Pricing", "Features", "Blog", "SEO guide", "Sign up", "Checkout"),
    "unifiedScreenName": ("Home", "Pricing", "Features", "Blog", "SEO guide", "Sign up", "Checkout"),
    "minutesAgo": tuple(f"{m:02d}" for m in range(30)),
}
METRICS = {"sessions": "TYPE_INTEGER", "totalUsers": "TYPE_INTEGER", "newUsers": "TYPE_INTEGER",
           "activeUsers": "TYPE_INTEGER", "engagedSessions": "TYPE_INTEGER", "keyEvents": "TYPE_INTEGER",
           "screenPageViews": "TYPE_INTEGER", "eventCount": "TYPE_INTEGER", "eventCountPerUser": "TYPE_FLOAT",
           "userEngagementDuration": "TYPE_SECONDS", "averageSessionDuration": "TYPE_SECONDS",
           "engagementRate": "TYPE_FLOAT", "bounceRate": "TYPE_FLOAT", "totalRevenue": "TYPE_CURRENCY",
           "purchaseRevenue": "TYPE_CURRENCY"}
REALTIME_DIMENSIONS = frozenset({"country", "city", "deviceCategory", "platform", "eventName",
                                 "unifiedScreenName", "minutesAgo"})
REALTIME_METRICS = frozenset({"activeUsers", "eventCount", "keyEvents", "screenPageViews"})
CUSTOM_VALUES = ("alpha", "beta", "(not set)")
SCHEMA_HINT = ("For a list of valid dimensions and metrics, see "
               "https://developers.google.com/analytics/devguides/reporting/data/v1/api-schema")
_RELATIVE = re.compile(r"^(\d+)daysAgo$")


def number(key: str, low: int, high: int) -> int:
    """A stable pseudo-random number in ``[low, high]`` for ``key``."""
    return low + int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % (high - low + 1)


def metadata(property_id: str) -> dict[str, Any]:
    """``getMetadata``: the dimensions and metrics of the property (two custom definitions)."""
    dims = [{"apiName": d, "uiName": d, "description": f"Simulated {d}", "category": "Simulated"}
            for d in DIMENSIONS if d != "minutesAgo"] + [
        {"apiName": "date", "uiName": "Date", "description": "YYYYMMDD", "category": "Time"},
        {"apiName": "customEvent:plan", "uiName": "Plan", "customDefinition": True, "category": "Custom"}]
    metrics = [{"apiName": m, "uiName": m, "type": t, "description": f"Simulated {m}",
                "category": "Simulated"} for m, t in METRICS.items()] + [
        {"apiName": "customEvent:score", "uiName": "Score", "type": "TYPE_FLOAT", "customDefinition": True}]
    return {"name": f"properties/{property_id}/metadata", "dimensions": dims, "metrics": metrics}


def resolve(value: Any, name: str) -> date:
    """A GA4 date (YYYY-MM-DD, today, yesterday, NdaysAgo) as a date, or GA's 400."""
    text = str(value or "")
    today = date.today()
    if text in ("today", "yesterday"):
        return today - timedelta(days=1 if text == "yesterday" else 0)
    if m := _RELATIVE.match(text):
        return today - timedelta(days=int(m.group(1)))
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail(400, f"Invalid {name}: '{text}'. Expected YYYY-MM-DD, today, yesterday or NdaysAgo.")


def date_values(ranges: Any) -> tuple[str, ...]:
    """The YYYYMMDD days of the request's (first) date range; 400 when missing or reversed."""
    if not isinstance(ranges, list) or not ranges:
        fail(400, "dateRanges is required: a report must request at least one date range.")
    start = resolve(ranges[0].get("startDate"), "startDate")
    end = resolve(ranges[0].get("endDate"), "endDate")
    if end < start:
        fail(400, "The date range is invalid: startDate must be on or before endDate.")
    days = min((end - start).days + 1, 500)
    return tuple((start + timedelta(days=n)).strftime("%Y%m%d") for n in range(days))


def values_of(dim: str, days: tuple[str, ...]) -> tuple[str, ...]:
    """The values a dimension takes in simulated data."""
    if dim == "date":
        return days
    return CUSTOM_VALUES if dim.startswith("customEvent:") else DIMENSIONS[dim]


def check_names(dims: list[str], metrics: list[str], *, realtime: bool = False) -> None:
    """Google's 400 for unknown, duplicate or too many dimensions and metrics."""
    if len(dims) > 9 or len(metrics) > 10:
        fail(400, f"Requested {len(dims)} dimensions and {len(metrics)} metrics; at most 9 dimensions and "
                  "10 metrics are allowed.")
    if len(set(dims)) != len(dims) or len(set(metrics)) != len(metrics):
        fail(400, "Duplicate dimension or metric names are not allowed.")
    kind = " for realtime reports" if realtime else ""
    for d in dims:
        core = (d in DIMENSIONS and d != "minutesAgo") or d == "date" or d.startswith("customEvent:")
        if not (d in REALTIME_DIMENSIONS if realtime else core):
            fail(400, f"Field {d} is not a valid dimension{kind}. {SCHEMA_HINT}")
    for m in metrics:
        if m not in (REALTIME_METRICS if realtime else METRICS):
            fail(400, f"Field {m} is not a valid metric{kind}. {SCHEMA_HINT}")


def _string(value: str, f: dict[str, Any]) -> bool:
    case = f.get("caseSensitive", False)
    a, b = (value, str(f.get("value", ""))) if case else (value.lower(), str(f.get("value", "")).lower())
    match = f.get("matchType", "EXACT")
    tests = {"EXACT": lambda: a == b, "BEGINS_WITH": lambda: a.startswith(b),
             "ENDS_WITH": lambda: a.endswith(b), "CONTAINS": lambda: b in a,
             "FULL_REGEXP": lambda: re.fullmatch(b, a) is not None,
             "PARTIAL_REGEXP": lambda: re.search(b, a) is not None}
    if match not in tests:
        fail(400, f"Invalid matchType: {match}.")
    return tests[match]()


def _numeric(value: float, f: dict[str, Any]) -> bool:
    raw = f.get("value") or {}
    bound = float(raw.get("int64Value", raw.get("doubleValue", 0)))
    ops = {"EQUAL": value == bound, "LESS_THAN": value < bound, "LESS_THAN_OR_EQUAL": value <= bound,
           "GREATER_THAN": value > bound, "GREATER_THAN_OR_EQUAL": value >= bound}
    if f.get("operation") not in ops:
        fail(400, f"Invalid numeric filter operation: {f.get('operation')}.")
    return ops[f["operation"]]


def evaluate(expr: Any, row: dict[str, Any]) -> bool | None:
    """A FilterExpression on a row; None when it names fields the row does not have (not requested)."""
    if not isinstance(expr, dict) or len(expr) != 1:
        fail(400, "A FilterExpression must set exactly one of andGroup, orGroup, notExpression, filter.")
    (kind, inner), = expr.items()
    if kind in ("andGroup", "orGroup"):
        known = [r for e in inner.get("expressions") or [] if (r := evaluate(e, row)) is not None]
        return (all(known) if kind == "andGroup" else any(known)) if known else None
    if kind == "notExpression":
        result = evaluate(inner, row)
        return None if result is None else not result
    if kind != "filter" or not inner.get("fieldName"):
        fail(400, f"Invalid FilterExpression field: {kind}.")
    if inner["fieldName"] not in row:
        return None
    value = row[inner["fieldName"]]
    if "stringFilter" in inner:
        return _string(str(value), inner["stringFilter"])
    if "inListFilter" in inner:
        f = inner["inListFilter"]
        values = f.get("values") or []
        if f.get("caseSensitive"):
            return value in values
        return str(value).lower() in [v.lower() for v in values]
    if "numericFilter" in inner:
        return _numeric(float(value), inner["numericFilter"])
    if "emptyFilter" in inner:
        return value in ("", None)
    if "betweenFilter" in inner:
        low, high = inner["betweenFilter"].get("fromValue") or {}, inner["betweenFilter"].get("toValue") or {}
        return _numeric(float(value), {"operation": "GREATER_THAN_OR_EQUAL", "value": low}) and \
            _numeric(float(value), {"operation": "LESS_THAN_OR_EQUAL", "value": high})
    fail(400, "A filter must set one of stringFilter, inListFilter, numericFilter, betweenFilter or "
              "emptyFilter.")
