"""The production CredentialSource: an agent's credentials in Vault KV v2, secrets registered for redaction."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from config.logging import SECRET_KEY, register_secret
from workers.credentials.base import Credentials
from workers.errors import CredentialsUnavailable, TransientError
from workers.vault import api as hx
from workers.vault.api import VaultAPI
from workers.vault.client import VaultRequestFailed, VaultSession, credential_path


class CredentialsChanged(TransientError):
    """Someone wrote the credentials since they were read (check-and-set mismatch): re-read, then decide."""

    def __init__(self, message: str, *, current_version: int | None = None) -> None:
        super().__init__(message)
        self.current_version = current_version


class VaultCredentialSource:
    """Reads and check-and-set writes one agent's credentials through a :class:`VaultSession`."""

    def __init__(self, session: VaultSession) -> None:
        self.session = session
        #: Names of every field ever declared secret in ``get`` (catalog field names: a small set).
        self._secret_names: set[str] = set()

    def __repr__(self) -> str:
        return f"VaultCredentialSource({self.session!r})"

    def get(self, *, workspace: str, agent: str, integration: str,
            secret_fields: frozenset[str]) -> Credentials:
        """The latest version of the credentials; ``CredentialsUnavailable`` if absent or deleted."""
        path = credential_path(workspace, agent, integration)
        unavailable = (f"credentials of {agent}/{integration} for workspace {workspace} are not configured "
                       "or disconnected (nothing in Vault)")
        kv_mount = self.session.mount

        def _read(client: VaultAPI) -> dict[str, Any]:
            try:
                resp = client.kv_read(kv_mount, path)
            except hx.InvalidPath:  # missing, hard-deleted or latest version soft-deleted
                raise CredentialsUnavailable(unavailable) from None
            data = (resp or {}).get("data") or {}
            if not data.get("data") or (data.get("metadata") or {}).get("deletion_time"):
                raise CredentialsUnavailable(unavailable)
            return data

        data = self.session.call(_read, path=path)
        values = {str(k): str(v) for k, v in data["data"].items()}
        self._secret_names |= secret_fields
        for name in secret_fields:
            register_secret(values.get(name))
        return Credentials(values, secret_fields=frozenset(secret_fields),
                           version=int(data["metadata"]["version"]))

    def update(self, *, workspace: str, agent: str, integration: str, values: Mapping[str, str],
               cas: int) -> int:
        """Write ``values`` only if version ``cas`` is still the latest; return the new version."""
        path = credential_path(workspace, agent, integration)
        for name, value in values.items():  # before the write, so even an error about it is redacted
            if name in self._secret_names or SECRET_KEY.search(name):
                register_secret(value)
        secret = {str(k): str(v) for k, v in values.items()}
        kv_mount = self.session.mount

        def _write(client: VaultAPI) -> int:
            try:
                resp = client.kv_write(kv_mount, path, secret, cas=cas)
                return int(resp["data"]["version"])
            except hx.InvalidRequest:
                pass  # decided below, outside this block, so Vault's error is not chained to ours
            _raise_if_changed(client, path, kv_mount, cas, f"{agent}/{integration} for workspace {workspace}")
            raise VaultRequestFailed(f"Vault rejected the write to {kv_mount}/{path}")

        return self.session.call(_write, path=path)


def _raise_if_changed(client: VaultAPI, path: str, kv_mount: str, cas: int, what: str) -> None:
    """After a rejected write: ``CredentialsChanged`` if the latest version is no longer ``cas``."""
    try:
        meta = client.kv_metadata(kv_mount, path)
    except hx.InvalidPath:
        raise CredentialsUnavailable(f"credentials of {what} were deleted (disconnected) before the write; "
                                     "nothing was written") from None
    current = int(meta["data"]["current_version"])
    if current != cas:
        raise CredentialsChanged(f"credentials of {what} changed (version {current}, expected {cas}); "
                                 "re-read them", current_version=current)
