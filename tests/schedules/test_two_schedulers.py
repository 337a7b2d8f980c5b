"""Two real scheduler processes against PostgreSQL and Redis: every firing enqueued exactly once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta

import redis
from sqlmodel import Session, func, select

from tests.conftest import require_service
from workers.store import schedules as store
from workers.store.db import build_engine, migrate
from workers.store.keys import create_key
from workers.store.models import Job, ScheduleFiring, utcnow

REDIS_URL = "redis://127.0.0.1:6379/12"
N = 300


def test_two_scheduler_processes_enqueue_every_firing_exactly_once(pg_fresh_url: str) -> None:
    require_service("Redis")
    r = redis.Redis.from_url(REDIS_URL)
    r.flushdb()
    migrate(pg_fresh_url)
    engine = build_engine(pg_fresh_url)
    with Session(engine) as s:
        create_key(session=s, workspace="w")
        due = utcnow() - timedelta(seconds=1)
        for i in range(N):
            store.create_schedule(session=s, workspace="w", next_fire_at=due, values={
                "name": f"s{i}", "cron": "* * * * *", "timezone": "UTC", "misfire_policy": "run_latest",
                "agent": "emmie", "integration": "mailchimp", "action": "list_campaigns", "params": {}})
    env = {**os.environ, "SINTRA_DATABASE_URL": pg_fresh_url, "SINTRA_REDIS_URL": REDIS_URL,
           "SINTRA_LOG_LEVEL": "WARNING"}
    procs = [subprocess.Popen([sys.executable, "-m", "schedules", "--interval", "0.1"], env=env) for _ in range(2)]
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with Session(engine) as s:
                queued = s.exec(select(func.count()).select_from(Job).where(Job.status == "queued")).one()
            if queued >= N:
                break
            time.sleep(0.2)
        time.sleep(1.0)  # let both keep ticking over the same rows
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(10)
    with Session(engine) as s:
        firings = s.exec(select(ScheduleFiring)).all()
        jobs = s.exec(select(Job)).all()
    engine.dispose()
    messages = [json.loads(v) for v in r.hvals("dramatiq:agent.emmie.msgs")]
    per_job = Counter(m["kwargs"]["job_id"] for m in messages)
    assert len({f.schedule_id for f in firings}) == N  # every schedule fired
    assert len(firings) == len(jobs) == len(per_job)  # one job per firing, one message per job
    assert set(per_job.values()) == {1}, "a job was enqueued twice"
    assert {j.status for j in jobs} == {"queued"}
