"""Simulated Mixpanel under ``/mixpanel<base path>``: App API ``/app/me``, Query API ``/query/*`` and the Raw
Export (``/2.0/export``, served here beside the Query API instead of on ``data.mixpanel.com``).

Service-account Basic auth; a secret starting with ``bad`` is rejected with 401. Errors are
``{"error": ..., "status": "error"}``. No rate-limit headers, as at Mixpanel. Data is synthetic and
deterministic; projects ``12345`` and ``67890`` exist, bookmarks 1001/1002 and funnels 7509/9070.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any, NoReturn

from fastapi import Request, Response
from fastapi.responses import JSONResponse

from simulator.generic import Sim
from simulator.providers import _mixpanel_data as data

PROVIDER = "mixpanel"
#: Mixpanel's ``{"error", "status": "error"}`` is what the definition's paths build.
SIM = Sim(PROVIDER, faults={
    401: ("Invalid credentials: the service account username or secret is wrong", None),
    403: ("You do not have permission to access this project", None),
    429: ("Rate limit exceeded: your project is limited to 60 queries per hour and 5 concurrent queries", None),
    500: ("An internal error occurred; please retry", None),
    503: ("The service is temporarily unavailable; please retry", None)})
router = SIM.router()
fault_response = SIM.fault_response
EXPORT_MAX = 100_000


def fail(status: int, message: str) -> NoReturn:
    """Answer the current request with a Mixpanel error."""
    SIM.fail(status, message)


def authenticate(request: Request) -> str:
    """The service-account username of a valid Basic auth header, else Mixpanel's 401."""
    return SIM.credential(request).partition(":")[0]


def project(request: Request) -> str:
    """Authenticate and check ``project_id`` as the Query API does for service accounts."""
    authenticate(request)
    project_id = request.query_params.get("project_id")
    if not project_id:
        fail(400, "project_id is required when authenticating with a service account")
    if project_id not in data.PROJECTS:
        fail(403, f"You do not have access to project {project_id}")
    return project_id


def dates(request: Request) -> tuple[date, date]:
    """``from_date``/``to_date`` (yyyy-mm-dd, inclusive) or a 400."""
    q = request.query_params
    try:
        first, last = date.fromisoformat(q["from_date"]), date.fromisoformat(q["to_date"])
    except (KeyError, ValueError):
        fail(400, "from_date and to_date are required, formatted yyyy-mm-dd")
    if last < first:
        fail(400, "to_date must not be before from_date")
    return first, last


def choice(request: Request, name: str, allowed: tuple[str, ...], default: str) -> str:
    """A query parameter restricted to ``allowed``."""
    value = request.query_params.get(name) or default
    if value not in allowed:
        fail(400, f"{name} must be one of {', '.join(allowed)}")
    return value


def check_where(request: Request, name: str = "where") -> str | None:
    """An expression parameter; unbalanced quotes are a syntax error."""
    where = request.query_params.get(name)
    if where is not None and where.count('"') % 2:
        fail(400, f"Failed to parse expression in {name}: unterminated string")
    return where


@router.get("/app/me")
def me(request: Request) -> dict[str, Any]:
    """GET /app/me: the service account and the projects it can read."""
    user = authenticate(request)
    return {"status": "ok", "results": {
        "user_id": data.number(user, high=99999), "user_name": user, "user_email": f"{user}@serviceaccount",
        "projects": {pid: {"name": name, "organization_id": 4321, "timezone": "UTC"}
                     for pid, name in data.PROJECTS.items()}}}


@router.get("/query/segmentation")
def segmentation(request: Request) -> dict[str, Any]:
    """GET /query/segmentation: one event over time, optionally split by a property."""
    pid, (first, last) = project(request), dates(request)
    q = request.query_params
    if not q.get("event"):
        fail(400, "event is required")
    unit = choice(request, "unit", ("minute", "hour", "day", "month"), "day")
    kind = choice(request, "type", ("general", "unique", "average"), "general")
    where = check_where(request)
    labels = data.buckets(first, last, unit)
    if len(labels) > data.MAX_BUCKETS:
        fail(400, f"Too many {unit} buckets requested; narrow the date range")
    names = data.segment_values(q.get("on"), q["event"])
    values = {name: {b: data.value(kind, pid, q["event"], name, b, where) for b in labels} for name in names}
    return {"data": {"series": labels, "values": values}, "legend_size": len(values)}


@router.get("/query/insights")
def insights(request: Request) -> dict[str, Any]:
    """GET /query/insights: a saved report's series."""
    pid = project(request)
    try:
        events = data.BOOKMARKS[int(request.query_params.get("bookmark_id", ""))]
    except (KeyError, ValueError):
        fail(400, "bookmark_id does not match a saved Insights report in this project")
    weeks = ["2026-08-31T00:00:00+00:00", "2026-09-07T00:00:00+00:00"]
    return {"computed_at": datetime.now(UTC).isoformat(), "headers": ["$event"],
            "date_range": {"from_date": weeks[0], "to_date": "2026-09-13T23:59:59.999000+00:00"},
            "series": {e: {w: data.number(pid, e, w, high=20000) for w in weeks} for e in events}}


@router.get("/query/funnels")
def funnels(request: Request) -> dict[str, Any]:
    """GET /query/funnels: a saved funnel's steps per date bucket."""
    pid, (first, last) = project(request), dates(request)
    try:
        steps = data.FUNNELS[int(request.query_params.get("funnel_id", ""))]
    except (KeyError, ValueError):
        fail(400, "funnel_id does not match a saved funnel in this project")
    choice(request, "length_unit", ("second", "minute", "hour", "day"), "day")
    unit, on = choice(request, "unit", ("day", "week", "month"), "day"), request.query_params.get("on")
    where, labels = check_where(request), data.buckets(first, last, unit)
    if on:
        values = data.segment_values(on, "")
        body = {b: {v: data.funnel(steps, pid, b, v, where) for v in values} for b in labels}
    else:
        body = {b: data.funnel(steps, pid, b, where) for b in labels}
    return {"meta": {"dates": labels}, "data": body}


@router.get("/query/retention")
def retention(request: Request) -> dict[str, Any]:
    """GET /query/retention: cohorts by the day (week, month) users did ``born_event``."""
    pid, (first, last) = project(request), dates(request)
    q = request.query_params
    kind = choice(request, "retention_type", ("birth", "compounded"), "birth")
    if kind == "birth" and not q.get("born_event"):
        fail(400, "born_event is required for birth retention")
    unit = choice(request, "unit", ("day", "week", "month"), "day")
    try:
        intervals = int(q.get("interval_count") or 1)
    except ValueError:
        fail(400, "interval_count must be an integer")
    parts = (pid, kind, q.get("born_event"), q.get("event"), check_where(request))
    if q.get("on"):
        values = data.segment_values(q["on"], "")
        return {v: data.retention(first, last, unit, intervals, *parts, v) for v in values}
    return data.retention(first, last, unit, intervals, *parts)


@router.get("/2.0/export")
def export(request: Request) -> Response:
    """GET /2.0/export (on data.mixpanel.com at Mixpanel): raw events as JSON lines."""
    project(request)
    first, last = dates(request)
    q = request.query_params
    if "workspace_id" in q:  # a Query API parameter; the published Export API has no such parameter
        fail(400, "workspace_id is not a parameter of the Export API (project_id, from_date, to_date, event, "
                  "where, limit)")
    try:
        wanted = json.loads(q["event"]) if q.get("event") else None
        limit = int(q.get("limit") or EXPORT_MAX)
    except ValueError:
        fail(400, "event must be a JSON array of event names and limit an integer")
    if (wanted is not None and not isinstance(wanted, list)) or not 0 < limit <= EXPORT_MAX:
        fail(400, f"event must be a JSON array and limit between 1 and {EXPORT_MAX}")
    where = data.equality(check_where(request))
    lines: list[str] = []
    for day in data.days(first, last):
        for event in data.raw_events(day, wanted, where):
            if len(lines) >= limit:
                break
            lines.append(json.dumps(event, separators=(",", ":")))
    return Response("\n".join(lines) + ("\n" if lines else ""), media_type="text/plain; charset=utf-8")


@router.api_route("/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
def unknown(rest: str, request: Request) -> JSONResponse:
    """Any other path: 404."""
    authenticate(request)
    fail(404, f"Unknown endpoint /api/{rest}")
