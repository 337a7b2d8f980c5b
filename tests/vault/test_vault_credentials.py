"""Credentials through Vault: the API writes, the agent reads (secrets registered for redaction), CAS."""

from __future__ import annotations

import pickle
from typing import TYPE_CHECKING

import pytest

from config.logging import redact_text
from workers.credentials.base import Credentials
from workers.credentials.vault import CredentialsChanged, VaultCredentialSource
from workers.errors import CredentialsUnavailable, PermanentError, TransientError
from workers.vault.provision import AppRoleCredentials
from workers.vault.writer import CredentialWriter

if TYPE_CHECKING:
    from conftest import Vault

SECRET = frozenset({"api_key"})


def hides_hvac(exc: BaseException) -> bool:
    """True when no hvac exception (whose text is Vault's raw response) travels with ``exc``."""
    return exc.__cause__ is None and (exc.__context__ is None or exc.__suppress_context__)


def _pair(vault: Vault) -> tuple[CredentialWriter, VaultCredentialSource]:
    return CredentialWriter(vault.session("api")), VaultCredentialSource(vault.session("emmie"))


def test_written_credentials_are_read_back_by_the_agent_with_secrets_hidden(
        vault: Vault, workspace: str, canary: str) -> None:
    writer, source = _pair(vault)
    assert writer.write(workspace, "emmie", "mailchimp", {"api_key": canary, "server_prefix": "us21"}) == 1
    creds = source.get(workspace=workspace, agent="emmie", integration="mailchimp", secret_fields=SECRET)
    assert dict(creds) == {"api_key": canary, "server_prefix": "us21"} and creds.version == 1
    assert canary not in repr(creds) and canary not in str(creds) and "us21" in repr(creds)
    assert canary not in redact_text(f"provider said: bad key {canary}")  # registered for log redaction
    with pytest.raises(TypeError):
        pickle.dumps(creds)
    assert writer.write(workspace, "emmie", "mailchimp", {"api_key": canary + "2", "server_prefix": "x"}) == 2
    again = source.get(workspace=workspace, agent="emmie", integration="mailchimp", secret_fields=SECRET)
    assert again.version == 2 and again["api_key"] == canary + "2"


def test_missing_credentials_are_unavailable_not_retried(vault: Vault, workspace: str) -> None:
    _, source = _pair(vault)
    with pytest.raises(CredentialsUnavailable, match="not configured or disconnected") as info:
        source.get(workspace=workspace, agent="emmie", integration="sendgrid", secret_fields=SECRET)
    assert isinstance(info.value, PermanentError) and info.value.kind == "disconnected"


def test_deleting_all_versions_disconnects_the_integration(vault: Vault, workspace: str, canary: str) -> None:
    writer, source = _pair(vault)
    writer.write(workspace, "emmie", "brevo", {"api_key": canary})
    writer.write(workspace, "emmie", "brevo", {"api_key": canary + "-v2"})
    assert writer.delete(workspace, "emmie", "brevo") is True
    with pytest.raises(CredentialsUnavailable, match="not configured or disconnected") as info:
        source.get(workspace=workspace, agent="emmie", integration="brevo", secret_fields=SECRET)
    assert hides_hvac(info.value)
    assert writer.delete(workspace, "emmie", "brevo") is False


def test_soft_deleted_latest_version_counts_as_disconnected(
        vault: Vault, workspace: str, canary: str) -> None:
    writer, source = _pair(vault)
    writer.write(workspace, "emmie", "sendgrid", {"api_key": canary})
    vault.admin.secrets.kv.v2.delete_latest_version_of_secret(f"agents/emmie/tenants/{workspace}/sendgrid")
    with pytest.raises(CredentialsUnavailable) as info:
        source.get(workspace=workspace, agent="emmie", integration="sendgrid", secret_fields=SECRET)
    assert canary not in str(info.value)


def test_check_and_set_conflict_raises_credentials_changed(vault: Vault, workspace: str, canary: str) -> None:
    writer, source = _pair(vault)
    writer.write(workspace, "emmie", "mailchimp", {"api_key": canary, "refresh_token": "r-1-" + canary})
    seen = source.get(workspace=workspace, agent="emmie", integration="mailchimp", secret_fields=SECRET)
    winner = source.update(workspace=workspace, agent="emmie", integration="mailchimp",
                           values={**seen, "refresh_token": "r-2-" + canary}, cas=seen.version)
    assert winner == seen.version + 1
    with pytest.raises(CredentialsChanged) as info:
        source.update(workspace=workspace, agent="emmie", integration="mailchimp",
                      values={**seen, "refresh_token": "r-3-" + canary}, cas=seen.version)
    assert isinstance(info.value, TransientError) and info.value.current_version == winner
    assert canary not in str(info.value) and hides_hvac(info.value)
    assert "r-2-" + canary not in redact_text(f"provider echoed r-2-{canary}")  # written secrets registered
    latest = source.get(workspace=workspace, agent="emmie", integration="mailchimp", secret_fields=SECRET)
    assert latest["refresh_token"] == "r-2-" + canary


def test_write_back_after_disconnect_does_not_resurrect_credentials(
        vault: Vault, workspace: str, canary: str) -> None:
    writer, source = _pair(vault)
    writer.write(workspace, "emmie", "hubspot_marketing", {"api_key": canary})
    seen = source.get(workspace=workspace, agent="emmie", integration="hubspot_marketing", secret_fields=SECRET)
    writer.delete(workspace, "emmie", "hubspot_marketing")
    with pytest.raises(CredentialsUnavailable):
        source.update(workspace=workspace, agent="emmie", integration="hubspot_marketing", values={"api_key": "new"},
                      cas=seen.version)
    with pytest.raises(CredentialsUnavailable):
        source.get(workspace=workspace, agent="emmie", integration="hubspot_marketing", secret_fields=SECRET)


def test_writer_refuses_non_string_values(vault: Vault, workspace: str) -> None:
    writer, _ = _pair(vault)
    with pytest.raises(TypeError, match="expires_in"):
        writer.write(workspace, "emmie", "mailchimp",
                     {"api_key": "k", "expires_in": 3600})  # type: ignore[dict-item]


def test_reprs_never_show_secrets(vault: Vault, canary: str) -> None:
    role = AppRoleCredentials(role_id="role-1", secret_id=canary)
    creds = Credentials({"api_key": canary, "account": "acme"}, secret_fields=SECRET, version=3)
    session = vault.session("api")
    source = VaultCredentialSource(session)
    for text in (repr(role), str(role), repr(creds), str(creds), repr(session), repr(source)):
        assert canary not in text
    assert vault.roles["api"].secret_id not in repr(session) + repr(vault.roles)
    assert "role-1" in repr(role) and "acme" in repr(creds)
