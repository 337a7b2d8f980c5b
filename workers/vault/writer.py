"""The API's side of Vault: write and delete a workspace's integration credentials, never read them."""

from __future__ import annotations

from collections.abc import Mapping

from workers.vault import api as hx
from workers.vault.api import VaultAPI
from workers.vault.client import VaultSession, credential_path


class CredentialWriter:
    """Writes and hard-deletes credentials with the write-only ``api`` identity."""

    def __init__(self, session: VaultSession) -> None:
        self.session = session

    def write(self, workspace: str, agent: str, integration: str, values: Mapping[str, str]) -> int:
        """Store ``values`` as a new KV version of the integration's credentials; return that version."""
        path = credential_path(workspace, agent, integration)
        secret = _strings(values)
        kv_mount = self.session.mount

        def _write(client: VaultAPI) -> int:
            resp = client.kv_write(kv_mount, path, secret)
            return int(resp["data"]["version"])

        return self.session.call(_write, path=path)

    def delete(self, workspace: str, agent: str, integration: str) -> bool:
        """Delete the credentials' metadata and every version; False if nothing was stored there."""
        path = credential_path(workspace, agent, integration)
        kv_mount = self.session.mount

        def _delete(client: VaultAPI) -> bool:
            try:
                client.kv_metadata(kv_mount, path)
            except hx.InvalidPath:
                return False
            client.kv_delete_all(kv_mount, path)
            return True

        return self.session.call(_delete, path=path)


def _strings(values: Mapping[str, str]) -> dict[str, str]:
    """``values`` as a plain dict of strings (Vault's audit log HMACs strings only: never send numbers)."""
    bad = sorted(str(k) for k, v in values.items() if not isinstance(k, str) or not isinstance(v, str))
    if bad:
        raise TypeError(f"credential values must be strings; not for: {', '.join(bad)}")
    return dict(values)
