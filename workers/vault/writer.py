"""The API's side of Vault: write and delete a workspace's integration credentials, never read them."""

from __future__ import annotations

from collections.abc import Mapping

import hvac
from hvac import exceptions as hx

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

        def _write(client: hvac.Client) -> int:
            resp = client.secrets.kv.v2.create_or_update_secret(path, secret=secret, mount_point=kv_mount)
            return int(resp["data"]["version"])

        return self.session.call(_write, path=path)

    def delete(self, workspace: str, agent: str, integration: str) -> bool:
        """Delete the credentials' metadata and every version; False if nothing was stored there."""
        path = credential_path(workspace, agent, integration)
        kv_mount = self.session.mount

        def _delete(client: hvac.Client) -> bool:
            try:
                client.secrets.kv.v2.read_secret_metadata(path, mount_point=kv_mount)
            except hx.InvalidPath:
                return False
            client.secrets.kv.v2.delete_metadata_and_all_versions(path, mount_point=kv_mount)
            return True

        return self.session.call(_delete, path=path)


def _strings(values: Mapping[str, str]) -> dict[str, str]:
    """``values`` as a plain dict of strings (Vault's audit log HMACs strings only: never send numbers)."""
    bad = sorted(str(k) for k, v in values.items() if not isinstance(k, str) or not isinstance(v, str))
    if bad:
        raise TypeError(f"credential values must be strings; not for: {', '.join(bad)}")
    return dict(values)
