"""``POST /api/jobs``: submit a job. The API's hot path, so it is async end to end.

One request: authentication from the key cache and one Redis round trip (:mod:`producers.api.hotpath`);
then one database transaction (:mod:`workers.store.submit`) that checks the key is not revoked, reads
the integration's state and any job with the same idempotency key, validates the request against
the catalog and inserts the job with its outbox entry, its event and its audit row; then the message
is sent by the dispatcher thread, which clears outbox entries in batches. No ORM session, no thread
pool hop on PostgreSQL, one commit.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from sqlalchemy.engine import Connection

from config.messages import JobCreate, JobPublic
from producers.api.deps import Caller
from producers.api.errors import ApiError
from producers.api.hotpath import HotPath, authenticate, refuse_revoked
from producers.api.routes.jobs import validate_job, validate_requirements, validate_run_at
from producers.schemas import COMMON_ERRORS, errors
from workers.store import jobs as job_store
from workers.store.models import Job, utcnow
from workers.store.submit import insert_job, job_values, lookup

router = APIRouter(prefix="/api/jobs", tags=["jobs"], responses=COMMON_ERRORS)


class _Revoked(Exception):
    """The key was revoked since this process cached it (raised inside the transaction, answered 401)."""


@router.post("", status_code=202, response_model=JobPublic,
             responses={200: {"model": JobPublic, "description": "The job an earlier request with the same "
                              "idempotency key created; nothing was enqueued."}, **errors(404, 409, 501, 503)})
async def create(req: JobCreate, request: Request,
                 who: Annotated[tuple[Caller, str | None], Depends(authenticate)]) -> JSONResponse:
    """Validate and enqueue a job; a repeated idempotency key returns the original job and enqueues nothing."""
    caller, key_hash = who
    hot: HotPath = request.app.state.hot
    try:
        status, job = await hot.runner.run(submit_in_tx, req, caller, key_hash)
    except _Revoked:
        assert key_hash is not None
        raise await refuse_revoked(request, key_hash) from None
    # a scheduled job is enqueued by the scheduler when due; a queued one was committed with its outbox
    # entry: if the broker is down now, a relay sends it when it is back
    if status == 202 and job["status"] == "queued" and await hot.dispatcher.send(
            job["id"], job["workspace_id"], job["agent"], job["dispatch_at"]):
        job["dispatch_at"] = None
    return JSONResponse(job_store.to_public(Job(**job)).model_dump(mode="json"), status_code=status)


def submit_in_tx(conn: Connection, req: JobCreate, caller: Caller, key_hash: str | None, *,
                 schedule_id: str | None = None) -> tuple[int, dict[str, Any]]:
    """The whole submission in the caller's transaction: (status code, the job's columns).

    ``key_hash``: the caller's key, checked unrevoked here (None: already checked, or a console session).
    """
    found = lookup(conn, key_hash=key_hash or "", workspace=caller.workspace, agent=req.agent,
                   integration=req.integration, idempotency_key=req.idempotency_key)
    if key_hash is not None and not found.key_live:
        raise _Revoked
    if found.existing is not None:
        return 200, found.existing
    validate_job(req)
    validate_run_at(req.run_at)
    if found.status is None or found.status in ("not_configured", "disconnected"):
        raise ApiError(409, "not_configured", f"{req.agent}/{req.integration} is "
                       f"{'not configured' if found.status is None else found.status}: configure and connect it first")
    validate_requirements(req, found.fields_set)
    now = utcnow()
    later = req.run_at is not None and req.run_at > now
    job = job_values(workspace=caller.workspace, agent=req.agent, integration=req.integration, action=req.action,
                     params=req.params, idempotency_key=req.idempotency_key, run_at=req.run_at,
                     status="scheduled" if later else "queued", now=now, schedule_id=schedule_id)
    if insert_job(conn, job, actor=caller.actor, outcome="job_scheduled" if later else "job_created"):
        return 202, job
    # a concurrent request with the same key won the race: answer its job
    winner = lookup(conn, key_hash="", workspace=caller.workspace, agent=req.agent, integration=req.integration,
                    idempotency_key=req.idempotency_key).existing
    if winner is None:
        raise ApiError(409, "conflict", "a concurrent request with the same idempotency key did not commit")
    return 200, winner

