"""Console sessions: an API key signs in to a signed, HttpOnly, SameSite=Lax cookie; CSRF tokens per session.

The cookie holds no secret: ``{sid, kid, ws, exp}`` (a random session id, the API key's row id, the
workspace, the expiry), signed with HMAC-SHA256. Every request re-reads the key row, so revoking the
key ends its sessions at once; signing out records the session id in Redis until the cookie expires.
The CSRF token is derived from the session id, so it needs no storage either.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
from pathlib import Path
from typing import Any

import structlog
from fastapi import Request, Response
from sqlmodel import Session, select

from config.settings import Settings
from workers.store.keys import hash_key
from workers.store.models import ApiKey

log = structlog.get_logger("sintra.console")

#: Name of the session cookie.
COOKIE = "sintra_session"
#: Name of the sign-in form's double-submit cookie (against login CSRF).
SIGNIN_COOKIE = "sintra_signin"
#: How long a console session lasts.
SESSION_SECONDS = 12 * 3600
#: Header that carries the CSRF token on the console's own fetch() calls to /api.
CSRF_HEADER = "x-csrf-token"
#: Methods that change nothing and so need no CSRF token.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class CsrfError(Exception):
    """A state-changing request from a session without the session's CSRF token."""


class SessionStoreDown(Exception):
    """Redis, which keeps the signed-out sessions, cannot be reached: no session can be trusted."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def load_secret(settings: Settings) -> bytes:
    """The signing key: ``SINTRA_CONSOLE_SECRET``, else a random one kept in ``<state_dir>/console_secret`` (0600).

    The file serves every API process that shares the state dir (``make run``, docker-compose's volume);
    API replicas on several hosts need the same ``SINTRA_CONSOLE_SECRET``.
    """
    configured = settings.console_secret.get_secret_value()
    if configured:
        if len(configured) < 32:
            raise ValueError("SINTRA_CONSOLE_SECRET must be at least 32 characters "
                             "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(48))')")
        return configured.encode()
    path = Path(settings.state_dir) / "console_secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(48))
        if settings.env == "prod":
            log.warning("console.secret_generated", path=str(path),
                        hint="set SINTRA_CONSOLE_SECRET when API processes do not share this directory")
    secret = path.read_text().strip()
    if len(secret) < 32:
        raise ValueError(f"{path} holds a console secret shorter than 32 characters: delete it or set "
                         "SINTRA_CONSOLE_SECRET")
    return secret.encode()


class Sessions:
    """Issue, verify and end console sessions for one app."""

    def __init__(self, settings: Settings, redis_client: Any) -> None:
        self.secret = load_secret(settings)
        self.redis = redis_client
        self.secure = settings.env == "prod"

    def _sign(self, body: str) -> str:
        return _b64(hmac.new(self.secret, body.encode(), hashlib.sha256).digest())

    def issue(self, response: Response, key: ApiKey) -> None:
        """Set the session cookie for ``key``."""
        payload = {"sid": secrets.token_urlsafe(16), "kid": key.id, "ws": key.workspace_id,
                   "exp": int(time.time()) + SESSION_SECONDS}
        body = _b64(json.dumps(payload, separators=(",", ":")).encode())
        response.set_cookie(COOKIE, f"{body}.{self._sign(body)}", max_age=SESSION_SECONDS, httponly=True,
                            samesite="lax", secure=self.secure, path="/")

    def payload(self, request: Request) -> dict[str, Any] | None:
        """The verified, unexpired, not signed-out payload of the request's cookie, or None."""
        raw = request.cookies.get(COOKIE, "")
        body, _, sig = raw.partition(".")
        if not body or not hmac.compare_digest(sig, self._sign(body)):
            return None
        try:
            data = json.loads(_unb64(body))
        except ValueError:
            return None
        if not isinstance(data, dict) or int(data.get("exp", 0)) < time.time():
            return None
        try:
            signed_out = self.redis.exists(f"sintra:console:signed-out:{data['sid']}")
        except Exception as exc:  # noqa: BLE001 - any Redis failure: fail closed, and say why
            raise SessionStoreDown(f"the session store (Redis) is unreachable: {type(exc).__name__}") from None
        return None if signed_out else data

    def key_row(self, request: Request, session: Session) -> ApiKey | None:
        """The unrevoked API key behind the request's session, or None."""
        data = self.payload(request)
        if data is None:
            return None
        row = session.get(ApiKey, data["kid"])
        if row is None or row.revoked_at is not None or row.workspace_id != data["ws"]:
            return None
        return row

    def csrf_token(self, request: Request) -> str:
        """The CSRF token of the request's session ('' without one)."""
        data = self.payload(request)
        return "" if data is None else self._sign("csrf." + data["sid"])[:32]

    def check_csrf(self, request: Request, token: str | None) -> None:
        """Raise :class:`CsrfError` unless ``token`` is this session's CSRF token."""
        expected = self.csrf_token(request)
        if not expected or not token or not hmac.compare_digest(expected, token):
            raise CsrfError("missing or wrong CSRF token: reload the page and try again")

    def end(self, request: Request, response: Response) -> None:
        """Sign out: refuse this session id from now on and clear the cookie."""
        data = self.payload(request)
        if data is not None:  # payload() raised already if Redis is down: the cookie is kept, the user told
            ttl = max(1, int(data["exp"] - time.time()))
            self.redis.set(f"sintra:console:signed-out:{data['sid']}", "1", ex=ttl)
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax", secure=self.secure)


def key_for_secret(session: Session, key: str) -> ApiKey | None:
    """The unrevoked key row for a key typed into the sign-in form."""
    stmt = select(ApiKey).where(ApiKey.key_hash == hash_key(key.strip()), ApiKey.revoked_at == None)  # noqa: E711
    return session.exec(stmt).first()


def sessions(request: Request) -> Sessions:
    """The app's session manager (created by :func:`producers.console.install`)."""
    return request.app.state.console_sessions
