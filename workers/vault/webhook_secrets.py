"""Webhook signing secrets in Vault, at ``webhooks/<workspace>/<endpoint>``: never in the database.

The API (identity ``api``) writes and deletes them and cannot read them back; the dispatcher (identity
``webhooks``) reads them to sign deliveries and can do nothing else.
"""

from __future__ import annotations

import base64
import secrets as _random

from workers.vault import api as hx
from workers.vault.api import VaultAPI
from workers.vault.client import _SEGMENT, VaultSession

#: Prefix of a Standard Webhooks secret; the rest is the base64 of the HMAC key.
SECRET_PREFIX = "whsec_"
#: Bytes of the HMAC key (Standard Webhooks asks for 24 to 64).
KEY_BYTES = 32


def new_secret() -> str:
    """A fresh signing secret ``whsec_<base64 key>``."""
    return SECRET_PREFIX + base64.b64encode(_random.token_bytes(KEY_BYTES)).decode()


def secret_path(workspace: str, endpoint_id: str) -> str:
    """The logical KV path of one endpoint's secret, each segment validated."""
    for name, value in (("workspace", workspace), ("endpoint", endpoint_id)):
        if not _SEGMENT.match(value):
            raise ValueError(f"invalid {name} {value[:40]!r} for a Vault path")
    return f"webhooks/{workspace}/{endpoint_id}"


class WebhookSecretWriter:
    """The API's side: store a new endpoint's secret, delete it with the endpoint."""

    def __init__(self, session: VaultSession) -> None:
        self.session = session

    def write(self, workspace: str, endpoint_id: str, secret: str) -> None:
        """Store ``secret`` for the endpoint."""
        path, mount = secret_path(workspace, endpoint_id), self.session.mount
        self.session.call(lambda c: c.kv_write(mount, path, {"secret": secret}), path=path)

    def delete(self, workspace: str, endpoint_id: str) -> None:
        """Delete every version of the endpoint's secret (nothing there is fine)."""
        path, mount = secret_path(workspace, endpoint_id), self.session.mount

        def _delete(client: VaultAPI) -> None:
            try:
                client.kv_metadata(mount, path)
            except hx.InvalidPath:
                return
            client.kv_delete_all(mount, path)

        self.session.call(_delete, path=path)


class WebhookSecretReader:
    """The dispatcher's side: read an endpoint's secret to sign with it."""

    def __init__(self, session: VaultSession) -> None:
        self.session = session

    def read(self, workspace: str, endpoint_id: str) -> str:
        """The endpoint's secret; ``CredentialsUnavailable`` when none is stored."""
        path, mount = secret_path(workspace, endpoint_id), self.session.mount
        data = self.session.call(lambda c: c.kv_read(mount, path), path=path)
        return str(data["data"]["data"]["secret"])
