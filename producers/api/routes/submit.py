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

import inspect
import json
from types import SimpleNamespace
from typing import Annotated, Any, cast

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.engine import Connection

from config.messages import JobCreate, JobPublic
from producers.api.deps import Caller
from producers.api.dispatcher import Pending
from producers.api.errors import ApiError
from producers.api.hotpath import OPENAPI_SECURITY, HotPath, admit_known, authenticate, parse_bearer, refuse_revoked
from producers.api.limits import check_body
from producers.api.routes.jobs import validate_job, validate_requirements, validate_run_at
from producers.schemas import COMMON_ERRORS, errors
from workers.store import jobs as job_store
from workers.store.keys import hash_key
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
    status, body = await submit(request.app, request.client.host if request.client else "unknown", req, caller,
                                key_hash)
    return Response(body, status_code=status, media_type="application/json")


async def submit(app: Any, ip: str, req: JobCreate, caller: Caller, key_hash: str | None) -> tuple[int, bytes]:
    """The route's work once the caller is admitted: (status code, the JSON answer)."""
    hot: HotPath = app.state.hot
    try:
        status, job = await hot.commits.run(req, caller, key_hash)
    except _Revoked:
        assert key_hash is not None
        raise await refuse_revoked(app, ip, key_hash) from None
    # a scheduled job is enqueued by the scheduler when due; a queued one was committed with its outbox
    # entry: if the broker is down now, a relay sends it when it is back
    if status == 202 and job["status"] == "queued" and await hot.sends.call(
            Pending(job["id"], job["workspace_id"], job["agent"], job["dispatch_at"])):
        job["dispatch_at"] = None
    # the columns read as attributes (a new job's row lacks those it leaves NULL): building a table-model
    # ``Job`` costs more than the rest of the answer; pydantic writes the JSON itself
    public = job_store.to_public(cast(Job, SimpleNamespace(**{**_UNSET, **job})))
    return status, public.model_dump_json().encode()


class FastSubmit:
    """``POST /api/jobs`` answered without FastAPI's request handling, when the request is a plain one.

    Why: routing, dependency resolution, the body read and parsed twice (``check_inputs`` and the body
    parameter) and the response machinery cost ~0.15 ms of CPU per submission, as much as the database
    and broker work of a group commit. A plain request: ``Content-Type: application/json``, no query
    string, a body that parses, passes :func:`~producers.api.limits.check_body` and validates as a
    ``JobCreate``, and a bearer key in the key cache. It then goes through exactly what the route does
    (:func:`~producers.api.hotpath.admit_known`, then :func:`submit`) and gets the same answer, errors
    through the app's own exception handlers. Anything else (a first request of a key, a console
    session, a bad or odd body, tracing on) goes to the app unchanged, with the body replayed: every
    refusal is the route's own, in the route's order (authentication first), and nothing was counted
    or changed before it. The route stays in the app, so the OpenAPI document still describes it.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        # with telemetry on, FastAPI's router names the request's span after the route: let it route
        if (scope["type"] != "http" or scope["path"] != "/api/jobs" or scope["method"] != "POST"
                or scope.get("query_string") or scope.get("root_path") or "fastapi.telemetry" in scope):
            return await self.app(scope, receive, send)
        auth = ctype = None
        for name, value in scope["headers"]:
            if name == b"authorization" and auth is None:
                auth = value
            elif name == b"content-type" and ctype is None:
                ctype = value
        key = parse_bearer(auth.decode("latin-1")) if auth is not None and ctype == b"application/json" else None
        key_hash = hash_key(key) if key is not None else ""
        known = scope["app"].state.hot.keys.get(key_hash) if key is not None else None
        if key is None or known is None:
            return await self.app(scope, receive, send)
        messages: list[dict[str, Any]] = []
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                return await self.app(scope, _replay(messages, receive), send)
            if not message.get("more_body", False):
                break
        req = _plain(scope["app"], b"".join(m.get("body", b"") for m in messages))
        if req is None:
            return await self.app(scope, _replay(messages, receive), send)
        app = scope["app"]
        ip = scope["client"][0] if scope.get("client") else "unknown"
        try:
            caller = await admit_known(app, ip, key, key_hash, known)
            status, body = await submit(app, ip, req, caller, key_hash)
        except Exception as exc:  # noqa: BLE001 - answered by the app's handler for it, as the route's would be
            handler = _handler(app, exc)
            if handler is None:
                raise
            response = handler(Request(scope), exc)
            if inspect.isawaitable(response):
                response = await response
            return await response(scope, receive, send)
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-length", str(len(body)).encode()), (b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body})


def _plain(app: Any, raw: bytes) -> JobCreate | None:
    """The body as a ``JobCreate`` if it passes every check the route makes of it, else None."""
    try:
        data = json.loads(raw)
        if not isinstance(data, dict):
            return None
        check_body(data, app.state.settings.max_params_bytes)
        return JobCreate.model_validate(data)
    except (ValueError, ApiError):  # ValidationError is a ValueError
        return None


def _replay(messages: list[dict[str, Any]], receive: Any) -> Any:
    """``receive`` giving ``messages`` again first (the body the fast path already read)."""
    pending = list(messages)

    async def replayed() -> dict[str, Any]:
        return pending.pop(0) if pending else await receive()

    return replayed


def _handler(app: Any, exc: Exception) -> Any:
    """The app's exception handler for ``exc`` (as Starlette looks it up: by class, most specific first)."""
    for cls in type(exc).__mro__:
        if cls is not Exception and cls in app.exception_handlers:
            return app.exception_handlers[cls]
    return None


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
