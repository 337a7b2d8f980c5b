"""``sintra vault bootstrap`` brings a fresh raft server into service, and is idempotent."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from workers.credentials.vault import VaultCredentialSource
from workers.vault.bootstrap import bootstrap
from workers.vault.client import VaultSession
from workers.vault.server import BaoServer, _raft_config, _spawn, find_bao, free_port
from workers.vault.writer import CredentialWriter


def _bare_raft_server(tmp_path: Path) -> BaoServer:
    base = tmp_path / "bao"
    (base / "data").mkdir(parents=True)
    port = free_port()
    config = base / "server.hcl"
    config.write_text(_raft_config(base, port))
    proc = _spawn([find_bao(), "server", f"-config={config}"], base / "server.log")
    return BaoServer(f"http://127.0.0.1:{port}", "", proc, base / "server.log")


def test_bootstrap_initialises_unseals_and_provisions_a_fresh_server(tmp_path: Path) -> None:
    server = _bare_raft_server(tmp_path)
    state = tmp_path / "state"
    try:
        ids = bootstrap(server.addr, state, agents=["emmie"])
        assert set(ids) == {"api", "webhooks", "emmie"}
        init = state / "openbao" / "init.json"
        assert stat.S_IMODE(init.stat().st_mode) == 0o600 and json.loads(init.read_text())["root_token"]
        again = bootstrap(server.addr, state, agents=["emmie"])  # idempotent: same identities still work
        api = VaultSession(server.addr, again["api"].role_id, again["api"].secret_id)
        CredentialWriter(api).write("ws1", "emmie", "mailchimp", {"api_key": "k-boot-123"})
        worker = VaultSession(server.addr, again["emmie"].role_id, again["emmie"].secret_id)
        creds = VaultCredentialSource(worker).get(workspace="ws1", agent="emmie", integration="mailchimp",
                                                  secret_fields=frozenset({"api_key"}))
        assert creds["api_key"] == "k-boot-123"
    finally:
        server.stop()
