"""Deterministic synthetic Mixpanel data: buckets, counts, saved reports and raw events."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

EVENTS = ("Signed up", "Viewed page", "Purchase", "App Open")
#: Known values of a few properties (anything else segments into "undefined").
VALUES: dict[str, list[str]] = {
    "$browser": ["Chrome", "Safari", "Firefox"],
    "$country_code": ["US", "DE", "FR", "IN"],
    "Variant name": ["control", "variant_a"],
    "Experiment name": ["Checkout test", "Pricing test"],
    "plan": ["free", "pro"],
}
#: Saved Insights reports (bookmark id -> events shown).
BOOKMARKS = {1001: ["Signed up", "Viewed page"], 1002: ["Purchase"]}
#: Saved funnels (funnel id -> steps).
FUNNELS = {7509: ["App Open", "Signed up", "Purchase"], 9070: ["Viewed page", "Purchase"]}
#: Projects every simulated service account can read.
PROJECTS = {"12345": "Simulated project", "67890": "Simulated sandbox"}
EVENTS_PER_DAY = 30
MAX_BUCKETS = 2000
_PROP = re.compile(r'properties\["((?:[^"\\]|\\.)*)"\]')
_EQUALS = re.compile(r'^\s*properties\["((?:[^"\\]|\\.)*)"\]\s*==\s*"((?:[^"\\]|\\.)*)"\s*$')


def number(*parts: Any, low: int = 10, high: int = 1000) -> int:
    """A stable pseudo-random integer in [low, high) for these parts."""
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()
    return low + int(digest[:8], 16) % (high - low)


def days(first: date, last: date) -> list[date]:
    """Every day from ``first`` to ``last``."""
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def buckets(first: date, last: date, unit: str) -> list[str]:
    """Bucket labels as the Query API writes them for ``unit``."""
    if unit == "month":
        return sorted({d.replace(day=1).isoformat() for d in days(first, last)})
    if unit == "week":
        return sorted({(d - timedelta(days=d.weekday())).isoformat() for d in days(first, last)})
    if unit == "hour":
        return [f"{d.isoformat()} {h:02d}:00:00" for d in days(first, last) for h in range(24)]
    if unit == "minute":
        return [f"{d.isoformat()} {h:02d}:{m:02d}:00" for d in days(first, last) for h in range(24)
                for m in range(60)]
    return [d.isoformat() for d in days(first, last)]


def property_of(expression: str | None) -> str | None:
    """The property named in a ``properties["..."]`` expression."""
    match = _PROP.search(expression or "")
    return json.loads(f'"{match.group(1)}"') if match else None


def equality(where: str | None) -> tuple[str, str] | None:
    """(property, value) of a ``properties["p"] == "v"`` filter, else None."""
    match = _EQUALS.match(where or "")
    return (json.loads(f'"{match.group(1)}"'), json.loads(f'"{match.group(2)}"')) if match else None


def segment_values(on: str | None, event: str) -> list[str]:
    """The series names of a segmentation: the event itself, or the values of the ``on`` property."""
    if not on:
        return [event]
    return VALUES.get(property_of(on) or "", ["undefined"])


def value(kind: str, *parts: Any) -> int | float:
    """A count for one bucket: totals, uniques (fewer) or an average per user."""
    base = number(*parts)
    if kind == "unique":
        return base // 3
    if kind == "average":
        return round(1 + base / 400, 2)
    return base


def funnel(steps: list[str], *parts: Any) -> dict[str, Any]:
    """One date's funnel: step counts falling off, with conversion ratios."""
    out: list[dict[str, Any]] = []
    start, count = number(*parts, low=500, high=2000), 0
    for n, event in enumerate(steps):
        count = start if n == 0 else count * number(*parts, n, low=40, high=90) // 100
        out.append({"count": count, "avg_time": None if n == 0 else number(*parts, "t", n, high=900),
                    "avg_time_from_start": None if n == 0 else number(*parts, "s", n, high=1800),
                    "step_conv_ratio": 1 if n == 0 else round(count / out[-1]["count"], 4),
                    "overall_conv_ratio": round(count / start, 4), "goal": event, "event": event,
                    "step_label": event})
    worst = min(range(1, len(out)), key=lambda i: out[i]["step_conv_ratio"]) if len(out) > 1 else 0
    return {"steps": out, "analysis": {"completion": out[-1]["count"], "starting_amount": start,
                                       "steps": len(out), "worst": worst}}


def retention(first: date, last: date, unit: str, intervals: int, *parts: Any) -> dict[str, Any]:
    """Retention cohorts ``{date: {counts, first}}`` for each bucket."""
    out = {}
    for label in buckets(first, last, unit):
        size = number(label, *parts, low=100, high=1000)
        counts, left = [], size
        for n in range(intervals + 1):
            left = left * number(label, n, *parts, low=30, high=95) // 100
            counts.append(left)
        out[label] = {"counts": counts, "first": size}
    return out


def raw_events(day: date, wanted: list[str] | None, where: tuple[str, str] | None) -> list[dict[str, Any]]:
    """One day's raw events as the export writes them."""
    out = []
    start = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())
    for n in range(EVENTS_PER_DAY):
        name = EVENTS[n % len(EVENTS)]
        props = {"time": start + n * 2800, "distinct_id": f"user-{number(day, n, high=60)}",
                 "$insert_id": hashlib.sha256(f"{day}{n}".encode()).hexdigest()[:32],
                 "mp_processing_time_ms": (start + n * 2800) * 1000 + 512,
                 "$browser": VALUES["$browser"][n % 3], "Experiment name": VALUES["Experiment name"][n % 2],
                 "Variant name": VALUES["Variant name"][(n // 2) % 2]}
        if (wanted and name not in wanted) or (where and str(props.get(where[0])) != where[1]):
            continue
        out.append({"event": name, "properties": props})
    return out
