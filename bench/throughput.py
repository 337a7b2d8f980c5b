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
from typing import Any
from pathlib import Path

import httpx
import psycopg
import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from config.catalog import agents  # noqa: E402
from config.providers import root_base_path  # noqa: E402
from simulator.urls import settings_env  # noqa: E402

PG_ADMIN = os.environ.get("SINTRA_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
#: The Redis database the benchmarks use (flushed at start): ``BENCH_REDIS_URL`` or db 11.
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/11")


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

    def __init__(self, sim_module: str = "simulator") -> None:
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
                    **settings_env(self.sim), "SINTRA_LOG_FORMAT": "json",
                    "SINTRA_LOG_LEVEL": "WARNING", "dramatiq_worker_timeout": "100",
                    "BENCH_REDIS_URL": REDIS_URL, "BENCH_PROVIDER_URL": self.sim + root_base_path("mailchimp"),
                    # the benchmark measures throughput, not the throttle (it still runs on every request)
                    "SINTRA_RATE_LIMIT_PER_KEY": "100000000", "SINTRA_RATE_LIMIT_PER_IP": "100000000",
                    # BENCH_EXTRA_PYTHONPATH: try packages not installed in the venv (e.g. uvloop, httptools)
                    "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("BENCH_EXTRA_PYTHONPATH")]))}
        self.vhosts: list[str] = []
        self.api_pids: dict[str, int] = {}
        sim_args = ["--port", str(self.sim_port)] + (["--host", "127.0.0.1"] if sim_module == "simulator" else [])
        self.start([sys.executable, "-m", sim_module, *sim_args])
        self.start_api(self.api_port)
        _wait(f"{self.sim}/_sim/calls")

    def start_api(self, port: int, **env: str) -> str:
        """Serve the API (one uvicorn process, one worker) on ``port``; return its URL once it answers."""
        p = self.start([sys.executable, "-m", "uvicorn", "--factory", "producers.api.app:app_factory", "--host",
                        "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log"], **env)
        _wait(f"http://127.0.0.1:{port}/healthz")
        self.api_pids[f"http://127.0.0.1:{port}"] = p.pid
        return f"http://127.0.0.1:{port}"

    def rabbitmq_url(self) -> str:
        """A RabbitMQ URL on a fresh private vhost (deleted at :meth:`close`)."""
        vhost = f"sintra-bench-{uuid.uuid4().hex[:8]}"
        for cmd in (["add_vhost", vhost], ["set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"]):
            subprocess.run(["rabbitmqctl", "-q", *cmd], check=True, capture_output=True, timeout=60)
        self.vhosts.append(vhost)
        return f"amqp://guest:guest@127.0.0.1:5672/{vhost}"

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
        for vhost in self.vhosts:
            subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost], capture_output=True, timeout=60)
        with psycopg.connect(PG_ADMIN, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')


def sintra_key(env: Env, workspace: str = "bench") -> str:
    """A workspace with Mailchimp configured and connected."""
    out = subprocess.run([sys.executable, "-m", "producers.cli", "keys", "create", "--workspace", workspace],
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


def sintra_results(env: Env, n: int) -> tuple[float, list[float]]:
    """Wait for ``n`` Sintra jobs; return (drain jobs/s from first start to last finish, pickups in ms)."""
    deadline = time.monotonic() + 600
    with psycopg.connect(env.db_url, autocommit=True) as c:
        while time.monotonic() < deadline:
            done = c.execute("SELECT count(*) FROM jobs WHERE status IN ('succeeded','failed')").fetchone()[0]
            if done >= n:
                break
            time.sleep(0.2)
        rows = c.execute("SELECT created_at, started_at, finished_at, status FROM jobs").fetchall()
        c.execute("DELETE FROM audit_events; DELETE FROM job_steps; DELETE FROM jobs")
    failed = sum(1 for r in rows if r[3] != "succeeded")
    if failed:
        print(f"  warning: {failed} of {n} Sintra jobs did not succeed")
    span = (max(r[2] for r in rows) - min(r[1] for r in rows)).total_seconds()
    return n / span, [(r[1] - r[0]).total_seconds() * 1000 for r in rows]


def bare_enqueue(n: int, rate: float | None, *, broker_url: str = REDIS_URL, probe: bool = True) -> None:
    """Enqueue ``n`` bare messages (paced at ``rate``/s when given); ``probe=False`` marks background load."""
    import dramatiq

    broker: dramatiq.Broker
    if broker_url.startswith("amqp"):
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        broker = RabbitmqBroker(url=broker_url)
    else:
        from dramatiq.brokers.redis import RedisBroker

        broker = RedisBroker(url=broker_url)
    msg: dramatiq.Message[Any] = dramatiq.Message(queue_name="bare", actor_name="bare_call", args=(), kwargs={},
                                                  options={})
    start = time.time()
    for i in range(n):
        if rate:
            time.sleep(max(0.0, start + i / rate - time.time()))
        broker.enqueue(msg.copy(kwargs={"enqueued_at": time.time(), "probe": probe}, message_id=str(uuid.uuid4())))
    broker.close()


def bare_results(n: int) -> tuple[float, list[float]]:
    """Wait for ``n`` bare jobs; return (drain jobs/s, pickups in ms)."""
    r = redis.Redis.from_url(REDIS_URL)
    deadline = time.monotonic() + 600
    while r.llen("bench:bare") < n and time.monotonic() < deadline:
        time.sleep(0.1)
    rows = [tuple(map(float, v.split())) for v in r.lrange("bench:bare", 0, -1)]
    starts = [float(v) for v in r.lrange("bench:bare:start", 0, -1)]
    r.delete("bench:bare", "bench:bare:start")
    return n / (max(f for _, f, _ in rows) - min(starts)), [p * 1000 for p, _, probe in rows if probe]


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
    shape = ["--processes", str(args.processes), "--threads", str(args.threads), "--skip-logging"]
    sintra_cmd = [sys.executable, "-m", "dramatiq", "workers.agents", "--queues", "agent.emmie", *shape]
    bare_cmd = [sys.executable, "-m", "dramatiq", "bench.bare_actor", "--queues", "bare", *shape]
    try:
        key = sintra_key(env)
        print(f"{os.cpu_count()} cores; workers: {args.processes} processes x {args.threads} threads each")
        # 1. submit N through the HTTP API while no worker runs, then drain them with the worker
        s_submit = asyncio.run(submit(env, key, args.n, None))
        env.start(sintra_cmd, SINTRA_WORKER_AGENT="emmie")
        s_drain, _ = sintra_results(env, args.n)
        # 2. the same for bare dramatiq: enqueue N, then drain
        bare_enqueue(args.n, None)
        env.start(bare_cmd)
        b_drain, _ = bare_results(args.n)
        # 3. pickup latency under a paced load, both workers idle-polling
        asyncio.run(submit(env, key, args.latency_jobs, args.rate))
        _, s_lat = sintra_results(env, args.latency_jobs)
        bare_enqueue(args.latency_jobs, args.rate)
        _, b_lat = bare_results(args.latency_jobs)
        print(f"\n{'system':<34}{'drain jobs/s':>13}{'pickup p50 ms':>15}{'pickup p99 ms':>15}")
        print(f"{'sintra (worker->Vault->sim->PG)':<34}{s_drain:>13.1f}{statistics.median(s_lat):>15.1f}"
              f"{pct(s_lat, 99):>15.1f}")
        print(f"{'bare dramatiq (same HTTP call)':<34}{b_drain:>13.1f}{statistics.median(b_lat):>15.1f}"
              f"{pct(b_lat, 99):>15.1f}")
        print(f"\nsintra API: {args.n} jobs submitted over HTTP in {s_submit:.1f} s = {args.n / s_submit:.0f} "
              f"jobs/s (16 concurrent clients; auth, validation, DB insert, audit row, enqueue)")
        print(f"N={args.n} for drain (first start to last finish); latency from {args.latency_jobs} jobs paced "
              f"at {args.rate:g}/s (enqueue/insert to start). One Mailchimp GET per job, local simulator.")
    finally:
        env.close()


if __name__ == "__main__":
    main()
