"""``make run``: the whole stack on this machine, then the product's example tasks.

Starts a persistent OpenBao (raft, under .sintra/), provisions it, migrates the database, starts the
provider simulator, the API on 127.0.0.1:8000 and one worker process per agent, creates an API key,
runs the examples through the Python client and stays up until Ctrl-C, which stops every process
it started.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from config.catalog import agents  # noqa: E402
from config.settings import get_settings  # noqa: E402
from simulator.urls import settings_env  # noqa: E402

API = "http://127.0.0.1:8000"
SIMULATOR = "http://127.0.0.1:8100"
VAULT_PORT = 18210


def _wait_http(url: str, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1.0).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{what} did not come up at {url} within {timeout:g} s")


def _free(port: int) -> None:
    import socket

    with socket.socket() as s:
        if s.connect_ex(("127.0.0.1", port)) == 0:
            raise SystemExit(f"port {port} is already in use: stop whatever listens there (an earlier "
                             "`make run`?) and try again")


def main() -> int:
    """Start everything, run the examples, wait for Ctrl-C."""
    os.chdir(ROOT)
    # Ctrl-C and SIGTERM stop everything, even if the shell started us with SIGINT ignored
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    for port in (8000, 8100, VAULT_PORT):
        _free(port)
    from workers.store.db import migrate
    from workers.vault.provision import provision
    from workers.vault.server import start_persistent_server

    # every state file this command and its children write (database, logs, OpenBao's data, AppRole
    # files) is readable by this user only: 0600 files in 0700 directories
    os.umask(0o077)
    state = Path(os.environ.get("SINTRA_STATE_DIR", ".sintra"))
    state.mkdir(mode=0o700, exist_ok=True)
    state.chmod(0o700)
    children: list[Child] = []
    bao = start_persistent_server(state, port=VAULT_PORT)
    try:
        import hvac

        admin = hvac.Client(url=bao.addr, token=bao.root_token)
        provision(admin, agents=[a.id for a in agents()], approle_dir=state / "vault")
        print(f"OpenBao      {bao.addr}  (raft storage in {state / 'openbao'}, unsealed, AppRoles provisioned)")
        env = {**os.environ, "SINTRA_STATE_DIR": str(state), "SINTRA_VAULT_ADDR": bao.addr,
               **settings_env(SIMULATOR),
               "dramatiq_worker_timeout": "100"}
        os.environ.update(env)
        get_settings.cache_clear()
        migrate(get_settings().db_url)
        print(f"Database     {get_settings().db_url} (migrated)")
        children += _start_processes(env)
        _wait_http(f"{SIMULATOR}/_sim/calls", "the provider simulator")
        _wait_http(f"{API}/healthz", "the API")
        key = _create_key(env)
        from scripts.examples import run_examples

        run_examples(API, key)
        print(f"\nSintra is up.\n  Console    {API}/  (sign in with the API key below)\n"
              f"  API        {API}  (docs: {API}/docs)\n  Simulator  {SIMULATOR}\n"
              f"  Vault      {bao.addr}\n  API key    {key}\n\nCtrl-C stops every process.")
        _supervise(children)
        return 0
    except KeyboardInterrupt:
        print("\nstopping...")
        return 0
    finally:
        _stop(children)
        bao.stop()


class Child:
    """A supervised process: restarted when it dies (a dead worker is not a reason to stop everything)."""

    def __init__(self, name: str, cmd: list[str], env: dict[str, str]) -> None:
        self.name, self.cmd, self.env = name, cmd, env
        self.restarts, self.next_start = 0, 0.0
        self.proc = self._spawn()

    def _spawn(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen(self.cmd, env=self.env, start_new_session=True)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def poll(self) -> int | None:
        return self.proc.poll()

    def wait(self, timeout: float | None = None) -> int:
        return self.proc.wait(timeout=timeout)

    def check(self, now: float) -> None:
        """Restart the process if it exited, backing off 1, 2, 4 ... 30 s when it keeps dying."""
        if self.proc.poll() is None:
            return
        if self.next_start == 0.0:
            delay = min(30.0, 2.0 ** min(self.restarts, 5))
            print(f"{self.name} exited with {self.proc.returncode}; restarting in {delay:g} s", file=sys.stderr)
            self.next_start = now + delay
        elif now >= self.next_start:
            self.restarts += 1
            self.next_start = 0.0
            self.proc = self._spawn()


def _supervise(children: list[Child]) -> None:
    """Keep every process running until Ctrl-C."""
    while True:
        now = time.monotonic()
        for child in children:
            child.check(now)
        time.sleep(0.5)


def _start_processes(env: dict[str, str]) -> list[Child]:
    py = sys.executable
    procs = [Child("simulator", [py, "-m", "simulator", "--host", "127.0.0.1", "--port", "8100",
                                 "--log-level", "warning"], env),
             Child("api", [py, "-m", "uvicorn", "--factory", "producers.api.app:app_factory", "--host",
                           "127.0.0.1", "--port", "8000", "--log-level", "warning"], env),
             Child("scheduler", [py, "-m", "schedules"], env)]
    for spec in agents():
        worker_env = {**env, "SINTRA_WORKER_AGENT": spec.id}
        procs.append(Child(f"worker {spec.id}", [py, "-m", "workers", "--agent", spec.id, "--",
                                                 "--worker-shutdown-timeout", "10000"], worker_env))
    print(f"Processes    simulator, API, scheduler, {len(agents())} agent workers "
          f"({', '.join(a.id for a in agents())}); any that dies is restarted")
    return procs


def _create_key(env: dict[str, str]) -> str:
    out = subprocess.run([sys.executable, "-m", "producers.cli", "keys", "create", "--workspace", "demo"],
                         env=env, check=True, capture_output=True, text=True).stdout
    return out.strip().splitlines()[-1]


def _stop(children: list[Child]) -> None:
    for p in children:
        if p.poll() is None:
            # the process itself, not its group: dramatiq's parent forwards SIGTERM to its workers, and a
            # worker that gets a second SIGTERM exits at once instead of finishing its jobs
            os.kill(p.pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    for p in children:
        try:
            p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()


if __name__ == "__main__":
    raise SystemExit(main())
