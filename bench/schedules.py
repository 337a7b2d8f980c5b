"""10,000 schedules due in the same minute, two scheduler processes: time to enqueue all, duplicates.

Creates N daily schedules whose next fire time is the same upcoming minute boundary on a fresh
PostgreSQL database, starts two ``python -m schedules`` processes (as two replicas would run), and
measures from the fire time until every firing's message is in Redis. Duplicates are counted as
messages per job beyond one, and firings per (schedule, fire time) beyond one.
Usage: ``python bench/schedules.py [N] [--schedulers K]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import uuid
from collections import Counter
from datetime import datetime, timedelta, UTC
from pathlib import Path

import psycopg
import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from workers.store.db import migrate  # noqa: E402

PG_ADMIN = os.environ.get("SINTRA_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = "redis://127.0.0.1:6379/11"


def main() -> None:
    """Run the benchmark and print its figures."""
    ap = argparse.ArgumentParser()
    ap.add_argument("n", nargs="?", type=int, default=10_000)
    ap.add_argument("--schedulers", type=int, default=2)
    args = ap.parse_args()
    name = f"sintra_sched_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    url = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    r = redis.Redis.from_url(REDIS_URL)
    r.flushdb()
    procs: list[subprocess.Popen[bytes]] = []
    try:
        migrate(url)
        now = datetime.now(UTC)
        due = (now + timedelta(seconds=75)).replace(second=0, microsecond=0)  # the next minute >= 15 s away
        with psycopg.connect(url) as c:
            c.execute("INSERT INTO workspaces (id, created_at) VALUES ('bench', now())")
            rows = [(uuid.uuid4().hex, f"s{i}", f"{due.minute} {due.hour} * * *", due) for i in range(args.n)]
            with c.cursor() as cur:
                cur.executemany(
                    "INSERT INTO schedules (id, workspace_id, name, cron, timezone, agent, integration, action, "
                    "params, misfire_policy, status, next_fire_at, created_at, updated_at) VALUES "
                    "(%s, 'bench', %s, %s, 'UTC', 'emmie', 'mailchimp', 'list_campaigns', '{}', 'run_latest', "
                    "'active', %s, now(), now())", rows)
        env = {**os.environ, "SINTRA_DATABASE_URL": url, "SINTRA_REDIS_URL": REDIS_URL, "SINTRA_LOG_LEVEL": "WARNING",
               "PYTHONPATH": str(ROOT)}
        procs = [subprocess.Popen([sys.executable, "-m", "schedules", "--interval", "0.5"], env=env, cwd=ROOT)
                 for _ in range(args.schedulers)]
        print(f"{args.n} schedules due at {due:%H:%M:%S} UTC; {args.schedulers} scheduler processes; "
              f"waiting {(due - datetime.now(UTC)).total_seconds():.0f} s")
        while datetime.now(UTC) < due:
            time.sleep(0.05)
        first = last = None
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            count = r.hlen("dramatiq:agent.emmie.msgs")
            if count and first is None:
                first = datetime.now(UTC)
            if count >= args.n:
                last = datetime.now(UTC)
                break
            time.sleep(0.05)
        time.sleep(2)  # keep both schedulers ticking over the same rows
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(20)
    messages = [json.loads(v) for v in r.hvals("dramatiq:agent.emmie.msgs")]
    per_job = Counter(m["kwargs"]["job_id"] for m in messages)
    with psycopg.connect(url) as c:
        firings = c.execute("SELECT count(*), count(DISTINCT (schedule_id, fire_at)) FROM schedule_firings").fetchone()
        jobs_per_schedule = c.execute(
            "SELECT max(n) FROM (SELECT count(*) n FROM jobs GROUP BY schedule_id) t").fetchone()
    with psycopg.connect(PG_ADMIN, autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    assert last is not None, f"only {len(per_job)} of {args.n} enqueued"
    print(f"first message after {(first - due).total_seconds():.2f} s; all {args.n} enqueued after "
          f"{(last - due).total_seconds():.2f} s ({args.n / (last - due).total_seconds():.0f} firings/s)")
    print(f"messages: {len(messages)}  distinct jobs: {len(per_job)}  duplicate messages: "
          f"{sum(n - 1 for n in per_job.values())}")
    print(f"firings: {firings[0]}  distinct (schedule, fire_at): {firings[1]}  max jobs per schedule: "
          f"{jobs_per_schedule[0]}")


if __name__ == "__main__":
    main()
