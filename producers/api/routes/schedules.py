"""``/api/schedules``: recurring jobs (cron + IANA time zone + job template)."""

from __future__ import annotations


from typing import Any

from fastapi import APIRouter, Query

from config.messages import JobCreate, ScheduleCreate, ScheduleUpdate
from producers.api.deps import CallerDep, SessionDep
from producers.api.errors import ApiError
from producers.api.pagination import CursorParam, decode_cursor, encode_cursor
from producers.schemas import COMMON_ERRORS, ScheduleDetail, SchedulePublic, SchedulesPublic, errors
from producers.api.routes.jobs import validate_job
from schedules.cron import CronError, fire_times, next_fire, parse_cron, zone
from workers.store import schedules as store
from workers.store.audit import record_event
from workers.store.jobs import to_public
from workers.store.models import Schedule, utcnow
from workers.store.pages import schedules_page

router = APIRouter(prefix="/api/schedules", tags=["schedules"], responses=COMMON_ERRORS)
#: Upcoming fire times shown per schedule.
SHOW_NEXT = 5


def _timing(cron: str, tz: str) -> tuple[Any, Any]:
    try:
        return parse_cron(cron), zone(tz)
    except CronError as exc:
        raise ApiError(422, "invalid_schedule", str(exc)) from None


def view(row: Schedule, *, jobs: list[Any] | None = None) -> dict[str, Any]:
    """A schedule as the API shows it, with its next fire times (and produced jobs when given)."""
    cron, tz = parse_cron(row.cron), zone(row.timezone)
    upcoming = fire_times(cron, tz, utcnow(), SHOW_NEXT) if row.status == "active" else []
    out: dict[str, Any]  # jobs are added below
    out = {"id": row.id, "name": row.name, "cron": row.cron, "timezone": row.timezone,
           "job": {"agent": row.agent, "integration": row.integration, "action": row.action, "params": row.params},
           "misfire_policy": row.misfire_policy, "status": row.status, "paused_reason": row.paused_reason,
           "next_fire_at": row.next_fire_at if row.status == "active" else None,
           "next_fire_times": [t.isoformat() for t in upcoming],
           "next_fire_times_local": [t.astimezone(tz).isoformat() for t in upcoming],
           "last_fired_at": row.last_fired_at, "created_at": row.created_at, "updated_at": row.updated_at}
    if jobs is not None:
        out["jobs"] = [to_public(j).model_dump(mode="json") for j in jobs]
    return out


def _get(session: Any, caller: Any, schedule_id: str) -> Schedule:
    row = store.get_schedule(session=session, workspace=caller.workspace, schedule_id=schedule_id)
    if row is None:
        raise ApiError(404, "not_found", f"no schedule {schedule_id!r} in workspace {caller.workspace!r}")
    return row


def _audit(session: Any, caller: Any, row: Schedule, outcome: str) -> None:
    record_event(session=session, actor=caller.actor, kind="api", outcome=outcome, workspace=caller.workspace,
                 agent=row.agent, integration=row.integration, action=row.action, detail={"schedule_id": row.id})
    session.commit()


@router.post("", status_code=201, response_model=SchedulePublic, responses=errors(404, 501))
def create(body: ScheduleCreate, caller: CallerDep, session: SessionDep) -> dict[str, Any]:
    """Validate everything first (nothing is stored on a 422), then store the schedule."""
    cron, tz = _timing(body.cron, body.timezone)
    validate_job(JobCreate(**body.job.model_dump()))
    values = {"name": body.name or f"{body.job.agent}.{body.job.action} {body.cron} {body.timezone}",
              "cron": cron.expr, "timezone": body.timezone, "misfire_policy": body.misfire_policy,
              **body.job.model_dump()}
    row = store.create_schedule(session=session, workspace=caller.workspace, values=values,
                                next_fire_at=next_fire(cron, tz, utcnow()))
    _audit(session, caller, row, "schedule_created")
    return view(row)


@router.get("", response_model=SchedulesPublic)
def list_(caller: CallerDep, session: SessionDep, cursor: CursorParam = None,
          limit: int = Query(100, ge=1, le=500)) -> dict[str, Any]:
    """The workspace's schedules, oldest first; ``next_cursor`` pages on."""
    rows, more = schedules_page(session=session, workspace=caller.workspace, after=decode_cursor(cursor),
                                limit=limit)
    return {"schedules": [view(r) for r in rows],
            "next_cursor": encode_cursor(rows[-1].created_at, rows[-1].id) if more else None}


@router.get("/{schedule_id}", response_model=ScheduleDetail, responses=errors(404))
def read(schedule_id: str, caller: CallerDep, session: SessionDep) -> dict[str, Any]:
    """One schedule with its next fire times and the jobs it produced."""
    row = _get(session, caller, schedule_id)
    return view(row, jobs=store.produced_jobs(session=session, schedule_id=row.id))


@router.patch("/{schedule_id}", response_model=SchedulePublic, responses=errors(404, 501))
def update_(schedule_id: str, body: ScheduleUpdate, caller: CallerDep, session: SessionDep) -> dict[str, Any]:
    """Change any of cron, timezone, job, misfire policy, name; the next fire time is recomputed."""
    row = _get(session, caller, schedule_id)
    cron_text, tz_name = body.cron or row.cron, body.timezone or row.timezone
    cron, tz = _timing(cron_text, tz_name)
    changes: dict[str, Any] = {"cron": cron.expr, "timezone": tz_name}
    if body.job is not None:
        validate_job(JobCreate(**body.job.model_dump()))
        changes.update(body.job.model_dump())
    if body.name is not None:
        changes["name"] = body.name
    if body.misfire_policy is not None:
        changes["misfire_policy"] = body.misfire_policy
    if row.status == "active":
        changes["next_fire_at"] = next_fire(cron, tz, utcnow())
    row = store.save(session=session, row=row, **changes)
    _audit(session, caller, row, "schedule_updated")
    return view(row)


@router.post("/{schedule_id}/pause", response_model=SchedulePublic, responses=errors(404))
def pause(schedule_id: str, caller: CallerDep, session: SessionDep) -> dict[str, Any]:
    """Stop firing until resumed."""
    row = _get(session, caller, schedule_id)
    if row.status == "active":
        store.paused_event(session, workspace=caller.workspace, schedule_id=row.id, reason="paused by user")
    row = store.save(session=session, row=row, status="paused", paused_reason="paused by user", next_fire_at=None)
    _audit(session, caller, row, "schedule_paused")
    return view(row)


@router.post("/{schedule_id}/resume", response_model=SchedulePublic, responses=errors(404, 409))
def resume(schedule_id: str, caller: CallerDep, session: SessionDep) -> dict[str, Any]:
    """Fire again from the next time after now (missed times while paused are not run)."""
    from workers.store.integrations import get_state

    row = _get(session, caller, schedule_id)
    state = get_state(session=session, workspace=caller.workspace, agent=row.agent, integration=row.integration)
    if state is None or state.status in ("not_configured", "disconnected"):
        raise ApiError(409, "not_configured", f"{row.agent}/{row.integration} is "
                       f"{'not configured' if state is None else state.status}; configure it before resuming")
    cron, tz = _timing(row.cron, row.timezone)
    row = store.save(session=session, row=row, status="active", paused_reason=None,
                     next_fire_at=next_fire(cron, tz, utcnow()))
    _audit(session, caller, row, "schedule_resumed")
    return view(row)


@router.delete("/{schedule_id}", status_code=204, response_model=None, responses=errors(404))
def delete(schedule_id: str, caller: CallerDep, session: SessionDep) -> None:
    """Delete the schedule (jobs it already produced stay)."""
    row = _get(session, caller, schedule_id)
    _audit(session, caller, row, "schedule_deleted")
    store.delete_schedule(session=session, row=row)
