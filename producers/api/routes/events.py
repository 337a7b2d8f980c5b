"""Live streams (server-sent events) from the event log: one job's, or the whole workspace's.

Each SSE message is ``id: <event id>``, ``event: <type>``, ``data: <JSON>``; reconnecting with
``Last-Event-ID`` (or ``?after=``) resumes without gaps. A job's stream opens with a ``job.snapshot``
(the job as ``GET /api/jobs/{id}`` shows it) and closes after the job is finished.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse
from sqlmodel import Session

from config.messages import TERMINAL_STATUSES
from producers.api.deps import CallerDep
from producers.api.errors import ApiError
from producers.schemas import COMMON_ERRORS, errors
from workers.store import events as event_store
from workers.store import jobs as job_store
from workers.store.models import Event

router = APIRouter(tags=["events"], responses=COMMON_ERRORS)
#: Seconds between two looks at the event log, and between two keep-alive comments.
POLL_SECONDS, KEEPALIVE_SECONDS = 0.2, 15.0
_SSE: dict[int | str, dict[str, Any]] = {
    200: {"description": "A `text/event-stream` of events (`id`, `event`, `data` JSON).",
          "content": {"text/event-stream": {"schema": {"type": "string"}}}}}
#: Event ids are PostgreSQL ``integer`` (int4): a larger cursor names no event and is refused, not sent to SQL.
MAX_EVENT_ID = 2**31 - 1
AfterQuery = Annotated[int | None, Query(ge=0, le=MAX_EVENT_ID,
                                         description="Resume after this event id (as `Last-Event-ID`).")]
MaxSeconds = Annotated[float, Query(gt=0, le=3600, description="End the stream after this long; reconnect "
                                                            "with `Last-Event-ID` to go on.")]


def frame(event_id: int | None, type_: str, data: Any) -> str:
    """One SSE message."""
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {type_}\ndata: {json.dumps(data, separators=(',', ':'), default=str)}\n\n"


def event_view(event: Event) -> dict[str, Any]:
    """An event as the streams show it."""
    return {"id": event.id, "type": event.type, "at": event.at.isoformat(), "job_id": event.job_id,
            "data": event.data or {}}


def _state(job: dict[str, Any] | None) -> tuple[Any, ...]:
    return (None,) if job is None else (job["status"], job["attempts"], json.dumps(job["progress"]))


def _start(after: int | None, last_event_id: str | None) -> int:
    if after is not None:
        return after
    try:
        cursor = int(last_event_id) if last_event_id else 0
    except ValueError:
        cursor = -1
    if not 0 <= cursor <= MAX_EVENT_ID:
        raise ApiError(422, "invalid_request", f"Last-Event-ID {(last_event_id or '')[:40]!r} is not an event id "
                       f"(an integer from 0 to {MAX_EVENT_ID})")
    return cursor


def _stream(request: Request, gen: AsyncIterator[str]) -> StreamingResponse:
    return StreamingResponse(gen, media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@router.get("/api/jobs/{job_id}/events", response_class=StreamingResponse, responses={**_SSE, **errors(404)})
def job_events(job_id: str, request: Request, caller: CallerDep, after: AfterQuery = None,
               last_event_id: Annotated[str | None, Header()] = None, max_seconds: MaxSeconds = 300) -> Any:
    """The job's status and progress as they happen; ends once the job is finished."""
    engine = request.app.state.engine
    with Session(engine) as session:
        if job_store.get_job(session=session, job_id=job_id, workspace=caller.workspace) is None:
            raise ApiError(404, "not_found", f"no job {job_id!r} in workspace {caller.workspace!r}")
    cursor = _start(after, last_event_id)

    def look(cursor: int) -> tuple[list[Event], dict[str, Any] | None]:
        with Session(engine) as session:
            rows = event_store.since(session, workspace=caller.workspace, after_id=cursor, job_id=job_id, limit=500)
            job = job_store.get_job(session=session, job_id=job_id)
            return rows, (job_store.to_public(job).model_dump(mode="json") if job is not None else None)

    async def gen() -> AsyncIterator[str]:
        nonlocal cursor
        deadline, beat = time.monotonic() + max_seconds, time.monotonic()
        rows, job = await anyio.to_thread.run_sync(look, cursor)
        yield frame(None, "job.snapshot", job)
        shown = _state(job)
        while True:
            for row in rows:
                cursor = int(row.id or cursor)
                yield frame(row.id, row.type, event_view(row))
            if job is None or job["status"] in TERMINAL_STATUSES:
                yield frame(None, "job.snapshot", job)  # the final state, even if no event said it
                return
            if _state(job) != shown:  # status or progress moved: show it even if no event was logged
                shown = _state(job)
                yield frame(None, "job.snapshot", job)
            if time.monotonic() > deadline or await request.is_disconnected():
                return
            if time.monotonic() - beat > KEEPALIVE_SECONDS:
                beat = time.monotonic()
                yield ": keep-alive\n\n"
            await anyio.sleep(POLL_SECONDS)
            rows, job = await anyio.to_thread.run_sync(look, cursor)

    return _stream(request, gen())


@router.get("/api/events", response_class=StreamingResponse, responses=_SSE)
def workspace_events(request: Request, caller: CallerDep, after: AfterQuery = None,
                     types: Annotated[str | None, Query(description="Comma-separated event types.")] = None,
                     last_event_id: Annotated[str | None, Header()] = None, max_seconds: MaxSeconds = 300) -> Any:
    """Every event of the workspace as it happens (job states and progress, integrations, schedules)."""
    engine = request.app.state.engine
    wanted = {t.strip() for t in types.split(",") if t.strip()} if types else None
    cursor = _start(after, last_event_id)

    def look(cursor: int) -> list[Event]:
        with Session(engine) as session:
            return event_store.since(session, workspace=caller.workspace, after_id=cursor, limit=500)

    async def gen() -> AsyncIterator[str]:
        nonlocal cursor
        deadline, beat = time.monotonic() + max_seconds, time.monotonic()
        yield ": connected\n\n"
        while time.monotonic() < deadline and not await request.is_disconnected():
            for row in await anyio.to_thread.run_sync(look, cursor):
                cursor = int(row.id or cursor)
                if wanted is None or row.type in wanted:
                    yield frame(row.id, row.type, event_view(row))
            if time.monotonic() - beat > KEEPALIVE_SECONDS:
                beat = time.monotonic()
                yield ": keep-alive\n\n"
            await anyio.sleep(POLL_SECONDS)

    return _stream(request, gen())
