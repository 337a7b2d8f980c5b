"""N jobs through Sintra's full path vs a bare dramatiq actor doing the same provider call.

Full path: HTTP API (auth, validation, idempotency, DB insert, enqueue) -> Redis -> worker
(state transitions, Vault read with the agent's AppRole, provider call to the simulator, audit row,
result) on PostgreSQL. Baseline: a bare dramatiq actor that makes the same HTTP call to the same
simulator. Both use the same worker shape (processes x threads) on the same Redis, in one run.

Prints jobs/s (first submit to last finish) and pickup latency p50/p99 (enqueue -> start) measured
under a paced load below capacity. Usage: ``python bench/throughput.py [N] [--processes P --threads T]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import psycopg
import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from config.catalog import agents  # noqa: E402

PG_ADMIN = os.environ.get("SINTRA_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = "redis://127.0.0.1:6379/13"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not answer")


def pct(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank) of ``values``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


class Env:
    """Vault dev server, simulator, PostgreSQL database and Redis db for one benchmark run."""

    def __init__(self) -> None:
        import hvac

        from workers.store.db import migrate
        from workers.vault.provision import provision
        from workers.vault.server import start_dev_server

        self.procs: list[subprocess.Popen[bytes]] = []
        self.tmp = Path(tempfile.mkdtemp(prefix="sintra-bench-"))
        self.bao = start_dev_server()
        provision(hvac.Client(url=self.bao.addr, token=self.bao.root_token), agents=[a.id for a in agents()],
                  approle_dir=self.tmp / "vault")
        self.sim_port, self.api_port = _port(), _port()
        self.sim = f"http://127.0.0.1:{self.sim_port}"
        self.api = f"http://127.0.0.1:{self.api_port}"
        self.db_name = f"sintra_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(PG_ADMIN, autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{self.db_name}"')
        self.db_url = PG_ADMIN.rsplit("/", 1)[0] + f"/{self.db_name}"
        migrate(self.db_url)
        redis.Redis.from_url(REDIS_URL).flushdb()
        self.env = {**os.environ, "SINTRA_DATABASE_URL": self.db_url, "SINTRA_REDIS_URL": REDIS_URL,
                    "SINTRA_VAULT_ADDR": self.bao.addr, "SINTRA_STATE_DIR": str(self.tmp),
                    "SINTRA_PROVIDER_URLS__MAILCHIMP": f"{self.sim}/mailchimp/3.0", "SINTRA_LOG_FORMAT": "json",
                    "SINTRA_LOG_LEVEL": "WARNING", "dramatiq_worker_timeout": "100",
                    "BENCH_REDIS_URL": REDIS_URL, "BENCH_PROVIDER_URL": f"{self.sim}/mailchimp/3.0",
                    "PYTHONPATH": str(ROOT)}
        self.start([sys.executable, "-m", "simulator", "--host", "127.0.0.1", "--port", str(self.sim_port)])
        self.start([sys.executable, "-m", "uvicorn", "--factory", "producers.api.app:app_factory", "--host",
                    "127.0.0.1", "--port", str(self.api_port), "--log-level", "warning"])
        _wait(f"{self.sim}/_sim/calls")
        _wait(f"{self.api}/healthz")

    def start(self, cmd: list[str], **env: str) -> subprocess.Popen[bytes]:
        """Start a child process with the benchmark environment."""
        p = subprocess.Popen(cmd, env={**self.env, **env}, cwd=ROOT, stdout=subprocess.DEVNULL,
                             stderr=open(self.tmp / "children.log", "ab"))  # noqa: SIM115
        self.procs.append(p)
        return p

    def close(self) -> None:
        """Stop everything and drop the database."""
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
        self.bao.stop()
        with psycopg.connect(PG_ADMIN, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')


def sintra_key(env: Env) -> str:
    """A workspace with Mailchimp configured and connected."""
    out = subprocess.run([sys.executable, "-m", "producers.cli", "keys", "create", "--workspace", "bench"],
                         env=env.env, cwd=ROOT, check=True, capture_output=True, text=True).stdout
    key = out.strip().splitlines()[-1]
    h = {"Authorization": f"Bearer {key}"}
    httpx.post(f"{env.api}/api/integrations/emmie/mailchimp/configure", headers=h, timeout=30,
               json={"credentials": {"api_key": "benchkey-us21", "list_id": "leads"}}).raise_for_status()
    return key


async def submit(env: Env, key: str, n: int, rate: float | None) -> float:
    """Submit ``n`` list_campaigns jobs (16 at a time, or paced at ``rate``/s); return submit seconds."""
    from producers.client import AsyncSintraClient

    sem = asyncio.Semaphore(16)
    started = time.perf_counter()
    async with AsyncSintraClient(env.api, key) as client:
        async def one(i: int) -> None:
            if rate:
                await asyncio.sleep(max(0.0, started + i / rate - time.perf_counter()))
            async with sem:
                await client.create_job("emmie", "mailchimp", "list_campaigns", {"limit": 10})
        await asyncio.gather(*(one(i) for i in range(n)))
    return time.perf_counter() - started


def sintra_phase(env: Env, key: str, n: int, rate: float | None) -> tuple[float, list[float], float]:
    """Run ``n`` Sintra jobs; return (jobs/s, pickup latencies in ms, submit seconds)."""
    with psycopg.connect(env.db_url, autocommit=True) as c:
        c.execute("DELETE FROM audit_events; DELETE FROM job_steps; DELETE FROM jobs")
    t_submit = asyncio.run(submit(env, key, n, rate))
    deadline = time.monotonic() + 600
    with psycopg.connect(env.db_url, autocommit=True) as c:
        while time.monotonic() < deadline:
            done = c.execute("SELECT count(*) FROM jobs WHERE status IN ('succeeded','failed')").fetchone()[0]
            if done >= n:
                break
            time.sleep(0.2)
        rows = c.execute("SELECT created_at, started_at, finished_at, status FROM jobs").fetchall()
    failed = sum(1 for r in rows if r[3] != "succeeded")
    if failed:
        print(f"  warning: {failed} Sintra jobs did not succeed")
    first = min(r[0] for r in rows)
    last = max(r[2] for r in rows)
    pickups = [(r[1] - r[0]).total_seconds() * 1000 for r in rows]
    return n / (last - first).total_seconds(), pickups, t_submit


def bare_phase(env: Env, n: int, rate: float | None) -> tuple[float, list[float]]:
    """Run ``n`` bare dramatiq jobs; return (jobs/s, pickup latencies in ms)."""
    import dramatiq
    from dramatiq.brokers.redis import RedisBroker

    r = redis.Redis.from_url(REDIS_URL)
    r.delete("bench:bare")
    broker = RedisBroker(url=REDIS_URL)
    msg = dramatiq.Message(queue_name="bare", actor_name="bare_call", args=(), kwargs={}, options={})
    start = time.time()
    for i in range(n):
        if rate:
            time.sleep(max(0.0, start + i / rate - time.time()))
        broker.enqueue(msg.copy(kwargs={"enqueued_at": time.time()}, message_id=str(uuid.uuid4())))
    deadline = time.monotonic() + 600
    while r.llen("bench:bare") < n and time.monotonic() < deadline:
        time.sleep(0.1)
    rows = [tuple(map(float, v.split())) for v in r.lrange("bench:bare", 0, -1)]
    return n / (max(f for _, f in rows) - start), [p * 1000 for p, _ in rows]


def main() -> None:
    """Run both systems and print the comparison."""
    ap = argparse.ArgumentParser()
    ap.add_argument("n", nargs="?", type=int, default=1000)
    ap.add_argument("--processes", type=int, default=2)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--latency-jobs", type=int, default=200)
    ap.add_argument("--rate", type=float, default=20.0, help="paced submissions per second for latency")
    args = ap.parse_args()
    env = Env()
    try:
        key = sintra_key(env)
        shape = ["--processes", str(args.processes), "--threads", str(args.threads), "--skip-logging"]
        env.start([sys.executable, "-m", "dramatiq", "workers.agents", "--queues", "agent.emmie", *shape],
                  SINTRA_WORKER_AGENT="emmie")
        env.start([sys.executable, "-m", "dramatiq", "bench.bare_actor", "--queues", "bare", *shape])
        time.sleep(3)
        print(f"warming up ({os.cpu_count()} cores, {args.processes} worker processes x {args.threads} threads)")
        sintra_phase(env, key, 50, None)
        bare_phase(env, 50, None)
        s_tput, _, s_submit = sintra_phase(env, key, args.n, None)
        b_tput, _ = bare_phase(env, args.n, None)
        _, s_lat, _ = sintra_phase(env, key, args.latency_jobs, args.rate)
        _, b_lat = bare_phase(env, args.latency_jobs, args.rate)
        print(f"\n{'system':<34}{'jobs/s':>10}{'pickup p50 ms':>16}{'pickup p99 ms':>16}")
        print(f"{'sintra (API->worker->Vault->sim)':<34}{s_tput:>10.1f}{statistics.median(s_lat):>16.1f}"
              f"{pct(s_lat, 99):>16.1f}")
        print(f"{'bare dramatiq (same call)':<34}{b_tput:>10.1f}{statistics.median(b_lat):>16.1f}"
              f"{pct(b_lat, 99):>16.1f}")
        print(f"\nN={args.n} jobs for throughput (sintra submit via HTTP API took {s_submit:.1f} s, "
              f"{args.n / s_submit:.0f} submits/s); latency from {args.latency_jobs} jobs paced at "
              f"{args.rate:g}/s. One Mailchimp GET per job against the local simulator; PostgreSQL store.")
    finally:
        env.close()


if __name__ == "__main__":
    main()
