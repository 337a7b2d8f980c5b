"""The ops dashboard: queues and workers, the jobs table, one job's detail, schedules."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from config.catalog import agents
from config.messages import TERMINAL_STATUSES
from producers.api.deps import EnqueuerDep, SessionDep
from producers.api.errors import ApiError
from producers.api.routes.ops import MAX_OFFSET, job_or_404, queue_stats, scope, worker_view
from producers.api.routes.schedules import view as schedule_view
from producers.console.auth import PageCallerDep
from producers.console.render import page
from workers.store import events as event_store
from workers.store import ops
from workers.store import schedules as schedule_store
from workers.store.jobs import children
from workers.store.models import utcnow

router = APIRouter(include_in_schema=False)
#: Jobs per page of the jobs table.
PAGE_SIZE = 25
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
STATUSES = ("scheduled", "queued", "running", "retrying", "succeeded", "failed", "cancelled")
#: Time ranges offered by the jobs filter (value -> (label, hours)).
RANGES = {"": ("any time", None), "1h": ("last hour", 1), "24h": ("last 24 hours", 24), "7d": ("last 7 days", 168)}


@router.get("/ops")
def dashboard(request: Request, caller: PageCallerDep, session: SessionDep, enqueuer: EnqueuerDep,
              part: str | None = None, minutes: int = 5) -> HTMLResponse:
    """Queues per agent and the workers consuming them."""
    minutes = max(1, min(minutes, 24 * 60))
    stats = queue_stats(session, caller, enqueuer.broker, minutes)
    rows = ops.workers(session=session)
    workers = [worker_view(w, scope(caller) is None, request.app.state.settings) for w in rows]
    return page(request, "ops.html", caller, {"stats": stats, "workers": workers, "minutes": minutes,
                                              "now": utcnow(), "title": "Queues"},
                part=part if part in ("queues", "workers") else None)


def _filter(request: Request) -> tuple[ops.JobFilter, dict[str, str]]:
    # control characters dropped (PostgreSQL refuses NUL), lengths bounded like the /api route's
    q = {k: CONTROL.sub("", v).strip()[:200] for k, v in request.query_params.items()
         if k in ("agent", "integration", "action", "status", "range", "q") and CONTROL.sub("", v).strip()}
    hours = RANGES.get(q.get("range", ""), ("", None))[1]
    since = utcnow() - timedelta(hours=hours) if hours else None
    status = q.get("status") if q.get("status") in STATUSES else None
    return ops.JobFilter(agent=q.get("agent"), integration=q.get("integration"), action=q.get("action"),
                         status=status, since=since, text=q.get("q")), q


@router.get("/ops/jobs")
def jobs_page(request: Request, caller: PageCallerDep, session: SessionDep, page_no: int = 1,
              part: str | None = None) -> HTMLResponse:
    """Jobs filtered by agent, integration, action, status, time range and text, newest first, paginated."""
    where, q = _filter(request)
    page_no = max(1, min(page_no, MAX_OFFSET // PAGE_SIZE))
    rows, total = ops.search_jobs(session=session, workspace=scope(caller), where=where,
                                  offset=(page_no - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    pages = max(1, -(-total // PAGE_SIZE))
    # the body of POST /api/jobs/retry: failed jobs of this agent, integration and action, finished since
    bulk = {k: v for k, v in {"agent": where.agent, "integration": where.integration, "action": where.action,
                              "finished_after": where.since.isoformat() if where.since else None}.items() if v}
    ctx = {"jobs": rows, "total": total, "page_no": page_no, "pages": pages, "q": q, "statuses": STATUSES,
           "ranges": RANGES, "integrations": sorted({i.id for a in agents() for i in a.integrations}),
           "query": urlencode(q), "bulk": bulk, "bulk_blocked": bool(where.text), "title": "Jobs"}
    return page(request, "jobs.html", caller, ctx, part="jobs_table" if part == "jobs_table" else None)


def _timeline(session: Any, job: Any) -> list[dict[str, Any]]:
    events = event_store.since(session, workspace=job.workspace_id, job_id=job.id, limit=1000)
    if events:
        return [{"at": e.at, "type": e.type, "data": e.data or {}} for e in events]
    # before the event log has rows for this job: what its own timestamps say
    out = [{"at": job.created_at, "type": "job.created", "data": {}}]
    if job.started_at:
        out.append({"at": job.started_at, "type": "job.running", "data": {"attempt": job.attempts}})
    if job.finished_at:
        out.append({"at": job.finished_at, "type": f"job.{job.status}", "data": {}})
    return out


@router.get("/ops/jobs/{job_id}")
def job_page(job_id: str, request: Request, caller: PageCallerDep, session: SessionDep,
             part: str | None = None) -> HTMLResponse:
    """One job: params, status timeline, progress, attempts and errors, result, audit trail."""
    try:
        job = job_or_404(session, caller, job_id)
    except ApiError:  # an unknown id is a page here, not a JSON error
        return page(request, "not_found.html", caller, {"message": f"No job {job_id} in your workspace."},
                    status_code=404)
    timeline = _timeline(session, job)
    ctx = {"job": job, "timeline": timeline, "terminal": job.status in TERMINAL_STATUSES,
           "progress_steps": [t for t in timeline if t["type"] == "job.progress"],
           "attempts": getattr(job, "attempt_log", None) or [],
           "calls": list(reversed(ops.audit_rows(session=session, workspace=job.workspace_id, job_id=job.id,
                                                 limit=500))),
           "steps": children(session=session, parent_id=job.id) if job.kind == "workflow" else [],
           "title": f"Job {job.id[:12]}"}
    return page(request, "job.html", caller, ctx, part="job_body" if part == "job_body" else None)


@router.get("/ops/schedules")
def schedules_page(request: Request, caller: PageCallerDep, session: SessionDep,
                   part: str | None = None) -> HTMLResponse:
    """Schedules: next fire times (UTC and the schedule's zone), last firings and their jobs; pause, resume, run."""
    rows = schedule_store.list_schedules(session=session, workspace=caller.workspace)
    items = [{**schedule_view(r), "firings": ops.firings(session=session, schedule_id=r.id, limit=5),
              "jobs": schedule_store.produced_jobs(session=session, schedule_id=r.id, limit=5)} for r in rows]
    return page(request, "schedules.html", caller, {"items": items, "title": "Schedules"},
                part="schedules" if part == "schedules" else None)

