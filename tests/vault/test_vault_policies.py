"""Policies: each agent reads and rewrites only its own credentials; the API writes, deletes, never reads."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

from config.catalog import agents
from workers.credentials.vault import VaultCredentialSource
from workers.vault.client import VaultForbidden
from workers.vault.provision import agent_policy, api_policy, provision, webhooks_policy
from workers.vault.writer import CredentialWriter

if TYPE_CHECKING:
    from conftest import Vault

#: The seven agents, from the catalog (pure data: safe to read at import time for parametrize).
AGENTS = tuple(a.id for a in agents())
INTEGRATION = "demo-integration"


@pytest.fixture(scope="module")
def every_agent_ws(vault: Vault) -> str:
    """A workspace with credentials stored for every agent."""
    ws = f"ws-{uuid.uuid4().hex[:8]}"
    for agent in AGENTS:
        vault.admin.secrets.kv.v2.create_or_update_secret(
            f"agents/{agent}/tenants/{ws}/{INTEGRATION}", secret={"api_key": f"key-of-{agent}"})
    return ws


def test_policies_are_printable_and_grant_only_their_prefixes() -> None:
    print(agent_policy("soshie"), api_policy(), sep="\n")
    assert 'path "secret/data/agents/soshie/*"' in agent_policy("soshie")
    assert 'path "secret/metadata/agents/soshie/*"' in agent_policy("soshie")
    assert agent_policy("soshie").count("path ") == 2 and api_policy().count("path ") == 4
    api = api_policy()
    for prefix in ("agents/+/tenants/*", "webhooks/*"):  # the API writes credentials and webhook secrets
        data_rule = api.split(f'path "secret/data/{prefix}"')[1].split("}")[0]
        assert '"read"' not in data_rule and '"create", "update"' in data_rule
    hooks = webhooks_policy()  # the dispatcher only reads signing secrets
    assert hooks.count("path ") == 1 and 'path "secret/data/webhooks/*"' in hooks
    assert hooks.split("capabilities = ")[1].startswith('["read"]')


@pytest.mark.parametrize("agent", AGENTS)
def test_agent_reads_and_writes_its_own_credentials_and_is_forbidden_everywhere_else(
        vault: Vault, every_agent_ws: str, agent: str) -> None:
    source = VaultCredentialSource(vault.session(agent))
    creds = source.get(workspace=every_agent_ws, agent=agent, integration=INTEGRATION,
                       secret_fields=frozenset({"api_key"}))
    assert creds["api_key"] == f"key-of-{agent}"
    new = source.update(workspace=every_agent_ws, agent=agent, integration=INTEGRATION,
                        values={"api_key": f"key-of-{agent}"}, cas=creds.version)
    assert new == creds.version + 1
    for other in AGENTS:
        if other == agent:
            continue
        with pytest.raises(VaultForbidden, match=f"agents/{other}/"):
            source.get(workspace=every_agent_ws, agent=other, integration=INTEGRATION,
                       secret_fields=frozenset({"api_key"}))
        with pytest.raises(VaultForbidden):
            source.update(workspace=every_agent_ws, agent=other, integration=INTEGRATION,
                          values={"api_key": "stolen"}, cas=1)


def test_agent_cannot_hard_delete_even_its_own_credentials(vault: Vault, every_agent_ws: str) -> None:
    session = vault.session("penn")
    path = f"agents/penn/tenants/{every_agent_ws}/{INTEGRATION}"
    with pytest.raises(VaultForbidden):
        session.call(lambda c: c.secrets.kv.v2.delete_metadata_and_all_versions(path), path=path)


def test_api_writes_and_deletes_every_agents_credentials_but_cannot_read_them(
        vault: Vault, workspace: str, seed: Callable[..., int]) -> None:
    session = vault.session("api")
    writer = CredentialWriter(session)
    for agent in AGENTS:
        assert writer.write(workspace, agent, "crm", {"api_key": "k1"}) == 1
        path = f"agents/{agent}/tenants/{workspace}/crm"
        with pytest.raises(VaultForbidden, match="access to secret/agents/"):
            session.call(lambda c, p=path: c.secrets.kv.v2.read_secret_version(
                p, raise_on_deleted_version=True), path=path)
        assert writer.delete(workspace, agent, "crm") is True


def test_api_cannot_write_outside_tenant_paths(vault: Vault) -> None:
    session = vault.session("api")
    path = "agents/soshie/config"
    with pytest.raises(VaultForbidden):
        session.call(lambda c: c.secrets.kv.v2.create_or_update_secret(path, secret={"a": "b"}), path=path)


def test_provisioning_again_keeps_working_logins(vault: Vault) -> None:
    again = provision(vault.admin, agents=AGENTS, approle_dir=vault.approle_dir)
    assert again == vault.roles
    for identity in ("api", *AGENTS):
        assert (vault.approle_dir / f"{identity}.json").stat().st_mode & 0o777 == 0o600
    assert vault.approle_dir.stat().st_mode & 0o777 == 0o700
    assert vault.session("emmie").call(lambda c: c.auth.token.lookup_self())["data"]["policies"] == \
        ["default", "sintra-agent-emmie"]
