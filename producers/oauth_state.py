"""The API's OAuth bookkeeping: signed single-use ``state`` values and the app's non-secret fields.

A ``state`` is ``<payload>.<HMAC-SHA256>``: the payload (base64url JSON) binds a random id to the workspace,
agent and integration and carries its expiry (10 minutes); the key is derived from the console's signing
secret (``SINTRA_CONSOLE_SECRET``), so a forged or altered state fails the signature. Single use: authorize
stores ``sintra:oauth:state:<id>`` in Redis with the same lifetime; the callback takes it out atomically,
so a replayed state finds nothing. The PKCE verifier is derived from the same key and the state's id
(HMAC, 43 base64url characters): the API never stores it, recomputes it at the callback and writes it to
Vault beside the code, where only the agent's worker can read it.

The app's non-secret fields (the client id the consent URL needs) are not kept here: they live in the
integration's database row (``workers.store.integrations.remember_app``), which survives a Redis restart.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

from config.providers.oauth import b64url

#: Seconds a state (and the consent it asks for) stays valid.
STATE_TTL = 600
PREFIX = "sintra:oauth"


class StateRefused(Exception):
    """A callback's state is forged, expired or already used; ``code`` says which."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


@dataclass(frozen=True)
class Grant:
    """What a valid state stands for."""

    sid: str
    workspace: str
    agent: str
    integration: str
    redirect_uri: str


class OAuthStates:
    """Issues and claims states with a key derived from the console secret; Redis makes them single-use."""

    def __init__(self, secret: bytes, redis: Any) -> None:
        self._key = hmac.new(secret, b"sintra-oauth-state-v1", hashlib.sha256).digest()
        self.redis = redis

    def _sign(self, body: str) -> str:
        return b64url(hmac.new(self._key, body.encode(), hashlib.sha256).digest())

    def verifier(self, sid: str) -> str:
        """The PKCE code verifier of state ``sid`` (RFC 7636: 43 unreserved characters)."""
        return b64url(hmac.new(self._key, b"pkce:" + sid.encode(), hashlib.sha256).digest())

    def issue(self, *, workspace: str, agent: str, integration: str, redirect_uri: str) -> tuple[str, str]:
        """A new state and its id, remembered in Redis for :data:`STATE_TTL` seconds."""
        sid = secrets.token_urlsafe(18)
        payload = {"s": sid, "w": workspace, "a": agent, "i": integration, "e": int(time.time()) + STATE_TTL}
        body = b64url(json.dumps(payload, separators=(",", ":")).encode())
        self.redis.set(f"{PREFIX}:state:{sid}", redirect_uri, ex=STATE_TTL)
        return f"{body}.{self._sign(body)}", sid

    def claim(self, state: str) -> Grant:
        """The grant of ``state``, taken out of Redis (it can be claimed once); :class:`StateRefused` otherwise."""
        body, _, sig = state.partition(".")
        if not body or not hmac.compare_digest(sig.encode(), self._sign(body).encode()):
            raise StateRefused("state_invalid", "the OAuth state is missing, malformed or not signed by this "
                                                "Sintra: start again from Connect")
        try:
            payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        except (ValueError, binascii.Error):
            raise StateRefused("state_invalid", "the OAuth state cannot be read: start again from Connect") from None
        if int(payload.get("e", 0)) < time.time():
            raise StateRefused("state_expired", f"the OAuth state expired ({STATE_TTL // 60} minutes after "
                                                "Connect was pressed): start again from Connect")
        with self.redis.pipeline() as pipe:  # MULTI: read and delete at once, so only one callback wins
            pipe.get(f"{PREFIX}:state:{payload['s']}")
            pipe.delete(f"{PREFIX}:state:{payload['s']}")
            redirect_uri, _ = pipe.execute()
        if redirect_uri is None:
            raise StateRefused("state_used", "this OAuth state was already used: start again from Connect")
        return Grant(sid=payload["s"], workspace=payload["w"], agent=payload["a"], integration=payload["i"],
                     redirect_uri=redirect_uri.decode())
