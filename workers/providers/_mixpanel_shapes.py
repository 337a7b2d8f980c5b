"""Pure helpers of the Mixpanel client: regional hosts, expressions, export windows and result shapes."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from workers.errors import CredentialsUnavailable, MalformedResponse

#: Query/App API host and Raw Export host per data-residency region.
REGIONS: dict[str, tuple[str, str]] = {
    "us": ("mixpanel.com", "data.mixpanel.com"),
    "eu": ("eu.mixpanel.com", "data-eu.mixpanel.com"),
    "in": ("in.mixpanel.com", "data-in.mixpanel.com"),
}
#: Query host -> export host, to find the export server beside the API the client talks to.
EXPORT_HOSTS = dict(REGIONS.values())


def region_hosts(region: str | None) -> tuple[str, str]:
    """The (query, export) hosts of a region; an unknown region is a credential problem."""
    key = (region or "us").strip().lower()
    if key not in REGIONS:
        raise CredentialsUnavailable(f"mixpanel region must be one of {', '.join(REGIONS)}, not {region!r}")
    return REGIONS[key]


def prop(name: str) -> str:
    """A segmentation expression naming an event property, quoted safely."""
    return f"properties[{json.dumps(name)}]"


def equals(name: str, value: str) -> str:
    """A ``where`` expression: the property ``name`` equals ``value``."""
    return f"{prop(name)} == {json.dumps(value)}"


def windows(start: date, end: date, most: int) -> list[tuple[date, date]]:
    """``start``..``end`` cut into at most ``most`` consecutive windows of whole days."""
    days = (end - start).days + 1
    size = -(-days // most)
    return [(start + timedelta(days=d), min(end, start + timedelta(days=d + size - 1)))
            for d in range(0, days, size)]


def jsonl(text: str, what: str) -> list[dict[str, Any]]:
    """The events of a JSON-lines body; a line that is not an event object is a malformed answer."""
    events = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except ValueError:
            raise MalformedResponse(f"mixpanel answered {what} with a line that is not JSON "
                                    f"(line {n})") from None
        if not isinstance(event, dict) or "event" not in event:
            raise MalformedResponse(f"mixpanel answered {what} with a line that is not an event (line {n})")
        events.append(event)
    return events


def segmentation(data: Mapping[str, Any]) -> tuple[list[str], dict[str, dict[str, Any]]]:
    """Sorted bucket dates and ``{segment: {date: value}}`` of a segmentation answer."""
    body = data["data"]
    dates = sorted(str(d) for d in body["series"])
    values = {str(name): {d: series.get(d, 0) for d in dates} for name, series in body["values"].items()}
    return dates, values


def total(series: Mapping[str, Any]) -> float | int:
    """The sum of a series' numeric values (for unique counts: the sum of per-bucket uniques)."""
    return sum(v for v in series.values() if isinstance(v, (int, float)))


def funnel_step(step: Mapping[str, Any]) -> dict[str, Any]:
    """The useful facts of one funnel step."""
    return {"event": step.get("step_label") or step.get("event"), "count": step["count"],
            "step_conv_ratio": step.get("step_conv_ratio"),
            "overall_conv_ratio": step.get("overall_conv_ratio"),
            "avg_time": step.get("avg_time"), "avg_time_from_start": step.get("avg_time_from_start")}


def retention_cohorts(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Unsegmented retention as ``[{date, first, counts, rates}]`` in date order."""
    cohorts = []
    for day in sorted(data):
        first, counts = data[day]["first"], list(data[day]["counts"])
        rates = [round(c / first, 4) if first else 0.0 for c in counts]
        cohorts.append({"date": day, "first": first, "counts": counts, "rates": rates})
    return cohorts
