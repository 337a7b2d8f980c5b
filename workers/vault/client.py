"""One AppRole identity's Vault session for one process: lazy login, token renewal, Vault errors translated.

Errors raised by :meth:`VaultSession.call` (``raise ... from None``, messages name paths, never values)::

    Forbidden / Unauthorized            log in again once and retry; then VaultForbidden (permanent)
    InvalidPath (404)                   CredentialsUnavailable ("not configured or disconnected")
    5xx, 429, connection, timeout       VaultUnavailable (transient)
    InvalidRequest (400) and the rest   VaultRequestFailed (permanent)
    AppRole login refused               VaultLoginFailed (permanent: provisioning is wrong)

(The exceptions on the left are :mod:`workers.vault.api`'s, named as hvac's were.)
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

import httpx

from workers.errors import CredentialsUnavailable, PermanentError, VaultUnavailable
from workers.vault import api as hx
from workers.vault.api import VaultAPI

if TYPE_CHECKING:
    from config.settings import Settings

T = TypeVar("T")
#: Fraction of the token's TTL after which it is renewed.
RENEW_AT = 2 / 3
_SEGMENT = re.compile(r"^[a-z0-9_-]{1,128}$")
_TRANSIENT = (hx.VaultDown, hx.InternalServerError, hx.BadGateway, hx.RateLimitExceeded,
              hx.VaultNotInitialized, hx.UnexpectedError, httpx.TransportError)


def _kind(exc: BaseException) -> str:
    """The name a transient error is reported by (hvac's and requests' names, which logs already use)."""
    if isinstance(exc, httpx.TimeoutException):
        return "Timeout"
    if isinstance(exc, httpx.TransportError):
        return "ConnectionError"
    return type(exc).__name__


class VaultForbidden(PermanentError):
    """Vault's policy denies this identity the path, even right after a fresh login."""


class VaultLoginFailed(PermanentError):
    """Vault refused the AppRole login: the role_id/secret_id pair is wrong or revoked."""


class VaultRequestFailed(PermanentError):
    """Vault rejected the request itself (for example a malformed one)."""


def credential_path(workspace: str, agent: str, integration: str) -> str:
    """The logical KV path ``agents/<agent>/tenants/<workspace>/<integration>``, each segment validated."""
    for name, value in (("workspace", workspace), ("agent", agent), ("integration", integration)):
        if not isinstance(value, str) or not _SEGMENT.match(value):
            raise ValueError(f"invalid {name} {str(value)[:40]!r} for a Vault path: use 1-128 lowercase "
                             "letters, digits, '-' and '_'")
    return f"agents/{agent}/tenants/{workspace}/{integration}"


class VaultSession:
    """An authenticated Vault client for one AppRole identity, created lazily in the process that uses it."""

    def __init__(self, addr: str, role_id: str, secret_id: str, *, mount: str = "secret", timeout: float = 10,
                 identity: str = "approle") -> None:
        self.addr, self.mount, self.timeout, self.identity = addr, mount, timeout, identity
        self._role_id, self._secret_id = role_id, secret_id
        self._client: VaultAPI | None = None
        self._pid = os.getpid()
        self._lock = threading.RLock()
        self._accessor = ""
        self._full_ttl = 0
        self._renew_at = 0.0

    def __repr__(self) -> str:
        return f"VaultSession(addr={self.addr!r}, identity={self.identity!r}, mount={self.mount!r})"

    @classmethod
    def from_settings(cls, settings: Settings, identity: str) -> VaultSession:
        """A session for ``identity`` (``api`` or an agent id) from settings or its AppRole file."""
        role_id, secret_id = settings.vault_role_id, settings.vault_secret_id.get_secret_value()
        if not (role_id and secret_id):
            file = settings.approle_dir / f"{identity}.json"
            try:
                saved = json.loads(file.read_text())
                role_id, secret_id = saved["role_id"], saved["secret_id"]
            except FileNotFoundError:
                raise VaultLoginFailed(
                    f"no AppRole login for Vault identity {identity!r}: {file} does not exist; run "
                    "`make run` (which provisions Vault) or workers.vault.provision.provision(..., "
                    "approle_dir=...), or set SINTRA_VAULT_ROLE_ID and SINTRA_VAULT_SECRET_ID") from None
            except (ValueError, KeyError, TypeError):
                raise VaultLoginFailed(f"{file} is not an AppRole file with role_id and secret_id; "
                                       "provision Vault again") from None
        return cls(settings.vault_addr, role_id, secret_id, mount=settings.vault_mount, identity=identity)

    @property
    def token_accessor(self) -> str:
        """The accessor of the current token (not a secret: it cannot read data), empty before login."""
        return self._accessor

    def call(self, fn: Callable[[VaultAPI], T], *, path: str = "") -> T:
        """Run ``fn(client)`` with a live token and translate Vault's errors (``path`` names the target)."""
        where = f"{self.mount}/{path}" if path else self.mount
        try:
            client, accessor = self._ready()
            try:
                return fn(client)
            except (hx.Forbidden, hx.Unauthorized):
                pass  # expired or revoked token: log in again once, outside this block (no chaining)
            return fn(self._relogin(accessor))
        except (hx.Forbidden, hx.Unauthorized):
            raise VaultForbidden(f"Vault denies identity {self.identity!r} access to {where}") from None
        except hx.InvalidPath:
            raise CredentialsUnavailable(
                f"nothing at {where} in Vault: not configured or disconnected") from None
        except _TRANSIENT as exc:
            raise VaultUnavailable(f"Vault at {self.addr} is unavailable ({_kind(exc)}) "
                                   f"while accessing {where}") from None
        except hx.VaultError as exc:
            raise VaultRequestFailed(
                f"Vault rejected the request for {where} ({type(exc).__name__})") from None

    def _ready(self) -> tuple[VaultAPI, str]:
        """The client with a token that is logged in (after fork too) and renewed at 2/3 of its TTL."""
        if self._pid != os.getpid():  # forked child: the parent's lock and connection pool are not ours
            self._lock, self._client, self._pid = threading.RLock(), None, os.getpid()  # (the parent closes its own)
        with self._lock:
            if self._client is None:
                self._client = VaultAPI(self.addr, timeout=self.timeout)
                self._login()
            elif time.monotonic() >= self._renew_at:
                self._renew()
            return self._client, self._accessor

    def _relogin(self, seen_accessor: str) -> VaultAPI:
        """Log in again unless another thread already replaced the token that failed; return the client."""
        with self._lock:
            if self._accessor == seen_accessor:
                self._login()
            assert self._client is not None
            return self._client

    def _login(self) -> None:
        assert self._client is not None
        try:
            auth = self._client.approle_login(self._role_id, self._secret_id)
        except (hx.InvalidRequest, hx.Forbidden, hx.Unauthorized, hx.InvalidPath):
            raise VaultLoginFailed(f"Vault at {self.addr} refused the AppRole login of identity "
                                   f"{self.identity!r}; provision Vault again") from None
        self._accessor = str(auth.get("accessor", ""))
        self._full_ttl = int(auth.get("lease_duration") or 0)
        self._schedule(self._full_ttl)

    def _renew(self) -> None:
        """Renew the token; log in again if it is gone or renewal no longer grants the full TTL (max cap)."""
        assert self._client is not None
        try:
            auth = self._client.renew_self()
        except (hx.Forbidden, hx.Unauthorized, hx.InvalidRequest):
            self._login()
            return
        ttl = int(auth.get("lease_duration") or 0)
        if ttl < self._full_ttl or not auth.get("renewable"):
            self._login()
        else:
            self._schedule(ttl)

    def _schedule(self, ttl: int) -> None:
        # a token without TTL never expires; any other is renewed (or, if not renewable, replaced) at 2/3
        self._renew_at = float("inf") if ttl <= 0 else time.monotonic() + ttl * RENEW_AT
