"""The production CredentialSource: an agent's credentials in Vault KV v2, secrets registered for redaction."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import hvac
from hvac import exceptions as hx

from config.logging import SECRET_KEY, register_secret
from workers.credentials.base import Credentials
from workers.errors import CredentialsUnavailable, TransientError
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

        def _read(client: hvac.Client) -> dict[str, Any]:
            try:
                resp = client.secrets.kv.v2.read_secret_version(path, mount_point=kv_mount,
                                                                raise_on_deleted_version=True)
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

        def _write(client: hvac.Client) -> int:
            try:
                resp = client.secrets.kv.v2.create_or_update_secret(path, secret=secret, cas=cas,
                                                                    mount_point=kv_mount)
                return int(resp["data"]["version"])
            except hx.InvalidRequest:
                pass  # decided below, outside this block, so hvac's text is not chained to our error
            _raise_if_changed(client, path, kv_mount, cas, f"{agent}/{integration} for workspace {workspace}")
            raise VaultRequestFailed(f"Vault rejected the write to {kv_mount}/{path}")

        return self.session.call(_write, path=path)


def _raise_if_changed(client: hvac.Client, path: str, kv_mount: str, cas: int, what: str) -> None:
    """After a rejected write: ``CredentialsChanged`` if the latest version is no longer ``cas``."""
    try:
        meta = client.secrets.kv.v2.read_secret_metadata(path, mount_point=kv_mount)
    except hx.InvalidPath:
        raise CredentialsUnavailable(f"credentials of {what} were deleted (disconnected) before the write; "
                                     "nothing was written") from None
    current = int(meta["data"]["current_version"])
    if current != cas:
        raise CredentialsChanged(f"credentials of {what} changed (version {current}, expected {cas}); "
                                 "re-read them", current_version=current)
