"""The few Vault (OpenBao) HTTP API calls Sintra's processes make, over httpx.

Why not hvac: hvac brings requests, urllib3, charset_normalizer and idna, about 6 MB of every worker
process (issue 12: a worker's RSS), for six endpoints; httpx is loaded anyway (the provider clients).
The behaviour is hvac's where Sintra relied on it: the same exception per status code (class names
kept, so messages and the mapping in :mod:`workers.vault.client` read the same), redirects followed,
``VAULT_CACERT`` / ``VAULT_CAPATH`` / ``VAULT_CLIENT_CERT`` / ``VAULT_CLIENT_KEY`` honoured, and an
``X-Vault-Request`` header on every request. Unlike hvac, an error's text never includes Vault's
response (which can embed KV custom metadata): only the status, method and path.
"""

from __future__ import annotations

import os
import ssl
from typing import Any

import httpx


class VaultError(Exception):
    """Vault answered with an error status (the subclass says which); ``status`` is the HTTP status."""

    status = 0


class InvalidRequest(VaultError):
    status = 400


class Unauthorized(VaultError):
    status = 401


class Forbidden(VaultError):
    status = 403


class InvalidPath(VaultError):
    status = 404


class UnsupportedOperation(VaultError):
    status = 405


class PreconditionFailed(VaultError):
    status = 412


class RateLimitExceeded(VaultError):
    status = 429


class InternalServerError(VaultError):
    status = 500


class VaultNotInitialized(VaultError):
    status = 501


class BadGateway(VaultError):
    status = 502


class VaultDown(VaultError):
    status = 503


class UnexpectedError(VaultError):
    """Any other status, or a success whose body is not JSON."""


_BY_STATUS: dict[int, type[VaultError]] = {
    c.status: c for c in (InvalidRequest, Unauthorized, Forbidden, InvalidPath, UnsupportedOperation,
                          PreconditionFailed, RateLimitExceeded, InternalServerError, VaultNotInitialized,
                          BadGateway, VaultDown)}


def tls_verify() -> ssl.SSLContext:
    """What certificates to trust (and present), as hvac read them from the environment; else the
    process's shared default context (:func:`workers.egress.tls_context`: each new one loads the CA bundle,
    about 1 MB)."""
    cafile, capath = os.environ.get("VAULT_CACERT") or None, os.environ.get("VAULT_CAPATH") or None
    cert, key = os.environ.get("VAULT_CLIENT_CERT"), os.environ.get("VAULT_CLIENT_KEY")
    if not (cafile or capath or cert):
        from workers.egress import tls_context

        return tls_context()
    ctx = ssl.create_default_context(cafile=cafile, capath=capath)
    if cert:
        ctx.load_cert_chain(cert, key or None)
    return ctx


class VaultAPI:
    """One Vault address and (after a login) token; thread- and greenlet-safe like ``httpx.Client``."""

    def __init__(self, addr: str, *, token: str = "", timeout: float = 10) -> None:
        self.addr = addr.rstrip("/")
        self.token = token
        self._http = httpx.Client(timeout=timeout, follow_redirects=True, verify=tls_verify())

    def close(self) -> None:
        self._http.close()

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        """``method /v1/<path>``; the JSON answer ({} when there is none). Raises a :class:`VaultError`
        subclass for an error status, and ``httpx.TransportError`` when Vault cannot be reached or is slow."""
        headers = {"X-Vault-Request": "true"}
        if self.token:
            headers["X-Vault-Token"] = self.token
        resp = self._http.request(method, f"{self.addr}/v1/{path}", json=body, headers=headers)
        if resp.status_code >= 400:
            cls = _BY_STATUS.get(resp.status_code, UnexpectedError)
            raise cls(f"Vault answered {resp.status_code} to {method} /v1/{path}")
        if resp.status_code == 204 or not resp.content:
            return {}
        try:
            data = resp.json()
        except ValueError:
            raise UnexpectedError(f"Vault's answer to {method} /v1/{path} is not JSON") from None
        if not isinstance(data, dict):
            raise UnexpectedError(f"Vault's answer to {method} /v1/{path} is not a JSON object")
        return data

    # auth

    def approle_login(self, role_id: str, secret_id: str) -> dict[str, Any]:
        """Log in with AppRole and use the new token from now on; the ``auth`` part of the answer."""
        self.token = ""  # a login needs none (and a revoked one must not be sent along)
        auth = self.request("POST", "auth/approle/login", {"role_id": role_id, "secret_id": secret_id})["auth"]
        self.token = str(auth["client_token"])
        return dict(auth)

    def renew_self(self) -> dict[str, Any]:
        """Renew the current token; the ``auth`` part of the answer."""
        return dict(self.request("POST", "auth/token/renew-self", {})["auth"])

    def lookup_self(self) -> dict[str, Any]:
        """The current token's properties (the whole answer: they are under ``data``)."""
        return self.request("GET", "auth/token/lookup-self")

    # KV version 2 (``path`` is the logical path inside ``mount``)

    def kv_read(self, mount: str, path: str) -> dict[str, Any]:
        """The latest version (``{"data": {"data": ..., "metadata": ...}}``); ``InvalidPath`` when there is
        none, it was deleted, or the latest version is soft-deleted (Vault answers 404 then)."""
        return self.request("GET", f"{mount}/data/{path}")

    def kv_write(self, mount: str, path: str, secret: dict[str, str], *, cas: int | None = None) -> dict[str, Any]:
        """Write a new version (only if ``cas`` is still the latest version, when given: ``InvalidRequest``
        otherwise); the answer, whose ``data.version`` is the new version."""
        options = {} if cas is None else {"cas": cas}
        return self.request("POST", f"{mount}/data/{path}", {"options": options, "data": secret})

    def kv_metadata(self, mount: str, path: str) -> dict[str, Any]:
        """The path's metadata (``data.current_version``...); ``InvalidPath`` when nothing is stored."""
        return self.request("GET", f"{mount}/metadata/{path}")

    def kv_delete_all(self, mount: str, path: str) -> None:
        """Delete the path's metadata and every version."""
        self.request("DELETE", f"{mount}/metadata/{path}")
