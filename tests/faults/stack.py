"""A real-process Sintra for the fault suite and ``bench/recovery.py``.

Every component is a real process with its own log file under the run's directory: the API
(uvicorn), the scheduler, N dramatiq worker processes, the provider simulator (wrapped by
``tests/faults/simserver.py`` for time-windowed faults and latency), a private ``redis-server``
(restartable, with or without AOF), a persistent OpenBao (sealable, stoppable), and PostgreSQL
reached through a cuttable TCP proxy (:mod:`tests.faults.proxy`) in a fresh database. The broker is
Redis or RabbitMQ (a fresh vhost) through ``SINTRA_BROKER_URL``.

The test process reads job state straight from PostgreSQL (not through the proxy, so it sees the
truth during an outage) and counts side effects in the simulator's Mailchimp state through the
provider's own list endpoint (``GET /campaigns``), per job marker in the campaign title.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg

from config.providers import root_base_path
from simulator.providers.mailchimp import SEEDED_CAMPAIGNS

ROOT = Path(__file__).resolve().parents[2]
PG_ADMIN_URL = os.environ.get("SINTRA_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
RABBIT_HOST = "127.0.0.1:5672"
TERMINAL = ("succeeded", "failed", "cancelled")
QUEUE = "agent.emmie"
#: The sandbox's own campaigns (the catalog's examples name them): not side effects of the run.
SEEDED = frozenset(cid for cid, _, _ in SEEDED_CAMPAIGNS)

#: Settings of every Sintra process of the suite (names as in config/settings.py).
FAST_SETTINGS = {
    # 5 transient retries span >= 37 s (2.5 + 5 + 10 + 10 + 10 s at least), like production's 15 s minimum
    # spans minutes: an outage of ~30 s must be survivable by the retry policy, not by luck
    "SINTRA_RETRY_MIN_BACKOFF_MS": "2500",
    "SINTRA_RETRY_MAX_BACKOFF_MS": "20000",
    # heartbeat (3 s), lease (15 s) and sweep (5 s) stay at their defaults: the recovery figures are
    # production's. Only the waits that exist to be patient are shortened:
    "SINTRA_RELAY_SECONDS": "0.5",
    "SINTRA_DISPATCH_GRACE_SECONDS": "3",
    "SINTRA_STALE_MESSAGE_SECONDS": "20",  # default 60: a queued job whose message Redis lost is re-sent
    "SINTRA_CREDENTIAL_CACHE_SECONDS": "60",
}


def free_port(pair: bool = False) -> int:
    """A free TCP port on 127.0.0.1 (with ``pair``, one whose successor is free too)."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if not pair:
            return port
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port + 1))
                return port
            except OSError:
                continue


def wait_for(check: Any, timeout: float, what: str, interval: float = 0.1) -> Any:
    """Call ``check`` until it returns something truthy (or raise after ``timeout`` s)."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
            if last:
                return last
        except Exception as exc:  # noqa: BLE001 - keep trying until the deadline
            last = exc
        time.sleep(interval)
    raise TimeoutError(f"{what} not ready within {timeout:g} s (last: {last!r})")


def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


class Proc:
    """One child process in its own session (so a signal reaches its whole group), one log per start."""

    def __init__(self, name: str, cmd: list[str], env: dict[str, str], logdir: Path) -> None:
        self.name, self.cmd, self.env, self.logdir = name, cmd, env, logdir
        self.popen: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.log_path: Path | None = None
        self.logs: list[Path] = []

    def start(self) -> Proc:
        """Start (again), writing to ``<name>.<n>.log``."""
        self.log_path = self.logdir / f"{self.name}.{self.starts}.log"
        self.logs.append(self.log_path)
        self.starts += 1
        with open(self.log_path, "ab") as log:
            self.popen = subprocess.Popen(self.cmd, env=self.env, cwd=ROOT, stdin=subprocess.DEVNULL,
                                          stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        return self

    @property
    def pid(self) -> int | None:
        return self.popen.pid if self.popen else None

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def signal(self, sig: int) -> None:
        """Send ``sig`` to the process group (dramatiq's parent and its worker process alike)."""
        if self.popen is not None and self.popen.poll() is None:
            try:
                os.killpg(self.popen.pid, sig)
            except ProcessLookupError:
                pass

    def kill(self) -> None:
        """SIGKILL the group and reap it."""
        self.signal(signal.SIGKILL)
        if self.popen is not None:
            self.popen.wait(10)
        # a forked child may outlive the group leader for a moment; make sure nothing of ours is left
        if self.popen is not None:
            try:
                os.killpg(self.popen.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def stop(self, timeout: float = 20.0) -> int | None:
        """SIGTERM to the process itself (as ``docker stop`` or systemd do), wait ``timeout`` s, then
        SIGKILL the group; return the exit code. Not to the group: dramatiq's parent forwards SIGTERM to
        its worker processes, and a worker process that gets a second SIGTERM exits at once
        ("Killing worker process...", no graceful shutdown)."""
        if self.popen is None:
            return None
        if self.popen.poll() is None:
            try:
                os.kill(self.popen.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return self.popen.returncode

    def restart(self) -> Proc:
        if self.alive():
            self.stop()
        return self.start()

    def log_lines(self, index: int = -1) -> list[dict[str, Any]]:
        """The JSON lines of one start's log (``-1``: the latest)."""
        out = []
        try:
            text = self.logs[index].read_text(errors="replace")
        except (IndexError, OSError):
            return out
        for line in text.splitlines():
            if line.startswith("{"):
                try:
                    out.append(json.loads(line))
                except ValueError:
                    pass
        return out


class RedisServer:
    """A private ``redis-server`` on a free port; restartable with or without its data."""

    def __init__(self, workdir: Path, *, aof: bool = True) -> None:
        self.dir = workdir
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.aof = aof
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        args = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "yes" if self.aof else "no", "--dir", str(self.dir), "--daemonize", "no"]
        with open(self.dir / "redis.log", "ab") as log:
            self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        import redis

        wait_for(lambda: redis.Redis(port=self.port, socket_timeout=1).ping(), 15, "redis-server")

    def stop(self) -> None:
        """Graceful stop (SIGTERM: the AOF is flushed)."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(15)

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(15)

    def wipe(self) -> None:
        """Delete the data directory's persistence files (a restart without persistence)."""
        for p in self.dir.iterdir():
            if p.name != "redis.log":
                if p.is_dir():
                    for q in p.iterdir():
                        q.unlink()
                    p.rmdir()
                else:
                    p.unlink()


class Vault:
    """A persistent single-node OpenBao (raft, in the run's directory): it can be sealed and stopped."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.port = free_port(pair=True)
        self.server: Any = None
        self.start()

    def start(self) -> None:
        from workers.vault.server import start_persistent_server

        self.server = start_persistent_server(self.state_dir, port=self.port)
        self.addr = self.server.addr
        self.root_token = self.server.root_token

    def admin(self) -> Any:
        import hvac

        return hvac.Client(url=self.addr, token=self.root_token)

    def seal(self) -> None:
        self.admin().sys.seal()

    def unseal(self) -> None:
        import hvac

        keys = json.loads((self.state_dir / "openbao" / "init.json").read_text())["unseal_keys_b64"]
        hvac.Client(url=self.addr).sys.submit_unseal_keys(keys)

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()


@dataclass
class Submission:
    """What the client side saw for one idempotency key."""

    key: str
    job_id: str | None = None
    accepted: bool = False
    codes: Counter[int] = field(default_factory=Counter)
    conn_errors: int = 0
    retry_after: list[str] = field(default_factory=list)
    submitted_at: float = 0.0


@dataclass
class Account:
    """A workspace with its API key and its own Mailchimp account in the simulator."""

    workspace: str
    key: str
    mailchimp_key: str
    created: float = field(default_factory=time.time)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


#: Log events that end a message's processing in a worker (runner.py).
_DONE_EVENTS = frozenset({"job.finished", "job.skipped", "job.unknown", "job.invalid_message"})


def in_flight(proc: Proc, index: int = -1) -> set[str]:
    """Jobs one start of a worker was running when it stopped: in that start's log, the last line
    logged while processing the job's message (lines carrying ``message_id``; the sweeper's lines carry
    none) is not one that ends the message (``job.finished``, ``job.skipped``...)."""
    last: dict[str, str] = {}
    for line in proc.log_lines(index):
        if line.get("job_id") and line.get("message_id"):
            last[line["job_id"]] = line.get("event", "")
    return {job for job, event in last.items()
            if event not in _DONE_EVENTS and not event.startswith("Failed to process message")}


def failed_messages(proc: Proc, index: int = -1) -> list[dict[str, Any]]:
    """dramatiq's "Failed to process message ... with unhandled exception" lines of one start: a message
    the runner never handled (it should handle every one)."""
    return [line for line in proc.log_lines(index) if str(line.get("event", "")).startswith("Failed to process")]


def log_events(proc: Proc, event: str, index: int = -1) -> list[dict[str, Any]]:
    """The lines of one start's log whose event is ``event``."""
    return [line for line in proc.log_lines(index) if line.get("event") == event]


def _key_of(campaign: dict[str, Any]) -> str | None:
    """The job key a campaign's title carries (``fk:<key> [tag]``), or None."""
    title = str((campaign.get("settings") or {}).get("title", ""))
    return title[3:].split(" ", 1)[0] if title.startswith("fk:") else None


class Stack:
    """Everything the fault suite runs; see the module docstring."""

    def __init__(self, tmp: Path, *, broker: str = "redis", workers: int = 2, threads: int = 4,
                 aof: bool = True, extra_env: dict[str, str] | None = None) -> None:
        self.procs: list[Proc] = []
        self.vhost: str | None = None
        self.http: httpx.Client | None = None
        self.redis: RedisServer | None = None  # type: ignore[assignment]
        self.vault: Vault | None = None  # type: ignore[assignment]
        self.pg_proxy: Any = None
        self.db_name = ""
        try:
            self._start(tmp, broker, workers, threads, aof, extra_env)
        except BaseException:
            self.close()  # a stack that did not come up leaves no process, database or vhost behind
            raise

    def _start(self, tmp: Path, broker: str, workers: int, threads: int, aof: bool,
               extra_env: dict[str, str] | None) -> None:
        from simulator.urls import settings_env
        from tests.faults.proxy import TcpProxy
        from workers.store.db import migrate

        self.tmp, self.broker_kind = tmp, broker
        self.logdir = tmp / "logs"
        self.logdir.mkdir(parents=True, exist_ok=True)
        self.db_name = f"sintra_faults_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{self.db_name}"')
        self.db_direct = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{self.db_name}"
        migrate(self.db_direct)
        self.pg_proxy = TcpProxy("127.0.0.1", 5432)
        self.db_url = f"postgresql://postgres@127.0.0.1:{self.pg_proxy.port}/{self.db_name}"
        self.redis = RedisServer(tmp / "redis", aof=aof)
        self.redis.start()
        self.vault = Vault(tmp / "state")
        from config.catalog import agents
        from workers.vault.provision import provision

        provision(self.vault.admin(), agents=[a.id for a in agents()], approle_dir=tmp / "state" / "vault")
        self.sim_port, self.api_port = free_port(), free_port()
        self.sim = f"http://127.0.0.1:{self.sim_port}"
        self.api = f"http://127.0.0.1:{self.api_port}"
        if broker == "rabbitmq":
            self.vhost = f"sintra-faults-{uuid.uuid4().hex[:8]}"
            for cmd in (["add_vhost", self.vhost], ["set_permissions", "-p", self.vhost, "guest", ".*", ".*", ".*"]):
                subprocess.run(["rabbitmqctl", "-q", *cmd], check=True, capture_output=True, timeout=60)
            self.broker_url = f"amqp://guest:guest@{RABBIT_HOST}/{self.vhost}"
        else:
            self.broker_url = self.redis.url
        self.env = {**os.environ, **FAST_SETTINGS, **settings_env(self.sim),
                    "SINTRA_ENV": "test", "SINTRA_DATABASE_URL": self.db_url, "SINTRA_REDIS_URL": self.redis.url,
                    "SINTRA_BROKER_URL": self.broker_url, "SINTRA_VAULT_ADDR": self.vault.addr,
                    "SINTRA_STATE_DIR": str(tmp / "state"), "SINTRA_LOG_FORMAT": "json",
                    "SINTRA_LOG_LEVEL": "INFO", "dramatiq_worker_timeout": "100", "PYTHONPATH": str(ROOT),
                    "PYTHONUNBUFFERED": "1", **(extra_env or {})}
        for k in ("SINTRA_VAULT_ROLE_ID", "SINTRA_VAULT_SECRET_ID", "SINTRA_PROVIDER_URLS"):
            self.env.pop(k, None)
        py = sys.executable
        self.simulator = self._proc("simulator", [py, "-m", "tests.faults.simserver", "--port", str(self.sim_port)])
        self.api_proc = self._proc("api", [py, "-m", "uvicorn", "--factory", "producers.api.app:app_factory",
                                           "--host", "127.0.0.1", "--port", str(self.api_port), "--log-level",
                                           "warning", "--timeout-graceful-shutdown", "5"])
        self.scheduler = self._proc("scheduler", [py, "-m", "schedules"])
        self.workers = [self._proc(f"worker{i}", [py, "-m", "workers", "--agent", "emmie", "--",
                                                  "--worker-shutdown-timeout", "10000"],
                                   SINTRA_WORKER_CONCURRENCY=str(threads)) for i in range(workers)]
        self.simulator.start()
        wait_for(lambda: httpx.get(f"{self.sim}/_sim/calls", timeout=2).status_code == 200, 30, "simulator")
        for p in (self.api_proc, self.scheduler, *self.workers):
            p.start()
        self.wait_api()
        self.http = httpx.Client(base_url=self.api, timeout=30)

    # -- processes --------------------------------------------------------------------------------
    def _proc(self, name: str, cmd: list[str], **env: str) -> Proc:
        p = Proc(name, cmd, {**self.env, **env}, self.logdir)
        self.procs.append(p)
        return p

    def wait_api(self, timeout: float = 60) -> None:
        def up() -> bool:
            if not self.api_proc.alive():
                raise RuntimeError(f"the API exited; log {self.api_proc.log_path}")
            return httpx.get(f"{self.api}/healthz", timeout=2).status_code == 200

        wait_for(up, timeout, "API")

    def ensure_up(self) -> None:
        """Restart any component a previous scenario left down."""
        if not self.redis.proc or self.redis.proc.poll() is not None:
            self.redis.start()
        self.pg_proxy.restore()
        try:
            ok = self.vault.admin().sys.read_health_status(method="GET").status_code == 200
        except Exception:  # noqa: BLE001
            ok = False
        if not ok:
            try:
                self.vault.unseal()
            except Exception:  # noqa: BLE001 - stopped: start again
                self.vault.start()
        httpx.post(f"{self.sim}/_faults/clear", timeout=5)
        for p in (self.simulator, self.api_proc, self.scheduler, *self.workers):
            if not p.alive():
                p.start()
        self.wait_api()

    def wait_workers_ready(self, timeout: float = 60) -> None:
        """Until every worker process logged that it is up (its log says "Worker process is ready")."""
        def ready() -> bool:
            return all(w.log_path and "is ready" in w.log_path.read_text(errors="replace") for w in self.workers)

        try:
            wait_for(ready, timeout, "workers", interval=0.3)
        except TimeoutError:
            pass  # --skip-logging may hide dramatiq's line; the jobs themselves will tell

    def close(self) -> None:
        """Stop everything this stack started; drop its database and vhost (safe on a half-built stack)."""
        for p in reversed(self.procs):
            if p.alive() and p.popen is not None:
                os.kill(p.popen.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for p in self.procs:
            if p.popen is not None:
                try:
                    p.popen.wait(max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    p.kill()
        for step in (lambda: self.http and self.http.close(), lambda: self.redis and self.redis.kill(),
                     lambda: self.vault and self.vault.stop(), lambda: self.pg_proxy and self.pg_proxy.close()):
            try:
                step()
            except Exception:  # noqa: BLE001 - keep cleaning up
                pass
        if self.vhost:
            subprocess.run(["rabbitmqctl", "-q", "delete_vhost", self.vhost], capture_output=True, timeout=60)
        if self.db_name:
            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as c:
                c.execute(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')

    # -- accounts and jobs ------------------------------------------------------------------------
    def new_account(self, name: str) -> Account:
        """A workspace with a key and Mailchimp configured (a fresh simulator account)."""
        from workers.store.db import build_engine, session_scope
        from workers.store.keys import create_key

        workspace = f"{name}-{uuid.uuid4().hex[:6]}"
        engine = build_engine(self.db_direct)
        try:
            with session_scope(engine) as s:
                key = create_key(session=s, workspace=workspace)
        finally:
            engine.dispose()
        acct = Account(workspace=workspace, key=key, mailchimp_key=f"fk{uuid.uuid4().hex[:16]}-us21")
        r = self.http.post("/api/integrations/emmie/mailchimp/configure", headers=acct.headers,
                           json={"credentials": {"api_key": acct.mailchimp_key, "list_id": "leads"}})
        assert r.status_code == 200, r.text
        return acct

    @staticmethod
    def campaign_body(key: str) -> dict[str, Any]:
        """A create_campaign job whose campaign title carries ``key`` (so side effects are countable)."""
        return {"agent": "emmie", "integration": "mailchimp", "action": "create_campaign", "idempotency_key": key,
                "params": {"title": f"fk:{key}", "subject_line": "Hello", "from_name": "Acme",
                           "reply_to": "hello@acme.example", "html": "<p>Hi</p>"}}

    async def submit_many(self, acct: Account, keys: Iterable[str], *, concurrency: int = 8,
                          give_up_after: float = 120.0, rate: float | None = None,
                          body: Any = None) -> dict[str, Submission]:
        """POST /api/jobs for every key, retrying the same key after connection errors, 5xx and 503
        (honouring Retry-After) like a careful client, until accepted (200/202) or ``give_up_after`` s."""
        body = body or self.campaign_body
        out: dict[str, Submission] = {}
        sem = asyncio.Semaphore(concurrency)
        started = time.monotonic()
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        async with httpx.AsyncClient(base_url=self.api, headers=acct.headers, timeout=15, limits=limits) as client:
            async def one(i: int, key: str) -> None:
                sub = out.setdefault(key, Submission(key=key))
                if rate:
                    await asyncio.sleep(max(0.0, started + i / rate - time.monotonic()))
                async with sem:
                    sub.submitted_at = time.monotonic()
                    deadline = time.monotonic() + give_up_after
                    while time.monotonic() < deadline:
                        try:
                            r = await client.post("/api/jobs", json=body(key))
                        except httpx.TransportError:
                            sub.conn_errors += 1
                            await asyncio.sleep(0.3)
                            continue
                        sub.codes[r.status_code] += 1
                        if r.status_code in (200, 202):
                            sub.accepted, sub.job_id = True, r.json()["id"]
                            return
                        if r.status_code == 503 or r.status_code >= 500:
                            if ra := r.headers.get("retry-after"):
                                sub.retry_after.append(ra)
                            await asyncio.sleep(min(5.0, float(ra)) if ra and ra.replace(".", "").isdigit() else 1.0)
                            continue
                        return  # a 4xx: not accepted, the client gives up

            await asyncio.gather(*(one(i, k) for i, k in enumerate(keys)))
        return out

    def jobs(self, acct: Account) -> list[dict[str, Any]]:
        """Every job row of the account's workspace (straight from PostgreSQL)."""
        with psycopg.connect(self.db_direct, autocommit=True) as c:
            cur = c.execute("SELECT id, idempotency_key, status, attempts, result, error, kind, created_at, "
                            "started_at, finished_at, updated_at FROM jobs WHERE workspace_id = %s", (acct.workspace,))
            cols = [d.name for d in cur.description]
            return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]

    def wait_terminal(self, acct: Account, job_ids: set[str], timeout: float,
                      terminal_at: dict[str, float] | None = None) -> dict[str, dict[str, Any]]:
        """Poll until every job in ``job_ids`` is terminal or ``timeout`` s passed; return the rows.
        ``terminal_at`` (if given) is filled with the wall-clock time each job was first seen terminal."""
        deadline = time.monotonic() + timeout
        while True:
            rows = {j["id"]: j for j in self.jobs(acct) if j["id"] in job_ids}
            if terminal_at is not None:
                for jid, j in rows.items():
                    if j["status"] in TERMINAL and jid not in terminal_at:
                        fin = j["finished_at"]
                        terminal_at[jid] = fin.timestamp() if fin else time.time()
            if all(rows.get(j, {}).get("status") in TERMINAL for j in job_ids) or time.monotonic() > deadline:
                return rows
            time.sleep(0.5)

    def unhandled_messages(self, since: float) -> list[tuple[str, dict[str, Any]]]:
        """dramatiq's "Failed to process message" lines in every worker log since ``since`` (epoch s)."""
        out = []
        for w in self.workers:
            for i in range(len(w.logs)):
                for line in failed_messages(w, i):
                    ts = datetime.fromisoformat(str(line.get("timestamp", "")).replace("Z", "+00:00")).timestamp()
                    if ts >= since:
                        out.append((f"{w.name}.{i}", line))
        return out

    # -- simulator --------------------------------------------------------------------------------
    def campaigns(self, acct: Account) -> list[dict[str, Any]]:
        """Every campaign the run created in the account's simulated Mailchimp (paged through the provider's
        API; the sandbox's seeded campaigns, which the catalog's examples name, are not the run's)."""
        out: list[dict[str, Any]] = []
        offset = 0
        while True:
            r = httpx.get(self.sim + root_base_path("mailchimp") + "/campaigns",
                          params={"count": 1000, "offset": offset},
                          auth=("faults", acct.mailchimp_key), timeout=30)
            r.raise_for_status()
            batch = r.json()["campaigns"]
            out += [c for c in batch if c["id"] not in SEEDED]
            offset += len(batch)
            if not batch or offset >= r.json()["total_items"]:
                return out

    def campaigns_by_key(self, acct: Account) -> Counter[str]:
        """How many campaigns each job key created (title ``fk:<key> [tag]``)."""
        return Counter(k for c in self.campaigns(acct) if (k := _key_of(c)))

    def sim_window(self, provider: str, status: int, seconds: float, retry_after: float | None = None,
                   **match: str) -> None:
        """Answer every ``provider`` request with ``status`` for ``seconds`` (the provider's error body)."""
        payload: dict[str, Any] = {"provider": provider, "status": status, "seconds": seconds, **match}
        if retry_after is not None:
            payload["retry_after"] = retry_after
        httpx.post(f"{self.sim}/_faults/window", json=payload, timeout=5).raise_for_status()

    def sim_latency(self, provider: str, seconds: float, for_seconds: float = 1e9) -> None:
        httpx.post(f"{self.sim}/_faults/latency", json={"provider": provider, "seconds": seconds,
                                                         "for_seconds": for_seconds}, timeout=5).raise_for_status()

    def sim_clear(self) -> None:
        httpx.post(f"{self.sim}/_faults/clear", timeout=5).raise_for_status()

    def sim_served(self) -> dict[str, int]:
        return httpx.get(f"{self.sim}/_faults/stats", timeout=5).json()["served"]

    def sim_fault(self, provider: str, status: int, *, times: int = 1, **extra: Any) -> None:
        """A count-based simulator fault (``/_sim/faults``)."""
        httpx.post(f"{self.sim}/_sim/faults", json={"provider": provider, "status": status, "times": times,
                                                     **extra}, timeout=5).raise_for_status()

    def sim_calls(self, provider: str) -> list[dict[str, Any]]:
        return httpx.get(f"{self.sim}/_sim/calls", params={"provider": provider}, timeout=30).json()


# -- the verdict of one scenario ---------------------------------------------------------------------

class Background:
    """Run ``stack.submit_many(...)`` (or any coroutine factory) in a thread while the test injects faults."""

    def __init__(self, factory: Any) -> None:
        import threading

        self.result: Any = None
        self.error: BaseException | None = None

        def run() -> None:
            try:
                self.result = asyncio.run(factory())
            except BaseException as exc:  # noqa: BLE001 - re-raised by join()
                self.error = exc

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()

    def join(self, timeout: float = 300) -> Any:
        self.thread.join(timeout)
        if self.thread.is_alive():
            raise TimeoutError("background submission did not finish")
        if self.error is not None:
            raise self.error
        return self.result


@dataclass
class Verdict:
    """Counts every scenario asserts on, and the one-line summary the lead quotes."""

    name: str
    accepted: int = 0
    succeeded: int = 0
    failed: int = 0
    cancelled: int = 0
    stuck: dict[str, int] = field(default_factory=dict)
    lost: int = 0
    duplicates: int = 0
    unrecorded: int = 0
    extra: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def line(self) -> str:
        stuck = sum(self.stuck.values())
        detail = ",".join(f"{k} {v}" for k, v in sorted(self.stuck.items()))
        bits = [f"accepted {self.accepted}", f"succeeded {self.succeeded}", f"failed {self.failed}",
                f"stuck {stuck}" + (f" ({detail})" if detail else ""), f"lost {self.lost}",
                f"duplicates {self.duplicates}", f"unrecorded side effects {self.unrecorded}"]
        bits += [f"{k} {v}" for k, v in self.extra.items()]
        return f"FAULTS {self.name}: " + "; ".join(bits)


def judge(stack: Stack, acct: Account, subs: dict[str, Submission], name: str, *, timeout: float,
          allow_failed: bool = False, terminal_at: dict[str, float] | None = None) -> Verdict:
    """Wait for every accepted job, then count: terminal, stuck, lost, duplicated and unrecorded effects."""
    v = Verdict(name)
    accepted = {s.job_id: s for s in subs.values() if s.accepted and s.job_id}
    v.accepted = len(accepted)
    rows = stack.wait_terminal(acct, set(accepted), timeout, terminal_at)
    by_status = Counter(rows[j]["status"] if j in rows else "missing" for j in accepted)
    v.succeeded, v.failed, v.cancelled = by_status["succeeded"], by_status["failed"], by_status["cancelled"]
    v.lost = by_status["missing"]
    v.stuck = {s: n for s, n in by_status.items() if s not in (*TERMINAL, "missing")}
    per_key = stack.campaigns_by_key(acct)
    v.duplicates = sum(n - 1 for n in per_key.values() if n > 1)
    recorded = {str((rows[j].get("result") or {}).get("id")) for j in accepted if j in rows
                and rows[j]["status"] == "succeeded" and isinstance(rows[j].get("result"), dict)}
    status_by_key = {s.key: rows[s.job_id]["status"] for s in subs.values() if s.job_id in rows}
    # a campaign of a job that is still running is counted under "stuck", not here
    v.unrecorded = sum(1 for c in stack.campaigns(acct) if c["id"] not in recorded
                       and status_by_key.get(_key_of(c)) in (*TERMINAL, None))
    unhandled = stack.unhandled_messages(since=acct.created)
    v.extra["messages failed outside the runner"] = len(unhandled)
    if unhandled:
        name, line = unhandled[0]
        exc = (line.get("exception") or [{}])[0]
        v.problems.append(f"{len(unhandled)} messages failed in dramatiq with an unhandled exception (the runner "
                          f"never saw them), e.g. {name}: {exc.get('exc_type')}: {str(exc.get('exc_value'))[:150]}")
    if v.lost:
        v.problems.append(f"{v.lost} accepted jobs have no row")
    if v.stuck:
        sample = [j for j in accepted if j in rows and rows[j]["status"] not in TERMINAL][:5]
        v.problems.append(f"{sum(v.stuck.values())} accepted jobs not terminal after the bound "
                          f"({timeout:g} s): {v.stuck}; e.g. {sample}")
    if v.duplicates:
        v.problems.append(f"{v.duplicates} duplicated side effects: "
                          f"{[k for k, n in per_key.items() if n > 1][:5]}")
    if v.unrecorded:
        v.problems.append(f"{v.unrecorded} campaigns exist that no succeeded job recorded as its result")
    if v.failed and not allow_failed:
        errors = Counter(str((rows[j].get("error") or {}).get("message", ""))[:120] for j in accepted
                         if j in rows and rows[j]["status"] == "failed")
        v.problems.append(f"{v.failed} jobs failed: {dict(errors.most_common(3))}")
    return v


#: Every summary line of this run, printed again at the end of the session (tests/faults/conftest.py).
SUMMARIES: list[str] = []


def report(v: Verdict) -> None:
    """Print the one-line summary and keep it for the end-of-run table."""
    line = v.line()
    SUMMARIES.append(line + "".join(f"\n    problem: {p}" for p in v.problems))
    print("\n" + line, flush=True)
