"""The scheduler on a real database (SQLite and PostgreSQL) with an injectable clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, UTC
from typing import Any

import pytest
from sqlmodel import Session, select

from config.messages import JobCreate, JobMessage
from schedules.cron import next_fire, parse_cron, zone
from schedules.runner import Scheduler
from workers.store import jobs as job_store
from workers.store import schedules as store
from workers.store.db import build_engine, migrate
from workers.store.keys import create_key
from workers.store.models import Job, ScheduleFiring

UTC = UTC


class Clock:
    """A settable clock."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def env(fresh_url: str) -> Iterator[Any]:
    migrate(fresh_url)
    engine = build_engine(fresh_url)
    with Session(engine) as s:
        create_key(session=s, workspace="w")
    clock = Clock(datetime(2026, 3, 27, 6, 0, tzinfo=UTC))
    sent: list[JobMessage] = []
    scheduler = Scheduler(engine, lambda msg, _agent: sent.append(msg), clock=clock)

    class Env:
        pass

    e = Env()
    e.engine, e.clock, e.sent, e.scheduler = engine, clock, sent, scheduler  # type: ignore[attr-defined]
    yield e
    engine.dispose()


def add_schedule(env: Any, cron: str = "0 9 * * *", tz: str = "Europe/Paris", policy: str = "run_latest") -> str:
    with Session(env.engine, expire_on_commit=False) as s:
        row = store.create_schedule(session=s, workspace="w", values={
            "name": "t", "cron": cron, "timezone": tz, "misfire_policy": policy, "agent": "emmie",
            "integration": "mailchimp", "action": "list_campaigns", "params": {}},
            next_fire_at=next_fire(parse_cron(cron), zone(tz), env.clock.now))
        return row.id


def firings(env: Any, sid: str) -> list[datetime]:
    with Session(env.engine) as s:
        rows = s.exec(select(ScheduleFiring).where(ScheduleFiring.schedule_id == sid)).all()
        return sorted(r.fire_at.astimezone(UTC) for r in rows)


def run_for(env: Any, hours: float, step_minutes: int = 10) -> None:
    end = env.clock.now + timedelta(hours=hours)
    while env.clock.now < end:
        env.clock.now += timedelta(minutes=step_minutes)
        env.scheduler.tick()


def test_daily_paris_schedule_fires_at_9_local_once_a_day_across_dst(env: Any) -> None:
    sid = add_schedule(env)
    run_for(env, 24 * 4)  # 27-30 March 2026: clocks go forward on the 29th
    tz = zone("Europe/Paris")
    fired = firings(env, sid)
    assert [f.astimezone(tz).strftime("%m-%d %H:%M") for f in fired] == \
        ["03-27 09:00", "03-28 09:00", "03-29 09:00", "03-30 09:00"]
    assert len(env.sent) == 4 and len({m.job_id for m in env.sent}) == 4


def test_job_is_enqueued_when_due_not_before(env: Any) -> None:
    sid = add_schedule(env, cron="30 7 * * *", tz="UTC")
    env.clock.now = datetime(2026, 3, 27, 7, 29, tzinfo=UTC)
    env.scheduler.tick()
    assert env.sent == []
    env.clock.now = datetime(2026, 3, 27, 7, 30, 5, tzinfo=UTC)
    env.scheduler.tick()
    env.scheduler.tick()
    assert len(env.sent) == 1 and firings(env, sid) == [datetime(2026, 3, 27, 7, 30, tzinfo=UTC)]


def test_one_shot_job_waits_as_scheduled_then_is_enqueued_once(env: Any) -> None:
    run_at = env.clock.now + timedelta(hours=1)
    with Session(env.engine, expire_on_commit=False) as s:
        job, _ = job_store.create_job(session=s, workspace="w", status="scheduled", req=JobCreate(
            agent="emmie", integration="mailchimp", action="list_campaigns", run_at=run_at))
    env.scheduler.tick()
    assert env.sent == []
    env.clock.now = run_at
    env.scheduler.tick()
    env.scheduler.tick()
    assert [m.job_id for m in env.sent] == [job.id]
    with Session(env.engine) as s:
        assert s.get(Job, job.id).status == "queued"  # type: ignore[union-attr]


def test_cancelled_one_shot_is_never_enqueued(env: Any) -> None:
    with Session(env.engine, expire_on_commit=False) as s:
        job, _ = job_store.create_job(session=s, workspace="w", status="scheduled", req=JobCreate(
            agent="emmie", integration="mailchimp", action="list_campaigns",
            run_at=env.clock.now + timedelta(minutes=5)))
        assert job_store.mark_cancelled(session=s, job_id=job.id, reason="user")
    env.clock.now += timedelta(hours=1)
    env.scheduler.tick()
    assert env.sent == []


def test_misfire_run_latest_fires_the_latest_missed_time_once(env: Any) -> None:
    sid = add_schedule(env, cron="0 9 * * *", tz="UTC", policy="run_latest")
    env.clock.now = datetime(2026, 3, 30, 12, tzinfo=UTC)  # the scheduler was down for three days
    env.scheduler.tick()
    env.scheduler.tick()
    assert firings(env, sid) == [datetime(2026, 3, 30, 9, tzinfo=UTC)]
    with Session(env.engine) as s:
        assert store.get_schedule(session=s, workspace="w", schedule_id=sid).next_fire_at.astimezone(UTC) == \
            datetime(2026, 3, 31, 9, tzinfo=UTC)  # type: ignore[union-attr]


def test_misfire_skip_fires_nothing_and_waits_for_the_next_time(env: Any) -> None:
    sid = add_schedule(env, cron="0 9 * * *", tz="UTC", policy="skip")
    env.clock.now = datetime(2026, 3, 30, 12, tzinfo=UTC)
    env.scheduler.tick()
    assert firings(env, sid) == [] and env.sent == []
    env.clock.now = datetime(2026, 3, 31, 9, 0, 30, tzinfo=UTC)
    env.scheduler.tick()
    assert firings(env, sid) == [datetime(2026, 3, 31, 9, tzinfo=UTC)]


def test_paused_schedule_does_not_fire_and_resume_starts_from_now(env: Any) -> None:
    sid = add_schedule(env, cron="0 * * * *", tz="UTC")
    with Session(env.engine, expire_on_commit=False) as s:
        row = store.get_schedule(session=s, workspace="w", schedule_id=sid)
        store.save(session=s, row=row, status="paused", next_fire_at=None)  # type: ignore[arg-type]
    run_for(env, 5)
    assert firings(env, sid) == []
    with Session(env.engine, expire_on_commit=False) as s:
        row = store.get_schedule(session=s, workspace="w", schedule_id=sid)
        store.save(session=s, row=row, status="active",  # type: ignore[arg-type]
                   next_fire_at=next_fire(parse_cron("0 * * * *"), zone("UTC"), env.clock.now))
    run_for(env, 2)
    assert len(firings(env, sid)) == 2


def test_two_schedulers_on_one_database_fire_each_time_once(env: Any) -> None:
    sid = add_schedule(env, cron="*/10 * * * *", tz="UTC")
    other = Scheduler(env.engine, lambda msg, _agent: env.sent.append(msg), clock=env.clock)
    for _ in range(30):
        env.clock.now += timedelta(minutes=10)
        env.scheduler.tick()
        other.tick()
    assert len(firings(env, sid)) == 30
    assert len(env.sent) == 30 and len({m.job_id for m in env.sent}) == 30
