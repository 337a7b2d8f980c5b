"""Dependencies of the API routes: settings, DB session, enqueuer, Vault writer and the caller's workspace."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session

from config.settings import Settings
from producers.api.errors import ApiError
from producers.enqueue import Enqueuer
from workers.store.keys import workspace_for_key


def get_settings_dep(request: Request) -> Settings:
    """The app's settings."""
    return request.app.state.settings  # type: ignore[no-any-return]


def get_session(request: Request) -> Iterator[Session]:
    """A DB session per request."""
    with Session(request.app.state.engine, expire_on_commit=False) as session:
        yield session


def get_enqueuer(request: Request) -> Enqueuer:
    """The enqueuer over the app's broker."""
    return request.app.state.enqueuer  # type: ignore[no-any-return]


def get_writer(request: Request):  # type: ignore[no-untyped-def]
    """The write-only Vault credential writer (API identity), created on first use."""
    return request.app.state.writer()


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
SessionDep = Annotated[Session, Depends(get_session)]
EnqueuerDep = Annotated[Enqueuer, Depends(get_enqueuer)]


@dataclass(frozen=True)
class Caller:
    """Who is calling: a workspace and the (non-secret) prefix of the key used."""

    workspace: str
    key_prefix: str

    @property
    def actor(self) -> str:
        """The audit actor name."""
        return f"api:{self.key_prefix}"


def get_caller(request: Request, session: SessionDep) -> Caller:
    """Authenticate ``Authorization: Bearer <key>`` (or a console session cookie); 401 otherwise."""
    header = request.headers.get("authorization", "")
    if not header and "sintra_session" in request.cookies:
        from producers.console.auth import session_caller

        return session_caller(request, session)
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise ApiError(401, "unauthorized", "missing API key: send 'Authorization: Bearer <key>'")
    workspace = workspace_for_key(session=session, key=key.strip())
    if workspace is None:
        raise ApiError(401, "unauthorized", "invalid or revoked API key")
    return Caller(workspace=workspace, key_prefix=key.strip()[:10])


CallerDep = Annotated[Caller, Depends(get_caller)]
