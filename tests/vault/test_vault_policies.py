"""Policies: each agent reads and rewrites only its own credentials; the API writes, deletes, never reads."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import hvac
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
#: One integration of each agent (agents may read only their own integrations' paths).
OWN = {a.id: a.integrations[0].id for a in agents()}
INTEGRATION = "crm_demo"


@pytest.fixture(scope="module")
def every_agent_ws(vault: Vault) -> str:
    """A workspace with credentials stored for every agent."""
    ws = f"ws-{uuid.uuid4().hex[:8]}"
    for agent in AGENTS:
        for integration in (OWN[agent], INTEGRATION):
            vault.admin.secrets.kv.v2.create_or_update_secret(
                f"agents/{agent}/tenants/{ws}/{integration}", secret={"api_key": f"key-of-{agent}"})
    return ws


def test_policies_are_printable_and_grant_only_their_own_integrations() -> None:
    print(agent_policy("soshie"), api_policy(), sep="\n")
    own = [i.id for i in next(a for a in agents() if a.id == "soshie").integrations]
    for integration in own:
        assert f'path "secret/data/agents/soshie/tenants/+/{integration}"' in agent_policy("soshie")
        assert f'path "secret/metadata/agents/soshie/tenants/+/{integration}"' in agent_policy("soshie")
        # and its pending OAuth authorization (code and PKCE verifier written by the API)
        assert f'path "secret/data/agents/soshie/tenants/+/{integration}-oauth"' in agent_policy("soshie")
    assert agent_policy("soshie").count("path ") == 4 * len(own) and api_policy().count("path ") == 4
    assert "*" not in agent_policy("soshie") and "agents/+/tenants/*" not in api_policy()
    api = api_policy()
    for prefix in ("agents/+/tenants/+/+", "webhooks/*"):  # the API writes credentials and webhook secrets
        data_rule = api.split(f'path "secret/data/{prefix}"')[1].split("}")[0]
        assert '"read"' not in data_rule and '"create", "update"' in data_rule
    hooks = webhooks_policy()  # the dispatcher only reads signing secrets
    assert hooks.count("path ") == 1 and 'path "secret/data/webhooks/*"' in hooks
    assert hooks.split("capabilities = ")[1].startswith('["read"]')


@pytest.mark.parametrize("agent", AGENTS)
def test_agent_cannot_read_or_write_paths_of_integrations_it_does_not_have(
        vault: Vault, every_agent_ws: str, agent: str) -> None:
    session = vault.session(agent)
    for path in (f"agents/{agent}/tenants/{every_agent_ws}/{INTEGRATION}",
                 f"agents/{agent}/tenants/{every_agent_ws}/{OWN[agent]}/deeper",
                 f"agents/{agent}/config"):
        with pytest.raises(VaultForbidden):
            session.call(lambda c, p=path: c.kv_read("secret", p), path=path)
        with pytest.raises(VaultForbidden):
            session.call(lambda c, p=path: c.kv_write("secret", p, {"a": "b"}), path=path)


def test_secret_ids_expire_and_have_a_use_limit(vault: Vault) -> None:
    for identity in ("api", "webhooks", *AGENTS):
        name = f"sintra-{identity}" if identity in ("api", "webhooks") else f"sintra-agent-{identity}"
        role = vault.admin.auth.approle.read_role(name)["data"]
        assert role["secret_id_ttl"] > 0 and role["secret_id_num_uses"] > 0


def test_provisioning_can_bind_logins_to_networks(vault: Vault, tmp_path: Path) -> None:
    roles = provision(vault.admin, agents=["emmie"], approle_dir=tmp_path / "vault", bound_cidrs=["10.9.0.0/16"])
    role = vault.admin.auth.approle.read_role("sintra-agent-emmie")["data"]
    assert role["secret_id_bound_cidrs"] == ["10.9.0.0/16"] and role["token_bound_cidrs"] == ["10.9.0.0/16"]
    with pytest.raises(hvac.exceptions.InvalidRequest):  # this test does not call from 10.9/16
        hvac.Client(url=vault.admin.url).auth.approle.login(roles["emmie"].role_id, roles["emmie"].secret_id)
    provision(vault.admin, agents=AGENTS, approle_dir=vault.approle_dir)  # unbind again for the other tests


@pytest.mark.parametrize("agent", AGENTS)
def test_agent_reads_and_writes_its_own_credentials_and_is_forbidden_everywhere_else(
        vault: Vault, every_agent_ws: str, agent: str) -> None:
    source = VaultCredentialSource(vault.session(agent))
    creds = source.get(workspace=every_agent_ws, agent=agent, integration=OWN[agent],
                       secret_fields=frozenset({"api_key"}))
    assert creds["api_key"] == f"key-of-{agent}"
    new = source.update(workspace=every_agent_ws, agent=agent, integration=OWN[agent],
                        values={"api_key": f"key-of-{agent}"}, cas=creds.version)
    assert new == creds.version + 1
    for other in AGENTS:
        if other == agent:
            continue
        with pytest.raises(VaultForbidden, match=f"agents/{other}/"):
            source.get(workspace=every_agent_ws, agent=other, integration=OWN[other],
                       secret_fields=frozenset({"api_key"}))
        with pytest.raises(VaultForbidden):
            source.update(workspace=every_agent_ws, agent=other, integration=OWN[other],
                          values={"api_key": "stolen"}, cas=1)


def test_agent_cannot_hard_delete_even_its_own_credentials(vault: Vault, every_agent_ws: str) -> None:
    session = vault.session("penn")
    path = f"agents/penn/tenants/{every_agent_ws}/{OWN['penn']}"
    with pytest.raises(VaultForbidden):
        session.call(lambda c: c.kv_delete_all("secret", path), path=path)


def test_api_writes_and_deletes_every_agents_credentials_but_cannot_read_them(
        vault: Vault, workspace: str, seed: Callable[..., int]) -> None:
    session = vault.session("api")
    writer = CredentialWriter(session)
    for agent in AGENTS:
        assert writer.write(workspace, agent, "crm", {"api_key": "k1"}) == 1
        path = f"agents/{agent}/tenants/{workspace}/crm"
        with pytest.raises(VaultForbidden, match="access to secret/agents/"):
            session.call(lambda c, p=path: c.kv_read("secret", p), path=path)
        assert writer.delete(workspace, agent, "crm") is True


def test_api_cannot_write_outside_tenant_paths(vault: Vault) -> None:
    session = vault.session("api")
    path = "agents/soshie/config"
    with pytest.raises(VaultForbidden):
        session.call(lambda c: c.kv_write("secret", path, {"a": "b"}), path=path)


def test_provisioning_again_keeps_working_logins(vault: Vault) -> None:
    again = provision(vault.admin, agents=AGENTS, approle_dir=vault.approle_dir)
    assert again == vault.roles
    for identity in ("api", *AGENTS):
        assert (vault.approle_dir / f"{identity}.json").stat().st_mode & 0o777 == 0o600
    assert vault.approle_dir.stat().st_mode & 0o777 == 0o700
    assert vault.session("emmie").call(lambda c: c.lookup_self())["data"]["policies"] == \
        ["default", "sintra-agent-emmie"]
