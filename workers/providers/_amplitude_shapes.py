"""Pure helpers of the Amplitude client: hosts, query encodings and result shapes."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from datetime import date
from typing import Any

from workers.errors import CredentialsUnavailable, MalformedResponse

#: Dashboard REST base per data-residency region (``analytics.amplitude.com`` is the web app, not the API).
REGIONS = {"us": "https://amplitude.com", "eu": "https://analytics.eu.amplitude.com"}
#: The ``i`` parameter of Event Segmentation per catalog interval.
INTERVALS = {"realtime": -300000, "hourly": -3600000, "daily": 1, "weekly": 7, "monthly": 30}
#: Metrics computed on an event property: they need the property as the event's group-by.
PROPERTY_METRICS = frozenset({"histogram", "sums", "value_avg"})
#: Fields of a cohort worth returning (the definition is Amplitude-internal and bulky).
COHORT_FIELDS = ("id", "name", "description", "size", "type", "archived", "published", "is_predictive",
                 "owners", "createdAt", "lastMod", "lastComputed")
EVENT_FIELDS = ("event_type", "event_time", "session_id", "event_id", "platform", "country", "device_id",
                "event_properties")


def region_host(region: str | None) -> str:
    """The REST host of a region; an unknown region is a credential problem."""
    key = (region or "us").strip().lower()
    if key not in REGIONS:
        raise CredentialsUnavailable(f"amplitude region must be one of {', '.join(REGIONS)}, not {region!r}")
    return REGIONS[key]


def ymd(day: date) -> str:
    """A date as the Dashboard REST API wants it (YYYYMMDD)."""
    return day.strftime("%Y%m%d")


def compact(value: Any) -> str:
    """JSON without spaces, for query parameters."""
    return json.dumps(value, separators=(",", ":"))


def label(value: Any, default: str) -> str:
    """A series label: grouped series are ``[segment index, group value]``, others a bare index."""
    if isinstance(value, list) and value:
        return str(value[-1])
    return default


def segmentation_series(data: Mapping[str, Any], default: str) -> tuple[list[str], list[dict[str, Any]]]:
    """``xValues`` and one ``{label, values, collapsed}`` per series of an Event Segmentation answer."""
    x_values = [str(x) for x in data["xValues"]]
    labels, collapsed = data.get("seriesLabels") or [], data.get("seriesCollapsed") or []
    out = []
    for n, series in enumerate(data["series"]):
        total = collapsed[n][0].get("value") if n < len(collapsed) and collapsed[n] else None
        out.append({"label": label(labels[n] if n < len(labels) else None, default),
                    "values": dict(zip(x_values, series, strict=False)), "collapsed": total})
    return x_values, out


def cohort_summary(cohort: Mapping[str, Any]) -> dict[str, Any]:
    """The useful, non-bulky facts of a cohort."""
    return {k: cohort.get(k) for k in COHORT_FIELDS} | {"id": cohort["id"]}


def event_summary(event: Mapping[str, Any]) -> dict[str, Any]:
    """The useful facts of one event of a user's stream."""
    return {k: event.get(k) for k in EVENT_FIELDS} | {"event_type": event["event_type"]}


def members(text: str, limit: int) -> tuple[list[str], list[dict[str, str]], int]:
    """Columns, the first ``limit`` member rows and the member count of a cohort file (CSV)."""
    reader = csv.reader(io.StringIO(text))
    header = [h.strip() for h in next(reader, [])]
    if not {"amplitude_id", "user_id"} & set(header):
        raise MalformedResponse("amplitude answered the cohort file without an amplitude_id/user_id header")
    rows: list[dict[str, str]] = []
    count = 0
    for row in reader:
        if not row:
            continue
        count += 1
        if len(rows) < limit:
            rows.append(dict(zip(header, row, strict=False)))
    return header, rows, count
