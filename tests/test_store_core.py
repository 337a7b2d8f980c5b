"""The store's statements on a connection (a worker, without the ORM) and on a session (the API), both databases.

A worker's step log, events, progress and hand-back run as Core statements on a connection
(:mod:`workers.store.tables`); the API's calls of the same functions on a session keep the ORM's behaviour:
a state change also updates the session's loaded job.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from config.messages import JobCreate
from workers.runner import hand_back
from workers.store import events
from workers.store import jobs as job_store
from workers.store.db import connection_scope, session_scope
from workers.store.tables import EVENTS, JOBS, utcnow


def _job(engine: Any) -> str:
    with session_scope(engine) as s:
        job, _ = job_store.create_job(session=s, workspace="a", req=JobCreate(
            agent="emmie", integration="mailchimp", action="list_campaigns"))
        return job.id


def test_the_step_log_on_a_connection_stores_replaces_and_reads_like_on_a_session(engine: Any) -> None:
    job_id = _job(engine)
    with connection_scope(engine) as conn:
        assert job_store.get_step(session=conn, job_id=job_id, key="campaign") is None
        job_store.put_step(session=conn, job_id=job_id, key="campaign", value={"id": "c1"})
        job_store.put_step(session=conn, job_id=job_id, key="campaign", value={"id": "c2"})
    with session_scope(engine) as s:
        assert job_store.get_step(session=s, job_id=job_id, key="campaign") == {"id": "c2"}
        job_store.put_step(session=s, job_id=job_id, key="other", value=[1])
    with connection_scope(engine) as conn:
        assert job_store.get_step(session=conn, job_id=job_id, key="other") == [1]


def test_events_on_a_connection_and_on_a_session_land_in_order(engine: Any) -> None:
    job_id = _job(engine)
    with connection_scope(engine) as conn:
        events.record(conn, workspace="a", type="job.progress", job_id=job_id, data={"step": "one"})
    with session_scope(engine) as s:
        events.record(s, workspace="a", type="job.progress", job_id=job_id, data={"step": "two"})
    with session_scope(engine) as s:
        timeline = [(e.type, (e.data or {}).get("step")) for e in events.since(s, workspace="a", job_id=job_id)]
    assert timeline == [("job.queued", None), ("job.progress", "one"), ("job.progress", "two")]


def test_a_state_change_on_a_session_updates_the_loaded_job_and_on_a_connection_the_row(engine: Any) -> None:
    job_id = _job(engine)
    with session_scope(engine) as s:
        job = job_store.get_job(session=s, job_id=job_id)
        assert job is not None and job.cancel_requested_at is None
        assert job_store.mark_running(session=s, job_id=job_id, worker_id="w1", lease=timedelta(seconds=15))
        assert job.status == "running" and job.worker_id == "w1"  # the ORM-enabled update synchronised it
    with connection_scope(engine) as conn:
        assert job_store.request_cancel(session=conn, job_id=job_id)
        assert conn.execute(select(JOBS.c.cancel_requested_at).where(JOBS.c.id == job_id)).scalar() is not None


def test_hand_back_on_a_connection_requeues_the_workers_running_jobs_with_their_event(engine: Any) -> None:
    job_id = _job(engine)
    with connection_scope(engine) as conn:
        assert job_store.mark_running(session=conn, job_id=job_id, worker_id="w1", lease=timedelta(seconds=15))
    with connection_scope(engine) as conn:
        assert hand_back(conn, "w1", utcnow()) == 1
    with connection_scope(engine) as conn:
        row = conn.execute(select(JOBS).where(JOBS.c.id == job_id)).one()
        types = conn.execute(select(EVENTS.c.type).where(EVENTS.c.job_id == job_id).order_by(EVENTS.c.id)).scalars()
        assert (row.status, row.worker_id, row.attempt_log[-1]["kind"]) == ("retrying", None, "handed_back")
        assert list(types) == ["job.queued", "job.retrying"]


def test_a_connection_scope_whose_block_fails_writes_nothing(engine: Any) -> None:
    job_id = _job(engine)
    with pytest.raises(RuntimeError), connection_scope(engine) as conn:
        events.record(conn, workspace="a", type="job.progress", job_id=job_id, data={"step": "lost"})
        raise RuntimeError("the block failed")
    with connection_scope(engine) as conn:
        assert list(conn.execute(select(EVENTS.c.type).where(EVENTS.c.job_id == job_id)).scalars()) == ["job.queued"]


def test_a_connection_test_and_a_revoked_grant_write_the_state_pause_schedules_and_record_events(engine: Any) -> None:
    from types import SimpleNamespace

    from workers.connection_state import record_connection
    from workers.errors import GrantRevoked
    from workers.store.integrations import get_state
    from workers.store.schedules import create_schedule, get_schedule

    with session_scope(engine) as s:
        sched = create_schedule(session=s, workspace="a", next_fire_at=utcnow(), values={
            "name": "n", "cron": "0 * * * *", "timezone": "UTC", "agent": "emmie", "integration": "hubspot",
            "action": "list_contacts", "params": {}}).id
    job = SimpleNamespace(workspace_id="a", agent="emmie", integration="hubspot")
    with connection_scope(engine) as conn:  # no state row yet: created
        assert record_connection(conn, job, error=None, outcome="succeeded", now=utcnow()) == "connected"
    with connection_scope(engine) as conn:  # then updated
        assert record_connection(conn, job, error=GrantRevoked("invalid_grant"), outcome="failed",
                                 now=utcnow()) == "needs_reconnect"
    with session_scope(engine) as s:
        state = get_state(session=s, workspace="a", agent="emmie", integration="hubspot")
        assert state is not None and state.fields_set == [] and state.connected_at is not None
        assert (state.status, state.message) == ("needs_reconnect", "invalid_grant")
        paused = get_schedule(session=s, workspace="a", schedule_id=sched)
        assert paused is not None and paused.status == "paused" and "needs reconnecting" in (paused.paused_reason or "")
        timeline = [(e.type, (e.data or {}).get("schedules_paused")) for e in events.since(s, workspace="a")]
    assert timeline[-3:] == [("integration.connected", None), ("schedule.paused", None), ("integration.error", 1)]
