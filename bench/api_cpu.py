"""The API row alone: CPU of the API process per submission, over several rounds, optionally profiled.

Why a harness of its own: ``bench/perf.py --only drain`` also drains every job through workers, which
takes minutes and shares the two cores with the API; this one only submits (16 concurrent keep-alive
clients, as the API row), so a change to the hot path is measured in seconds. No worker runs: the
queued messages stay on the broker and the rows are deleted between rounds.

Usage: ``python bench/api_cpu.py [--jobs 2000] [--rounds 3] [--profile out.txt]`` (``--profile``: py-spy
samples the API process during the last round, in its ``raw`` folded format, when py-spy is installed).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.http_load import run_clients  # noqa: E402
from bench.procs import cpu_seconds  # noqa: E402
from bench.throughput import Env, sintra_key  # noqa: E402

BODY = {"agent": "emmie", "integration": "mailchimp", "action": "list_campaigns", "params": {"limit": 11}}


def user_sys(pid: int) -> tuple[float, float]:
    """User and system CPU seconds ``pid`` has used (their sum is ``cpu_seconds``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def backends(env: Env) -> list[int]:
    """The pids of the PostgreSQL backends serving the benchmark's database (the API's pooled connections)."""
    with psycopg.connect(env.db_url, autocommit=True) as c:
        return [r[0] for r in c.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                                        "AND pid <> pg_backend_pid()")]


def pg_cpu(pids: list[int]) -> float:
    """CPU seconds the backends ``pids`` have used (those still alive)."""
    total = 0.0
    for pid in pids:
        try:
            total += sum(user_sys(pid))
        except (FileNotFoundError, ProcessLookupError):
            pass
    return total


def round_(env: Env, key: str, pid: int, n: int, concurrency: int) -> tuple[float, float, float, float, int]:
    """Submit ``n`` jobs; return (jobs/s, API CPU ms per job, of which system CPU ms per job, PostgreSQL
    backends' CPU ms per job, outbox entries left uncleared once answered)."""
    pg = backends(env)
    cpu0, (_, sys0), pg0 = cpu_seconds(pid), user_sys(pid), pg_cpu(pg)
    wall, _, statuses = asyncio.run(run_clients(env.api, key, [("POST", "/api/jobs", BODY)] * n,
                                                concurrency=concurrency))
    cpu = (cpu_seconds(pid) - cpu0) * 1000 / n
    system = (user_sys(pid)[1] - sys0) * 1000 / n
    db = (pg_cpu(pg) - pg0) * 1000 / n  # a backend opened during the round is not counted
    bad = [s for s in statuses if s != 202]
    if bad:
        print(f"  warning: {len(bad)} of {n} submissions answered {sorted(set(bad))}", flush=True)
    with psycopg.connect(env.db_url, autocommit=True) as c:
        # a 202 on a working broker means sent and cleared: an entry left would be sent again by a relay
        left = c.execute("SELECT count(*) FROM jobs WHERE kind = 'action' AND dispatch_at IS NOT NULL").fetchone()
        c.execute("DELETE FROM audit_events; DELETE FROM events; DELETE FROM jobs WHERE kind = 'action'")
    return n / wall, cpu, system, db, left[0] if left else 0


def main() -> None:
    """Run the rounds and print each round's figures."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--profile", default="", help="write a py-spy profile of the last round here")
    ap.add_argument("--spy-args", default="", help="more py-spy record options, e.g. '--gil'")
    ap.add_argument("--attach", default="", help="a command run against the API during the last round, "
                    "stopped with SIGINT at its end; {pid} is the API's pid (e.g. 'perf record -g -p {pid}')")
    args = ap.parse_args()
    env = Env(sim_module="tests.faults.simserver")
    try:
        key = sintra_key(env)
        pid = env.api_pids[env.api]
        round_(env, key, pid, 200, args.concurrency)  # warm up: key cache, pools, imports
        for i in range(args.rounds):
            spy = None
            last = i == args.rounds - 1
            if args.profile and last and shutil.which("py-spy"):
                spy = subprocess.Popen(["py-spy", "record", "--pid", str(pid), "--format", "raw", "--rate", "250",
                                        "--output", args.profile, "--nonblocking", *args.spy_args.split()],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            elif args.attach and last:
                spy = subprocess.Popen(shlex.split(args.attach.format(pid=pid)), stdout=subprocess.DEVNULL)
                time.sleep(0.5)  # attached before the round starts
            rate, cpu, system, db, left = round_(env, key, pid, args.jobs, args.concurrency)
            if spy is not None:
                spy.send_signal(2)
                spy.wait(30)
            print(f"round {i + 1}: {rate:.0f} jobs/s; API CPU {cpu:.2f} ms/job = {1000 / cpu:.0f}/s per core "
                  f"(system {system:.2f} ms); PostgreSQL backends {db:.2f} ms/job; outbox left {left}",
                  flush=True)
    finally:
        env.close()


if __name__ == "__main__":
    main()
