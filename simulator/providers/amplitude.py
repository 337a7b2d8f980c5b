"""Simulated Amplitude under ``/amplitude<base path>``: Dashboard REST (``/2``), cohorts (``/3``) and the
asynchronous cohort download (``/5``: request -> request-status -> file), the User Profile API
(``/v1/userprofile``, on ``profile-api.amplitude.com`` at Amplitude, ``Api-Key`` auth) and the pre-signed
"S3" link a large cohort file redirects to (``/amplitude/s3/...``: no Amplitude auth, refused if sent any).

Basic auth ``api_key:secret_key``; a key or secret starting with ``bad`` is rejected with 401. Errors are
plain text except the 429, a small JSON object naming the limit. No rate-limit headers, as at Amplitude.
Cohort requests are kept per credential and complete on the third status poll.
"""

from __future__ import annotations

import json
import secrets
import time
from datetime import date, datetime
from typing import Any, NoReturn

from fastapi import Request, Response
from fastapi.responses import JSONResponse, RedirectResponse

from simulator.control import json_error, state
from simulator.generic import Sim
from simulator.providers import _amplitude_data as data

PROVIDER = "amplitude"
POLLS_TO_COMPLETE = 2
LINK_SECONDS = 60
METRICS = ("uniques", "totals", "pct_dau", "average", "histogram", "sums", "value_avg", "formula")
_FAULTS = {401: "Invalid API key or secret key", 403: "Forbidden: the key has no access to this project",
           500: "Internal Server Error", 503: "Service Unavailable: please retry"}
_THROTTLE = ("Too many concurrent requests: at most 5 concurrent requests across the Dashboard REST API "
             "and cohort downloads per project")


def _body(status: int, message: str, _code: str | None) -> Any:
    """Amplitude answers errors in plain text, but a 429 as a small JSON object naming the limit."""
    return {"error": {"http_code": 429, "type": "concurrent_limit", "message": message}} if status == 429 \
        else message


SIM = Sim(PROVIDER, body=_body, faults={
    401: ("Invalid API key or secret key", None), 403: ("Forbidden: the key has no access to this project", None),
    429: ("Too many concurrent requests: at most 5 concurrent requests across the Dashboard REST API "
          "and cohort downloads per project", None),
    500: ("Internal Server Error", None), 503: ("Service Unavailable: please retry", None)})
router = SIM.root_router()
BASE = SIM.base
fault_response = SIM.fault_response


def fail(status: int, message: str) -> NoReturn:
    """Answer the current request with a plain-text error."""
    SIM.fail(status, message)


def account(request: Request) -> dict[str, Any]:
    """The state of the project whose ``api_key:secret_key`` the request carries, else Amplitude's 401."""
    key = SIM.credential(request).partition(":")[0]
    return state(request).account(PROVIDER, key, lambda: {"requests": {}, "links": {}})


def day(request: Request, name: str) -> date:
    """A YYYYMMDD query parameter."""
    try:
        return datetime.strptime(request.query_params[name], "%Y%m%d").date()
    except (KeyError, ValueError):
        fail(400, f"Invalid or missing parameter {name}: expected YYYYMMDD")


def json_param(request: Request, name: str, kind: type) -> Any:
    """A JSON-encoded query parameter of the given type."""
    try:
        value = json.loads(request.query_params[name])
    except (KeyError, ValueError):
        value = None
    if not isinstance(value, kind):
        fail(400, f"Invalid parameter {name}: expected a JSON {kind.__name__}")
    return value


@router.get(BASE + "/2/events/list")
def events_list(request: Request) -> dict[str, Any]:
    """GET /2/events/list: visible event types with this week's totals."""
    account(request)
    return {"data": [{"value": e, "display": e, "totals": data.number(e, high=200000), "non_active": False,
                      "deleted": False, "hidden": False, "flow_hidden": False} for e in data.EVENT_TYPES]}


def _segments(request: Request) -> list[dict[str, Any]]:
    if "s" not in request.query_params:
        return []
    segments = json_param(request, "s", list)
    if not all(isinstance(s, dict) and s.get("prop") and isinstance(s.get("values"), list) for s in segments):
        fail(400, "Invalid segment definition s: each needs prop, op and values")
    return segments


@router.get(BASE + "/2/events/segmentation")
def segmentation(request: Request) -> dict[str, Any]:
    """GET /2/events/segmentation: a metric of one event per bucket, optionally grouped."""
    account(request)
    event, start, end, q = json_param(request, "e", dict), day(request, "start"), day(request, "end"), \
        request.query_params
    metric, segments = q.get("m") or "uniques", _segments(request)
    try:
        interval = int(q.get("i") or 1)
    except ValueError:
        interval = 0
    if not event.get("event_type") or metric not in METRICS or interval not in data.INTERVALS or end < start:
        fail(400, "Invalid request: check e.event_type, m, i, start and end")
    if (end - start).days + 1 > data.MAX_DAYS[interval]:
        fail(400, f"Date range too long for interval {interval}")
    group = q.get("g") or next((g.get("value") for g in event.get("group_by") or []), None)
    if metric in ("histogram", "sums", "value_avg") and not event.get("group_by"):
        fail(400, f"Metric {metric} needs an event property in e.group_by")
    labels = [[0, v] for v in data.GROUPS.get(group, ["(none)"])] if group else [0]
    xs = data.x_values(start, end, interval)
    series = [[data.metric_value(metric, event["event_type"], str(label), x, len(segments)) for x in xs]
              for label in labels]
    collapsed = [[{"setId": "", "value": sum(s) if metric == "totals" else max(s)}] for s in series]
    return {"data": {"series": series, "seriesLabels": labels, "seriesCollapsed": collapsed, "xValues": xs}}


@router.get(BASE + "/2/usersearch")
def usersearch(request: Request) -> dict[str, Any]:
    """GET /2/usersearch: by Amplitude id, device id, user id or user id prefix."""
    account(request)
    query = request.query_params.get("user") or fail(400, "Missing parameter user")
    for kind, test in (("match_amplitude_id", lambda u: str(u["amplitude_id"]) == query),
                       ("match_user_or_device_id",
                        lambda u: query == u["user_id"] or query in u["device_ids"]),
                       ("match_user_prefix", lambda u: u["user_id"].startswith(query))):
        found = [{"user_id": u["user_id"], "amplitude_id": u["amplitude_id"],
                  "last_seen": "2026-09-10", "platform": u["platform"], "country": u["country"]}
                 for u in data.USERS if test(u)]
        if found:
            return {"type": kind, "matches": found}
    return {"type": "nomatch", "matches": []}


@router.get(BASE + "/2/useractivity")
def useractivity(request: Request) -> dict[str, Any]:
    """GET /2/useractivity: the user's summary and one page of events (offset, limit <= 1000)."""
    account(request)
    q = request.query_params
    user = next((u for u in data.USERS if str(u["amplitude_id"]) == q.get("user")), None)
    if user is None:
        fail(400, "Invalid user: pass an existing Amplitude ID")
    try:
        offset, limit = int(q.get("offset") or 0), int(q.get("limit") or 1000)
    except ValueError:
        offset, limit = -1, 0
    direction = q.get("direction") or "latest"
    if offset < 0 or not 0 < limit <= 1000 or direction not in ("latest", "earliest"):
        fail(400, "Invalid offset, limit (1..1000) or direction (latest, earliest)")
    summary = {"user_id": user["user_id"], "canonical_amplitude_id": user["amplitude_id"],
               "merged_amplitude_ids": [], "num_events": user["events"], "num_sessions": user["events"] // 7,
               "first_used": "2025-03-14", "last_used": "2026-09-10", "platform": user["platform"],
               "country": user["country"], "device_ids": user["device_ids"], "properties": {"plan": "pro"}}
    return {"userData": summary, "events": data.activity(user, offset, limit, direction)}


@router.get(BASE + "/v1/userprofile")
def userprofile(request: Request) -> Response:
    """GET /v1/userprofile?get_propensity=true: a user's propensities for synced predictions."""
    scheme, _, secret = request.headers.get("authorization", "").partition(" ")
    if scheme != "Api-Key" or not secret.strip():
        return SIM.error(401, "Missing Api-Key in Authorization header")
    if secret.startswith("bad"):
        return SIM.error(401, "Invalid Api-Key")
    q = request.query_params
    user = next((u for u in data.USERS if q.get("user_id") == u["user_id"]
                 or q.get("device_id") in u["device_ids"]), None)
    if user is None:
        return json_error(400, {"error": "User id and device id not seen before"})
    kind = q.get("propensity_type") or "score"
    wanted = (q.get("prediction_id") or "").split(",") if q.get("get_propensity") == "true" else []
    found = [{"prop": data.propensity(pred, user["amplitude_id"], kind), "pred_id": pred, "prop_type": kind}
             for pred in wanted if pred]
    return JSONResponse({"userData": {
        "recommendations": None, "user_id": user["user_id"], "device_id": q.get("device_id"),
        "amp_props": None, "cohort_ids": None, "propensity": found[0]["prop"] if len(found) == 1 else None,
        "propensities": found}})


@router.get(BASE + "/3/cohorts")
def cohorts(request: Request) -> dict[str, Any]:
    """GET /3/cohorts: every discoverable cohort."""
    account(request)
    return {"cohorts": [data.cohort(c["id"]) for c in data.COHORTS]}


@router.get(BASE + "/5/cohorts/request/{cohort_id}", status_code=202)
def request_cohort(cohort_id: str, request: Request) -> dict[str, Any]:
    """GET /5/cohorts/request/{id}: start an export; 202 with its request id."""
    acct, found = account(request), data.cohort(cohort_id)
    if found is None:
        fail(404, f"Cohort {cohort_id} not found")
    keys = request.query_params.getlist("propKeys")
    props = request.query_params.get("props") == "1"
    request_id = secrets.token_urlsafe(4)
    with state(request).lock:
        acct["requests"][request_id] = {"cohort_id": cohort_id, "polls": 0, "size": found["size"],
                                        "keys": keys or (["country", "platform"] if props else [])}
    return {"request_id": request_id, "cohort_id": cohort_id}


def _request(acct: dict[str, Any], request_id: str) -> dict[str, Any]:
    job = acct["requests"].get(request_id)
    if job is None:
        fail(404, f"Request {request_id} not found")
    return job


@router.get(BASE + "/5/cohorts/request-status/{request_id}")
def request_status(request_id: str, request: Request) -> JSONResponse:
    """GET /5/cohorts/request-status/{id}: 202 JOB INPROGRESS, then 200 JOB COMPLETED."""
    acct = account(request)
    with state(request).lock:
        job = _request(acct, request_id)
        job["polls"] += 1
        done = job["polls"] > POLLS_TO_COMPLETE
    body = {"request_id": request_id, "cohort_id": job["cohort_id"],
            "async_status": "JOB COMPLETED" if done else "JOB INPROGRESS"}
    return JSONResponse(body, status_code=200 if done else 202)


@router.get(BASE + "/5/cohorts/request/{request_id}/file")
def cohort_file(request_id: str, request: Request) -> Response:
    """GET /5/cohorts/request/{id}/file: the CSV inline, or a 302 to a one-minute S3 link when large."""
    acct = account(request)
    with state(request).lock:
        job = _request(acct, request_id)
        if job["polls"] <= POLLS_TO_COMPLETE:
            fail(400, f"Request {request_id} has not completed yet")
        if job["size"] <= data.INLINE_MAX:
            return _csv(job)
        token = secrets.token_hex(16)
        state(request).account(PROVIDER, "_s3", dict)[token] = (job, time.time() + LINK_SECONDS)
    url = (f"/amplitude/s3/cohort-exports/{request_id}.csv?X-Amz-Expires={LINK_SECONDS}"
           f"&X-Amz-Signature={token}")
    return RedirectResponse(url, status_code=302)


def _s3_error(status: int, code: str, message: str) -> Response:
    body = (f'<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{code}</Code><Message>{message}</Message></Error>")
    return Response(body, status_code=status, media_type="application/xml")


@router.get("/s3/cohort-exports/{name}")
def s3_object(name: str, request: Request) -> Response:
    """The pre-signed S3 object (another host at Amplitude): no auth header allowed, link lives a minute."""
    if request.headers.get("authorization"):
        return _s3_error(400, "InvalidArgument", "Only one auth mechanism allowed")
    with state(request).lock:
        job, expires = state(request).account(PROVIDER, "_s3", dict).get(
            request.query_params.get("X-Amz-Signature", ""), (None, 0.0))
    if job is None or expires < time.time():
        return _s3_error(403, "AccessDenied", "Request has expired")
    return _csv(job)


def _csv(job: dict[str, Any]) -> Response:
    return Response(data.member_csv(job["cohort_id"], job["size"], job["keys"]), media_type="text/csv")


@router.api_route(BASE + "/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                  include_in_schema=False)
def unknown(rest: str, request: Request) -> Response:
    """Any other path: 404."""
    account(request)
    fail(404, "Not Found")
