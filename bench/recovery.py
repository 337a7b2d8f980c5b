"""Crash recovery: SIGKILL a worker process with jobs in flight; how long until those jobs finish?

Sintra: the real stack of the fault suite (tests/faults/stack.py: API, scheduler, 2 worker processes x
4 threads, PostgreSQL, a private Redis, OpenBao, the provider simulator) running create_campaign jobs
while Mailchimp answers slowly (a latency fault of ``--latency`` s per request, so each job is
mid-call for a few seconds). Bare dramatiq: the same worker shape running a plain actor that makes
the same three HTTP calls (bench/recovery_bare.py) on the same Redis server, where a killed
process's messages come back only through dramatiq's own heartbeat timeout and maintenance.

Each round submits a batch, waits until the victim worker has jobs in flight, SIGKILLs its process
group and restarts it at once (as a supervisor would), then waits (at most ``--bound`` s) for every
interrupted job to finish. Recovery time = kill -> the interrupted job's terminal state.

Usage: ``.venv/bin/python bench/recovery.py [--rounds 2] [--bound 180] [--latency 1.0]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import redis  # noqa: E402
from config.providers import root_base_path  # noqa: E402

from tests.faults.stack import Stack, in_flight, wait_for  # noqa: E402


def sintra_round(stack: Stack, acct: object, batch: int, bound: float, tag: str) -> tuple[list[float], int, int]:
    """One kill; return (recovery seconds of recovered jobs, interrupted count, not recovered count)."""
    keys = [f"{tag}-{i:03d}" for i in range(batch)]
    subs = asyncio.run(stack.submit_many(acct, keys, concurrency=8))  # type: ignore[arg-type]
    victim = stack.workers[0]
    wait_for(lambda: len(in_flight(victim)) >= 2, 60, "jobs in flight on the victim", interval=0.05)
    time.sleep(0.5)  # let them get into their provider calls
    t = time.time()
    victim.kill()
    interrupted = in_flight(victim, len(victim.logs) - 1)
    victim.start()
    terminal_at: dict[str, float] = {}
    ids = {s.job_id for s in subs.values() if s.job_id}
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        stack.wait_terminal(acct, ids, 2.0, terminal_at)  # type: ignore[arg-type]
        if interrupted <= set(terminal_at):
            break
    # and the rest of the batch, so the next round starts clean
    stack.wait_terminal(acct, ids, max(0.0, deadline - time.monotonic()), terminal_at)  # type: ignore[arg-type]
    rec = [terminal_at[j] - t for j in interrupted if j in terminal_at and terminal_at[j] - t <= bound]
    return rec, len(interrupted), len(interrupted) - len(rec)


def bare_round(stack: Stack, workers: list, r: redis.Redis, batch: int, bound: float, tag: str
               ) -> tuple[list[float], int, int]:
    import dramatiq
    from dramatiq.brokers.redis import RedisBroker

    broker = RedisBroker(url=stack.redis.url.rsplit("/", 1)[0] + "/1")
    for i in range(batch):
        broker.enqueue(dramatiq.Message(queue_name="bare-recovery", actor_name="bare_campaign", args=(),
                                        kwargs={"marker": f"{tag}-{i:03d}"}, options={}))
    victim = workers[0]

    def started_on_victim() -> set[str]:
        done = set(r.hkeys("bench:rec:done"))
        return {m for m, v in r.hgetall("bench:rec:start").items()
                if v.split(b" ")[0] == victim.name.encode() and m not in done and m.decode().startswith(tag)}

    wait_for(lambda: len(started_on_victim()) >= 2, 60, "bare jobs in flight on the victim", interval=0.05)
    time.sleep(0.5)
    interrupted = started_on_victim()
    t = time.time()
    victim.kill()
    interrupted |= started_on_victim()
    victim.start()
    deadline = time.monotonic() + bound
    rec: dict[bytes, float] = {}
    while time.monotonic() < deadline and len(rec) < len(interrupted):
        for m in interrupted:
            if m not in rec and (v := r.hget("bench:rec:done", m)) is not None:
                rec[m] = float(v) - t
        time.sleep(0.2)
    return list(rec.values()), len(interrupted), len(interrupted) - len(rec)


def row(name: str, rec: list[float], interrupted: int, lost: int, bound: float) -> str:
    if rec:
        p50, mx = f"{statistics.median(rec):.1f}", f"{max(rec):.1f}"
    else:
        p50 = mx = "-"
    note = f"  {lost} not recovered within {bound:g} s" if lost else ""
    return f"{name:<36}{interrupted:>12}{len(rec):>11}{p50:>9}{mx:>9}{note}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=2, help="kills per system (default 2)")
    ap.add_argument("--bound", type=float, default=180.0, help="longest wait for one round's recovery, s")
    ap.add_argument("--latency", type=float, default=1.0, help="provider latency per request, s (default 1)")
    ap.add_argument("--batch", type=int, default=16, help="jobs per round (default 16: 8 running, 8 queued)")
    ap.add_argument("--skip-bare", action="store_true")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="sintra-recovery-"))
    print(f"{os.cpu_count()} cores; 2 worker processes x 4 threads; provider latency {args.latency:g} s per "
          f"request (3 requests per job); {args.rounds} kills per system; logs in {tmp}", flush=True)
    # production's lifecycle settings (the fault suite shortens the patient waits; a benchmark must not)
    defaults = {"SINTRA_RELAY_SECONDS": "0.5", "SINTRA_DISPATCH_GRACE_SECONDS": "5",
                "SINTRA_STALE_MESSAGE_SECONDS": "60"}
    stack = Stack(tmp, extra_env=defaults)
    try:
        stack.wait_workers_ready()
        stack.sim_latency("mailchimp", args.latency)
        acct = stack.new_account("bench")
        s_rec: list[float] = []
        s_int = s_lost = 0
        for k in range(args.rounds):
            rec, n, lost = sintra_round(stack, acct, args.batch, args.bound, f"s{k}")
            s_rec, s_int, s_lost = s_rec + rec, s_int + n, s_lost + lost
            print(f"  sintra round {k + 1}: {n} interrupted, recovered in "
                  f"{', '.join(f'{x:.1f}' for x in sorted(rec)) or '-'} s", flush=True)
        b_rec: list[float] = []
        b_int = b_lost = 0
        if not args.skip_bare:
            for w in stack.workers:  # the bare run has the machine to itself
                w.stop()
            bare_url = stack.redis.url.rsplit("/", 1)[0] + "/1"
            r = redis.Redis.from_url(bare_url)
            mk = f"fk{uuid.uuid4().hex[:16]}-us21"
            env = {"BENCH_REDIS_URL": bare_url, "BENCH_PROVIDER_URL": stack.sim + root_base_path("mailchimp"),
                   "BENCH_MAILCHIMP_KEY": mk, "PYTHONPATH": str(ROOT)}
            cmd = [sys.executable, "-m", "dramatiq", "bench.recovery_bare", "--processes", "1", "--threads", "4",
                   "--queues", "bare-recovery"]  # dramatiq logs "Worker process is ready" itself
            bare = [stack._proc(f"bare{i}", cmd, BENCH_WORKER=f"bare{i}", **env) for i in range(2)]
            for p in bare:
                p.start()
            wait_for(lambda: all(p.log_path and "is ready" in p.log_path.read_text() for p in bare), 60,
                     "bare workers", interval=0.2)
            for k in range(args.rounds):
                rec, n, lost = bare_round(stack, bare, r, args.batch, args.bound, f"b{k}")
                b_rec, b_int, b_lost = b_rec + rec, b_int + n, b_lost + lost
                print(f"  bare round {k + 1}: {n} interrupted, recovered in "
                      f"{', '.join(f'{x:.1f}' for x in sorted(rec)) or '-'} s", flush=True)
        print(f"\n{'system':<36}{'interrupted':>12}{'recovered':>11}{'p50 s':>9}{'max s':>9}")
        print(row("sintra (lease + sweeper)", s_rec, s_int, s_lost, args.bound))
        if not args.skip_bare:
            print(row("bare dramatiq (heartbeat+maintenance)", b_rec, b_int, b_lost, args.bound))
        print(f"\nrecovery = SIGKILL of the worker process group -> the interrupted job's terminal state (it includes "
              f"the re-run's own {3 * args.latency:g} s of provider calls); the killed worker is restarted at once. "
              f"Target: <= 30 s. Same Redis server, same worker shape, one machine.")
    finally:
        stack.close()


if __name__ == "__main__":
    main()
