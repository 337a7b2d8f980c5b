"""Simulated Ahrefs API v3 under ``/ahrefs<base path>``: Site Explorer reports and the free limits-and-usage call.

Bearer API keys; a key starting with ``bad`` is refused with 401. Errors are JSON ``{"error": "..."}``.
List reports need ``select`` (a comma-separated column list; an unknown column is a 400) and honour
``limit`` and ``order_by`` (``column:desc``). Every answer carries Ahrefs' metering headers
(``x-api-units-cost-total``, ``x-api-units-cost-total-actual``, ``x-api-cache``) and no rate-limit headers.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from typing import Any, NoReturn

from fastapi import Request
from fastapi.responses import JSONResponse

from simulator.control import state
from simulator.generic import Sim
from simulator.providers import _ahrefs_data as data

PROVIDER = "ahrefs"
MODES = ("exact", "prefix", "domain", "subdomains")
#: Units every workspace gets per month in the simulator.
UNITS_LIMIT = 1_000_000
#: Least units a request costs.
MIN_COST = 50
SIM = Sim(PROVIDER, faults={
    401: ("Unauthorized: invalid API key", None), 403: ("Forbidden: the API key has no access to this endpoint", None),
    429: ("Too many requests", None), 400: ("Bad request", None), 500: ("Internal server error", None),
    503: ("Service temporarily unavailable", None)})
router = SIM.router()
fault_response = SIM.fault_response


def fail(status: int, message: str) -> NoReturn:
    """Answer with Ahrefs' error body."""
    SIM.fail(status, message)


def account(request: Request) -> dict[str, Any]:
    """The state of the request's bearer key; 401 when missing or refused."""
    return SIM.account(request, lambda: {"used": 0})


def _need(request: Request, name: str) -> str:
    value = request.query_params.get(name)
    if not value:
        fail(400, f"Missing required parameter: {name}")
    return value


def _target(request: Request) -> str:
    target = _need(request, "target")
    mode = request.query_params.get("mode") or "subdomains"
    if mode not in MODES:
        fail(400, f"Invalid value for parameter mode: {mode}")
    return target


def _date(request: Request) -> str:
    value = _need(request, "date")
    try:
        date.fromisoformat(value)
    except ValueError:
        fail(400, f"Invalid value for parameter date: {value}")
    return value


def _answer(request: Request, body: dict[str, Any], cost: int) -> JSONResponse:
    """The JSON answer with Ahrefs' metering headers; the units are spent."""
    acct = account(request)
    with state(request).lock:
        acct["used"] += cost
    headers = {"x-api-units-cost-total": str(cost), "x-api-units-cost-total-actual": str(cost),
               "x-api-cache": "MISS"}
    return JSONResponse(body, headers=headers)


def _sort(rows: list[dict[str, Any]], order_by: str | None) -> list[dict[str, Any]]:
    for part in reversed([p for p in (order_by or "").split(",") if p]):
        col, _, direction = part.partition(":")
        if rows and col not in rows[0]:
            fail(400, f"Invalid column in order_by: {col}")
        rows = sorted(rows, key=lambda r: (r.get(col) is None, r.get(col)), reverse=direction == "desc")
    return rows


def _list(request: Request, key: str, rows: list[dict[str, Any]]) -> JSONResponse:
    """A list report: ``select`` columns, ``order_by``, ``limit`` (``where`` must be JSON)."""
    q = request.query_params
    columns = [c for c in _need(request, "select").split(",") if c]
    known = set(rows[0]) if rows else set(columns)
    if unknown := [c for c in columns if c not in known]:
        fail(400, f"Invalid column in select: {unknown[0]}")
    if q.get("where"):
        try:
            json.loads(q["where"])
        except ValueError:
            fail(400, "Invalid value for parameter where: not a JSON filter")
    limit = int(q.get("limit") or 1000)
    page = _sort(rows, q.get("order_by"))[:limit]
    cost = max(MIN_COST, len(page) * len(columns))
    return _answer(request, {key: [{c: r.get(c) for c in columns} for r in page]}, cost)


@router.get("/subscription-info/limits-and-usage")
def limits_and_usage(request: Request) -> dict[str, Any]:
    """Plan limits and units used (free)."""
    acct = account(request)
    with state(request).lock:
        used = acct["used"]
    today = date.today()
    reset = date(today.year + today.month // 12, today.month % 12 + 1, 1).isoformat()
    return {"limits_and_usage": {"subscription": "Advanced, billed monthly", "usage_reset_date": reset,
                                 "units_limit_workspace": UNITS_LIMIT, "units_usage_workspace": used,
                                 "units_limit_api_key": None, "units_usage_api_key": used,
                                 "api_key_expiration_date": None}}


def _organic(request: Request) -> list[dict[str, Any]]:
    _date(request)
    return data.organic_keywords(_target(request), request.query_params.get("country") or "us")


def _competitors(request: Request) -> list[dict[str, Any]]:
    _date(request)
    return data.competitors(_target(request), _need(request, "country"))


#: List report -> (the answer's key, its rows).
REPORTS: dict[str, tuple[str, Callable[[Request], list[dict[str, Any]]]]] = {
    "all-backlinks": ("backlinks", lambda rq: data.backlinks(_target(rq))),
    "refdomains": ("refdomains", lambda rq: data.refdomains(_target(rq))),
    "organic-keywords": ("keywords", _organic),
    "organic-competitors": ("competitors", _competitors),
}


@router.get("/site-explorer/domain-rating")
def domain_rating(request: Request) -> JSONResponse:
    """Domain Rating and Ahrefs Rank of a target on a day."""
    target, _ = _need(request, "target"), _date(request)
    return _answer(request, {"domain_rating": data.domain_rating(target)}, MIN_COST)


@router.get("/site-explorer/metrics")
def metrics(request: Request) -> JSONResponse:
    """Organic and paid metrics of a target on a day (one country or all)."""
    target, _ = _target(request), _date(request)
    return _answer(request, {"metrics": data.metrics(target, request.query_params.get("country"))}, MIN_COST)


@router.get("/site-explorer/backlinks-stats")
def backlinks_stats(request: Request) -> JSONResponse:
    """Live and all-time backlink and referring-domain counts."""
    target, _ = _target(request), _date(request)
    return _answer(request, {"metrics": data.backlinks_stats(target)}, MIN_COST)


@router.get("/site-explorer/{report}")
def list_report(report: str, request: Request) -> JSONResponse:
    """One of the list reports (all-backlinks, refdomains, organic-keywords, organic-competitors)."""
    account(request)
    if report not in REPORTS:
        fail(404, f"Unknown endpoint: /site-explorer/{report}")
    key, build = REPORTS[report]
    return _list(request, key, build(request))
