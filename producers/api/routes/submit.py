"""``POST /api/jobs``: submit a job. The API's hot path, so it is async end to end.

One request: authentication from the key cache and one Redis round trip (:mod:`producers.api.hotpath`);
then the database work (:mod:`workers.store.submit`): check the key is not revoked, read the
integration's state and any job with the same idempotency key, validate the request against the
catalog and insert the job with its outbox entry, its event and its audit row. On PostgreSQL that is
group-committed (:class:`producers.api.aio.GroupCommit`): the submissions that arrive while a batch is
in flight share one lookup and one insert statement, each answered only after its own row committed.
Then the messages of the jobs committed together are sent together and their outbox entries cleared
in one statement (:mod:`producers.api.dispatcher`: on the event loop with Redis and PostgreSQL, else
by the dispatcher thread). No ORM session, no thread pool hop on PostgreSQL.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Annotated, Any, cast

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.engine import Connection

from config.messages import JobCreate, JobPublic
from producers.api.deps import Caller
from producers.api.dispatcher import Pending
from producers.api.errors import ApiError
from producers.api.hotpath import OPENAPI_SECURITY, HotPath, authenticate, refuse_revoked
from producers.api.routes.jobs import validate_job, validate_requirements, validate_run_at
from producers.schemas import COMMON_ERRORS, errors
from workers.store import jobs as job_store
from workers.store.models import Job, utcnow
from workers.store.submit import Ask, Lookup, insert_job, insert_jobs, job_values, lookup, lookup_many

router = APIRouter(prefix="/api/jobs", tags=["jobs"], responses=COMMON_ERRORS)


class _Revoked(Exception):
    """The key was revoked since this process cached it (raised inside the transaction, answered 401)."""


@router.post("", status_code=202, response_model=JobPublic, openapi_extra=OPENAPI_SECURITY,
             responses={200: {"model": JobPublic, "description": "The job an earlier request with the same "
                              "idempotency key created; nothing was enqueued."}, **errors(404, 409, 501, 503)})
async def create(req: JobCreate, request: Request,
                 who: Annotated[tuple[Caller, str | None], Depends(authenticate)]) -> Response:
    """Validate and enqueue a job; a repeated idempotency key returns the original job and enqueues nothing."""
    caller, key_hash = who
    hot: HotPath = request.app.state.hot
    try:
        status, job = await hot.commits.run(req, caller, key_hash)
    except _Revoked:
        assert key_hash is not None
        raise await refuse_revoked(request, key_hash) from None
    # a scheduled job is enqueued by the scheduler when due; a queued one was committed with its outbox
    # entry: if the broker is down now, a relay sends it when it is back
    if status == 202 and job["status"] == "queued" and await hot.sends.call(
            Pending(job["id"], job["workspace_id"], job["agent"], job["dispatch_at"])):
        job["dispatch_at"] = None
    # the columns read as attributes (a new job's row lacks those it leaves NULL): building a table-model
    # ``Job`` costs more than the rest of the answer; pydantic writes the JSON itself
    public = job_store.to_public(cast(Job, SimpleNamespace(**{**_UNSET, **job})))
    return Response(public.model_dump_json(), status_code=status, media_type="application/json")


#: The job columns a new submission's row leaves NULL (or empty).
_UNSET: dict[str, Any] = {"result": None, "error": None, "progress": None, "parent_id": None, "attempt_log": None,
                          "not_before": None, "cancel_requested_at": None, "started_at": None, "finished_at": None}


def submit_in_tx(conn: Connection, req: JobCreate, caller: Caller, key_hash: str | None, *,
                 schedule_id: str | None = None) -> tuple[int, dict[str, Any]]:
    """The whole submission in the caller's transaction: (status code, the job's columns).

    ``key_hash``: the caller's key, checked unrevoked here (None: already checked, or a console session).
    """
    found = lookup(conn, key_hash=key_hash or "", workspace=caller.workspace, agent=req.agent,
                   integration=req.integration, idempotency_key=req.idempotency_key)
    status, job = _decide(found, req, caller, key_hash, schedule_id)
    if status:
        return status, job
    if insert_job(conn, job, actor=caller.actor, outcome=_outcome(job)):
        return 202, job
    return 200, _winner(conn, req, caller)


def submit_many_in_tx(conn: Connection, items: list[tuple[JobCreate, Caller, str | None]],
                      ) -> list[tuple[int, dict[str, Any]] | Exception]:
    """:func:`submit_in_tx` for many submissions with one lookup and one insert statement (group commit).

    Each answer is its submission's own: its (status, job), or the exception its request raises (a
    refusal changes nothing: only the accepted submissions' rows are inserted).
    """
    found = lookup_many(conn, [Ask(key_hash or "", caller.workspace, req.agent, req.integration,
                                   req.idempotency_key) for req, caller, key_hash in items])
    out: list[tuple[int, dict[str, Any]] | Exception] = []
    for (req, caller, key_hash), f in zip(items, found, strict=True):
        try:
            out.append(_decide(f, req, caller, key_hash, None))
        except Exception as exc:  # noqa: BLE001 - this submission's own refusal, raised in its request
            out.append(exc)
    new = [(i, r[1]) for i, r in enumerate(out) if isinstance(r, tuple) and r[0] == 0]
    inserted = insert_jobs(conn, [(job, items[i][1].actor, _outcome(job)) for i, job in new])
    for i, job in new:
        try:
            out[i] = (202, job) if job["id"] in inserted else (200, _winner(conn, items[i][0], items[i][1]))
        except Exception as exc:  # noqa: BLE001
            out[i] = exc
    return out


def _decide(found: Lookup, req: JobCreate, caller: Caller, key_hash: str | None,
            schedule_id: str | None) -> tuple[int, dict[str, Any]]:
    """(200, the earlier job of this idempotency key), or (0, the new job's columns); raise a refusal."""
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
    return 0, job_values(workspace=caller.workspace, agent=req.agent, integration=req.integration,
                         action=req.action, params=req.params, idempotency_key=req.idempotency_key,
                         run_at=req.run_at, status="scheduled" if later else "queued", now=now,
                         schedule_id=schedule_id)


def _outcome(job: dict[str, Any]) -> str:
    return "job_scheduled" if job["status"] == "scheduled" else "job_created"


def _winner(conn: Connection, req: JobCreate, caller: Caller) -> dict[str, Any]:
    """The job of a concurrent request with the same idempotency key, which won the race."""
    winner = lookup(conn, key_hash="", workspace=caller.workspace, agent=req.agent, integration=req.integration,
                    idempotency_key=req.idempotency_key).existing
    if winner is None:
        raise ApiError(409, "conflict", "a concurrent request with the same idempotency key did not commit")
    return winner
