"""VaultSession: re-login on a revoked token, renewal at 2/3 of the TTL, Vault down, errors leak nothing."""

from __future__ import annotations

import os
import shutil
import socket
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import hvac
import pytest

from config.settings import Settings
from workers.credentials.vault import VaultCredentialSource
from workers.errors import PermanentError, TransientError, VaultUnavailable
from workers.vault.client import VaultForbidden, VaultLoginFailed, VaultSession, credential_path
from workers.vault.provision import provision
from workers.vault.server import free_port
from workers.vault.writer import CredentialWriter

if TYPE_CHECKING:
    from pathlib import Path

    from conftest import Vault

    from workers.vault.server import BaoServer

SECRET = frozenset({"api_key"})


def _lookup(session: VaultSession) -> dict[str, object]:
    return session.call(lambda c: c.lookup_self())["data"]  # type: ignore[no-any-return]


def test_revoked_token_is_replaced_by_a_fresh_login_transparently(vault: Vault, workspace: str) -> None:
    CredentialWriter(vault.session("api")).write(workspace, "soshie", "x", {"api_key": "k-revoke"})
    source = VaultCredentialSource(vault.session("soshie"))

    def read() -> str:
        creds = source.get(workspace=workspace, agent="soshie", integration="x", secret_fields=SECRET)
        return creds["api_key"]

    assert read() == "k-revoke"
    old = source.session.token_accessor
    vault.admin.auth.token.revoke_accessor(old)
    assert read() == "k-revoke"
    assert source.session.token_accessor not in ("", old)


def test_token_is_renewed_at_two_thirds_of_its_ttl_and_replaced_at_its_max_ttl(vault: Vault) -> None:
    sessions: dict[str, VaultSession] = {}
    for name, max_ttl in (("renewable", "60s"), ("capped", "4s")):
        role = f"sintra-test-{name}"
        vault.admin.auth.approle.create_or_update_approle(role, token_policies=["sintra-agent-penn"],
                                                          token_ttl="3s", token_max_ttl=max_ttl)
        role_id = vault.admin.auth.approle.read_role_id(role)["data"]["role_id"]
        secret_id = vault.admin.auth.approle.generate_secret_id(role)["data"]["secret_id"]
        sessions[name] = VaultSession(vault.server.addr, role_id, secret_id, identity=name)
    first = {name: (_lookup(s), s.token_accessor)[1] for name, s in sessions.items()}
    time.sleep(2.2)  # past 2/3 of 3 s: the next call renews first
    renewed, capped = _lookup(sessions["renewable"]), _lookup(sessions["capped"])
    assert sessions["renewable"].token_accessor == first["renewable"] and int(str(renewed["ttl"])) >= 2
    assert sessions["capped"].token_accessor != first["capped"]  # renewal hit max_ttl: logged in again
    assert int(str(capped["ttl"])) >= 2


def test_policy_denial_is_permanent_and_names_the_path_only(vault: Vault, workspace: str) -> None:
    source = VaultCredentialSource(vault.session("penn"))
    with pytest.raises(VaultForbidden) as info:
        source.get(workspace=workspace, agent="soshie", integration="x", secret_fields=SECRET)
    exc = info.value
    assert isinstance(exc, PermanentError) and f"secret/agents/soshie/tenants/{workspace}/x" in str(exc)
    assert "permission denied" not in str(exc) and exc.__cause__ is None and exc.__suppress_context__


def test_wrong_secret_id_fails_login_permanently(vault: Vault) -> None:
    session = VaultSession(vault.server.addr, vault.roles["api"].role_id, "not-the-secret-id", identity="api")
    with pytest.raises(VaultLoginFailed, match="refused the AppRole login of identity 'api'") as info:
        session.call(lambda c: c.lookup_self())
    assert "not-the-secret-id" not in str(info.value)


def test_closed_port_is_vault_unavailable() -> None:
    session = VaultSession(f"http://127.0.0.1:{free_port()}", "role", "secret", timeout=2)
    with pytest.raises(VaultUnavailable, match="unavailable \\(ConnectionError\\)") as info:
        session.call(lambda c: c.lookup_self())
    assert isinstance(info.value, TransientError) and info.value.__suppress_context__


def test_server_that_never_answers_is_vault_unavailable() -> None:
    with socket.socket() as silent:  # accepts connections (backlog) but never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        session = VaultSession(f"http://127.0.0.1:{silent.getsockname()[1]}", "role", "secret", timeout=0.3)
        with pytest.raises(VaultUnavailable, match="Timeout"):
            session.call(lambda c: c.lookup_self())


def test_sealed_then_stopped_server_is_vault_unavailable(
        workspace: str, start_server: Callable[[], BaoServer]) -> None:
    server = start_server()
    admin = hvac.Client(url=server.addr, token=server.root_token)
    role = provision(admin, agents=["dexter"])["dexter"]
    admin.secrets.kv.v2.create_or_update_secret(f"agents/dexter/tenants/{workspace}/mixpanel",
                                                secret={"api_key": "k-sealed"})
    source = VaultCredentialSource(VaultSession(server.addr, role.role_id, role.secret_id, timeout=2))

    def read() -> object:
        return source.get(workspace=workspace, agent="dexter", integration="mixpanel", secret_fields=SECRET)

    assert read()["api_key"] == "k-sealed"  # type: ignore[index]
    admin.sys.seal()
    with pytest.raises(VaultUnavailable, match="VaultDown"):
        read()
    server.stop()
    with pytest.raises(VaultUnavailable, match="ConnectionError"):
        read()


def test_session_logs_in_again_in_a_forked_child(vault: Vault) -> None:
    session = vault.session("cassie")
    _lookup(session)
    parent = session.token_accessor
    pid = os.fork()
    if pid == 0:  # child: must not reuse the parent's connection pool; a new login gives a new token
        try:
            _lookup(session)
            os._exit(0 if session.token_accessor not in ("", parent) else 1)
        except BaseException:  # noqa: BLE001
            os._exit(2)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert session.token_accessor == parent


@pytest.mark.parametrize("bad", ["", "A", "ws 1", "ws/1", "..", "../etc", "ws.1", "é", "x" * 129, "ws\n1"])
def test_credential_path_rejects_anything_but_safe_segments(bad: str) -> None:
    assert credential_path("ws-1", "soshie", "instagram_main") == "agents/soshie/tenants/ws-1/instagram_main"
    for args in ((bad, "soshie", "x"), ("ws-1", bad, "x"), ("ws-1", "soshie", bad)):
        with pytest.raises(ValueError, match="lowercase"):
            credential_path(*args)


def test_from_settings_reads_the_identity_file_or_says_how_to_provision(vault: Vault, tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path, vault_addr=vault.server.addr, vault_role_id="")
    with pytest.raises(VaultLoginFailed, match="seomi.json does not exist; run `make run`"):
        VaultSession.from_settings(settings, "seomi")
    settings.approle_dir.mkdir()
    shutil.copy(vault.approle_dir / "seomi.json", settings.approle_dir / "seomi.json")
    session = VaultSession.from_settings(settings, "seomi")
    assert _lookup(session)["policies"] == ["default", "sintra-agent-seomi"]


def test_from_settings_prefers_role_and_secret_from_the_environment(vault: Vault, tmp_path: Path) -> None:
    role = vault.roles["buddy"]
    settings = Settings(state_dir=tmp_path, vault_addr=vault.server.addr, vault_role_id=role.role_id,
                        vault_secret_id=role.secret_id)  # type: ignore[arg-type]
    session = VaultSession.from_settings(settings, "buddy")
    assert _lookup(session)["policies"] == ["default", "sintra-agent-buddy"]


def test_a_worker_of_one_agent_logs_in_at_boot_not_in_its_first_job(vault: Vault, tmp_path: Path) -> None:
    import workers.context as context
    from workers.credentials.routing import PerAgentCredentials

    settings = Settings(state_dir=tmp_path, vault_addr=vault.server.addr, vault_role_id="")
    settings.approle_dir.mkdir()
    shutil.copy(vault.approle_dir / "emmie.json", settings.approle_dir / "emmie.json")
    credentials = PerAgentCredentials(settings, only="emmie")

    class Ctx:  # a context with only a credential source (warming statements fails without an engine: skipped)
        def __init__(self) -> None:
            self.credentials = credentials

    context.warm_up("emmie", None)  # no context: nothing to log in with
    assert credentials._sources == {}
    context.warm_up("emmie", Ctx())  # type: ignore[arg-type]
    session = credentials._source("emmie").session
    assert session.token_accessor  # logged in
    assert _lookup(session)["policies"] == ["default", "sintra-agent-emmie"]
