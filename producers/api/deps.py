"""Dependencies of the API routes: settings, DB session, enqueuer, Vault writer and the caller's workspace."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from config.settings import Settings
from producers.api.errors import ApiError
from producers.api.limits import Throttle
from producers.enqueue import Enqueuer
from workers.store.keys import active_key, hash_key


def get_settings_dep(request: Request) -> Settings:
    """The app's settings."""
    return request.app.state.settings


def get_session(request: Request) -> Iterator[Session]:
    """A DB session per request."""
    with Session(request.app.state.engine, expire_on_commit=False) as session:
        yield session


def get_enqueuer(request: Request) -> Enqueuer:
    """The enqueuer over the app's broker."""
    return request.app.state.enqueuer


def get_writer(request: Request):
    """The write-only Vault credential writer (API identity), created on first use."""
    return request.app.state.writer()


#: Longer "keys" are not looked up (ours are 46 characters).
MAX_KEY_LENGTH = 256

SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
SessionDep = Annotated[Session, Depends(get_session)]
EnqueuerDep = Annotated[Enqueuer, Depends(get_enqueuer)]


@dataclass(frozen=True)
class Caller:
    """Who is calling: a workspace and the (non-secret) prefix of the key used."""

    workspace: str
    key_prefix: str
    #: An operator key: may manage every workspace's keys (and, later, see every workspace).
    operator: bool = False

    @property
    def actor(self) -> str:
        """The audit actor name."""
        return f"api:{self.key_prefix}"


#: The bearer scheme, declared in the OpenAPI document (so ``/docs`` can authenticate); we check it ourselves.
bearer = HTTPBearer(auto_error=False, description="An API key: `sintra keys create --workspace <name>`.")


def get_caller(request: Request, session: SessionDep,
               _scheme: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)] = None) -> Caller:
    """Authenticate ``Authorization: Bearer <key>`` (or a console session cookie); 401 otherwise, 429 past a
    rate limit.

    An address that failed authentication too often is refused before its key is even looked up.

    The lookup's transaction ends here, so its connection goes back to the pool at once: the handler
    usually runs on another turn of the thread pool, and a request that held a connection while it
    queued for a thread took it from requests already on one (60 connects sent at once held most of
    the pool idle in transaction while other requests' threads waited for a connection). The handler's
    first statement checks one out again.
    """
    try:
        return _authenticate(request, session)
    finally:
        session.rollback()  # nothing to keep: authentication only reads


def _authenticate(request: Request, session: Session) -> Caller:
    settings: Settings = request.app.state.settings
    throttle: Throttle = request.app.state.throttle
    ip = request.client.host if request.client else "unknown"
    throttle.check("auth_failures", ip, settings.auth_failures_per_ip, what="failed authentications")
    throttle.hit("ip", ip, settings.rate_limit_per_ip, what="requests from this address")
    header = request.headers.get("authorization", "")
    if not header and "sintra_session" in request.cookies:
        from producers.console.auth import session_caller

        return session_caller(request, session)
    scheme, _, key = header.partition(" ")
    key = key.strip()
    if scheme.lower() != "bearer" or not key:
        throttle.hit("auth_failures", ip, settings.auth_failures_per_ip, what="failed authentications")
        raise ApiError(401, "unauthorized", "missing API key: send 'Authorization: Bearer <key>'")
    row = active_key(session=session, key=key) if len(key) <= MAX_KEY_LENGTH else None
    if row is None:
        throttle.hit("auth_failures", ip, settings.auth_failures_per_ip, what="failed authentications")
        raise ApiError(401, "unauthorized", "invalid or revoked API key")
    throttle.hit("key", hash_key(key), settings.rate_limit_per_key, what="requests for this key")
    return Caller(workspace=row.workspace_id, key_prefix=key[:10], operator=row.scope == "operator")


CallerDep = Annotated[Caller, Depends(get_caller)]
