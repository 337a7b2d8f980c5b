"""Simulated Semrush Projects API: Site Audit (launch, info, snapshots) and Position Tracking reports.

Answers JSON; errors are HTTP 400 ``{"code", "message"}``. A launched audit is RUNNING: each
``/siteaudit/info`` read crawls a third of the page limit, and the third read finds it FINISHED. Every
project starts with one finished audit from three days ago.
"""

from __future__ import annotations

import secrets
import time
from datetime import date, datetime, timedelta
from typing import Any, NoReturn

from fastapi import APIRouter, Request

from simulator.control import state
from simulator.generic import Sim
from simulator.providers._semrush_data import account, organic, phrase_metrics, rng

router = APIRouter()
PAGES_LIMIT = 500
POLLS_TO_FINISH = 3
WRONG_KEY = (120, "Wrong key-ID pair")
#: Issue ids a simulated audit finds, by severity.
ISSUE_IDS = {"errors": (1, 2, 3, 6, 8, 15), "warnings": (101, 102, 104, 110), "notices": (201, 202, 205)}


#: The Projects API answers JSON errors at the definition's paths (``message``, ``code``), all HTTP 400.
SIM = Sim("semrush")


def fail(code: int, message: str) -> NoReturn:
    """Answer with the Projects API error body."""
    SIM.fail(400, message, code)


def project_account(request: Request) -> dict[str, Any]:
    """The key's state, or the Projects API's wrong-key error."""
    return account(request, SIM.credential(request, lambda: fail(*WRONG_KEY)))


def _snapshot(project_id: int, finished_ms: int) -> dict[str, Any]:
    snap_id = secrets.token_hex(12)
    r = rng("audit", project_id, snap_id)
    out: dict[str, Any] = {"snapshot_id": snap_id, "pages_crawled": r.randint(120, PAGES_LIMIT),
                           "pages_limit": PAGES_LIMIT, "finish_date": finished_ms,
                           "quality": {"value": r.randint(55, 97), "delta": r.randint(-4, 6)},
                           "isPagesLimitReached": False}
    for severity, ids in ISSUE_IDS.items():
        out[severity] = [{"id": i, "count": r.randint(0, 60), "delta": r.randint(-5, 5),
                          "checks": r.randint(100, 500)} for i in ids]
    return out


def _project(request: Request, project_id: int) -> dict[str, Any]:
    acct = project_account(request)
    with state(request).lock:
        projects = acct["projects"]
        if project_id not in projects:
            past = int(time.time() * 1000) - 3 * 86_400_000
            projects[project_id] = {"finished": [_snapshot(project_id, past)], "running": None}
        return projects[project_id]


def _advance(project_id: int, project: dict[str, Any]) -> None:
    """One info read: the running audit crawls a third of its pages, then finishes."""
    run = project["running"]
    if run is None:
        return
    run["polls"] += 1
    if run["polls"] >= POLLS_TO_FINISH:
        snap = _snapshot(project_id, int(time.time() * 1000))
        snap["snapshot_id"] = run["snapshot_id"]
        project["finished"].append(snap)
        project["running"] = None


def _totals(snap: dict[str, Any] | None) -> dict[str, int]:
    return {s: sum(i["count"] for i in (snap or {}).get(s, [])) for s in ISSUE_IDS}


@router.post("/reports/v1/projects/{project_id}/siteaudit/launch")
def launch(project_id: int, request: Request) -> dict[str, str]:
    """Run audit: a new RUNNING snapshot (a running one is restarted)."""
    project = _project(request, project_id)
    with state(request).lock:
        project["running"] = {"snapshot_id": secrets.token_hex(12), "polls": 0}
        return {"snapshot_id": project["running"]["snapshot_id"]}


@router.get("/reports/v1/projects/{project_id}/siteaudit/info")
def info(project_id: int, request: Request) -> dict[str, Any]:
    """Campaign info: status, running crawl progress and the last finished snapshot."""
    project = _project(request, project_id)
    with state(request).lock:
        _advance(project_id, project)
        run, last = project["running"], (project["finished"] or [None])[-1]
        crawled = min(PAGES_LIMIT, run["polls"] * PAGES_LIMIT // POLLS_TO_FINISH) if run else 0
        return {"id": project_id, "name": f"Project {project_id}", "url": f"project-{project_id}.example",
                "status": "RUNNING" if run else "FINISHED", **_totals(last),
                "running_pages_crawled": crawled if run else (last or {}).get("pages_crawled", 0),
                "running_pages_limit": PAGES_LIMIT, "pages_limit": PAGES_LIMIT,
                "pages_crawled": (last or {}).get("pages_crawled", 0),
                "last_audit": (last or {}).get("finish_date", 0), "last_failed_audit": 0, "next_audit": -1,
                "mask_allow": [], "mask_disallow": [], "excluded_checks": None, "current_snapshot": last}


@router.get("/reports/v1/projects/{project_id}/siteaudit/snapshots")
def snapshots(project_id: int, request: Request) -> dict[str, Any]:
    """Finished audits, oldest first."""
    project = _project(request, project_id)
    with state(request).lock:
        return {"snapshots": [{"snapshot_id": s["snapshot_id"], "finish_date": s["finish_date"]}
                              for s in project["finished"]]}


def _domain(mask: str) -> str:
    """``*.example.com/*`` -> ``example.com``."""
    host = mask.split("://", 1)[-1].removeprefix("*.").split("/", 1)[0]
    return host.removeprefix("www.")


@router.get("/reports/v1/projects/{campaign_id}/tracking/")
def tracking(campaign_id: str, request: Request) -> dict[str, Any]:
    """``action=report&type=tracking_position_organic``: keyword positions for the tracked URL mask."""
    project_account(request)
    q = request.query_params
    if q.get("action") != "report" or q.get("type") != "tracking_position_organic":
        fail(519, "Missing mandatory URL parameter")
    mask = q.get("url") or f"*.project-{campaign_id}.example/*"
    end = _day(q.get("date_end")) or date.today() - timedelta(days=1)
    begin = _day(q.get("date_begin")) or end - timedelta(days=7)
    limit, offset = int(q.get("display_limit") or 10), int(q.get("display_offset") or 0)
    rows = [_tracked(campaign_id, mask, row, begin, end) for row in organic(_domain(mask))[:60]]
    page = rows[offset: offset + limit]
    return {"total": len(rows), "state": "0", "limit": limit, "offset": offset,
            "data": {str(n): row for n, row in enumerate(page)}}


def _day(value: str | None) -> date | None:
    return datetime.strptime(value, "%Y%m%d").date() if value else None


def _tracked(campaign_id: str, mask: str, row: dict[str, Any], begin: date, end: date) -> dict[str, Any]:
    r = rng("tracking", campaign_id, row["Ph"])
    fi = max(1, row["Po"] + r.randint(-2, 2))
    be = max(1, fi + r.randint(-5, 5))
    b, e = begin.strftime("%Y%m%d"), end.strftime("%Y%m%d")
    metrics = phrase_metrics(row["Ph"])
    return {"Pi": str(r.randint(10**17, 10**18)), "Ph": row["Ph"], "Kb": int(b), "Tg": {"0": "sintra"},
            "Cp": str(metrics["Cp"]), "Nq": str(metrics["Nq"]), "Gs": "0",
            "Dt": {b: {mask: be}, e: {mask: fi}}, "Be": {mask: be}, "Fi": {mask: fi},
            "Diff": {mask: be - fi}, "Lu": {b: {mask: row["Ur"]}, e: {mask: row["Ur"]}}}
