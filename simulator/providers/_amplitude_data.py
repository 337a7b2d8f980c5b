"""Deterministic synthetic Amplitude data: events, users, cohorts and segmentation series."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta
from typing import Any

EVENT_TYPES = ("Sign Up", "Play Song", "Add to Cart", "Purchase", "Search Song")
#: Values of the group-by properties the simulator knows (others group into "(none)").
GROUPS: dict[str, list[str]] = {
    "country": ["United States", "Germany", "France"],
    "platform": ["iOS", "Android", "Web"],
    "gp:plan": ["free", "pro"],
    "price": ["0.99", "4.99", "9.99"],
}
USERS: list[dict[str, Any]] = [
    {"amplitude_id": 356893043036, "user_id": "alice@example.com", "device_ids": ["0786zXEdyOX1rS3M-P_m1d"],
     "events": 2500, "country": "United States", "platform": "iOS"},
    {"amplitude_id": 356893043037, "user_id": "bob@example.com", "device_ids": ["dev-bob-1"], "events": 40,
     "country": "Germany", "platform": "Web"},
    {"amplitude_id": 356896327775, "user_id": "carol@example.com", "device_ids": ["dev-carol-1"], "events": 5,
     "country": "France", "platform": "Android"},
]
#: Events of one session: a page never ends in the middle of one (as Amplitude documents).
SESSION = 7
COHORTS: list[dict[str, Any]] = [
    {"id": "26umsb5", "name": "Power users", "description": "5+ sessions in 30 days", "size": 120,
     "type": "redshift", "is_predictive": False},
    {"id": "big9x1q", "name": "All active users", "description": "Any active event in 30 days", "size": 2500,
     "type": "redshift", "is_predictive": False},
    {"id": "pred7ch", "name": "Likely to churn (top 10%)", "description": "Saved from a prediction",
     "size": 80, "type": "prediction", "is_predictive": True},
]
#: Predictions synced to the Profile API.
PREDICTIONS = ("0x10x", "0x11x")
#: Cohorts larger than this are served through a redirect to a pre-signed S3 link.
INLINE_MAX = 1000
INTERVALS = {-300000: timedelta(minutes=5), -3600000: timedelta(hours=1), 1: None, 7: None, 30: None}
#: Longest range per interval (real-time 2 days, hourly 7 days, daily 365 days).
MAX_DAYS = {-300000: 2, -3600000: 7, 1: 365, 7: 365 * 2, 30: 365 * 3}


def number(*parts: Any, low: int = 10, high: int = 1000) -> int:
    """A stable pseudo-random integer in [low, high) for these parts."""
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()
    return low + int(digest[:8], 16) % (high - low)


def cohort(cohort_id: str) -> dict[str, Any] | None:
    """A full cohort object as ``/3/cohorts`` lists it."""
    base = next((c for c in COHORTS if c["id"] == cohort_id), None)
    if base is None:
        return None
    return {"appId": 153957, "archived": False, "published": True, "owners": ["owner@example.com"],
            "viewers": [], "definition": {"version": 3, "cohortType": "UNIQUES", "andClauses": []},
            "finished": True, "hidden": False, "createdAt": 1679437288, "lastMod": 1679437294,
            "lastComputed": 1679440233, "is_official_content": False, **base}


def member_csv(cohort_id: str, size: int, keys: list[str] | None) -> str:
    """The cohort file: a quoted CSV of ``amplitude_id``, ``user_id`` and any asked properties."""
    columns = ["amplitude_id", "user_id", *(keys or [])]
    lines = [",".join(f'"{c}"' for c in columns)]
    for n in range(size):
        row = [str(356800000000 + number(cohort_id, n, low=0, high=10**8)), f"user{n}@example.com"]
        row += [GROUPS.get(k, ["(none)"])[n % len(GROUPS.get(k, ["(none)"]))] for k in keys or []]
        lines.append(",".join(f'"{v}"' for v in row))
    return "\n".join(lines) + "\n"


def event(user: dict[str, Any], n: int) -> dict[str, Any]:
    """The user's n-th event counted from the most recent."""
    when = datetime(2026, 9, 10, 12, tzinfo=UTC) - timedelta(minutes=7 * n)
    return {"event_type": EVENT_TYPES[n % len(EVENT_TYPES)],
            "event_time": when.strftime("%Y-%m-%d %H:%M:%S.%f"), "event_id": user["events"] - n,
            "session_id": int(when.timestamp() * 1000) - (n % SESSION) * 1000,
            "amplitude_id": user["amplitude_id"], "user_id": user["user_id"],
            "device_id": user["device_ids"][0], "platform": user["platform"], "country": user["country"],
            "$insert_id": f"{user['amplitude_id']}-{n}",
            "event_properties": {"source": "sim", "position": n}, "user_properties": {"plan": "pro"}}


def activity(user: dict[str, Any], offset: int, limit: int, direction: str) -> list[dict[str, Any]]:
    """One page of a user's events; a page that would cut a session is extended to its end."""
    total = user["events"]
    end = min(total, offset + limit)
    while end < total and end % SESSION:
        end += 1
    order = range(offset, end) if direction == "latest" else range(total - 1 - offset, total - 1 - end, -1)
    return [event(user, n) for n in order]


def x_values(start: date, end: date, interval: int) -> list[str]:
    """Bucket labels of a segmentation for interval ``i``."""
    if step := INTERVALS[interval]:
        first = datetime(start.year, start.month, start.day)
        last = datetime(end.year, end.month, end.day, 23, 59)
        count = int((last - first) / step) + 1
        return [(first + step * k).strftime("%Y-%m-%dT%H:%M:%S") for k in range(count)]
    days = [start + timedelta(days=k) for k in range((end - start).days + 1)]
    if interval == 7:
        days = sorted({d - timedelta(days=d.weekday()) for d in days})
    elif interval == 30:
        days = sorted({d.replace(day=1) for d in days})
    return [d.isoformat() for d in days]


def propensity(prediction_id: str, amplitude_id: int, kind: str) -> float | int | None:
    """A user's propensity for a prediction synced to the Profile API (None for unknown predictions)."""
    if prediction_id not in PREDICTIONS:
        return None
    value = number(prediction_id, amplitude_id, low=0, high=10**6)
    return value * 100 // 10**6 if kind == "pct" else round(value / 10**6, 6)


def metric_value(metric: str, *parts: Any) -> int | float:
    """One bucket's value for a metric."""
    base = number(*parts)
    if metric in ("pct_dau",):
        return round(base / 1000, 4)
    if metric in ("average", "value_avg"):
        return round(1 + base / 300, 3)
    if metric == "totals":
        return base * 3
    return base
