"""Who is using the console: the session's caller for /api routes and for pages (which redirect to sign-in)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from sqlmodel import Session

from producers.api.deps import Caller, SessionDep
from producers.api.errors import ApiError
from producers.console.session import CSRF_HEADER, SAFE_METHODS, CsrfError, SessionStoreDown, sessions
from workers.store.models import ApiKey


class SignInRequired(Exception):
    """A page was asked for without a valid session; the console answers with a redirect to sign in."""


def caller_for(row: ApiKey) -> Caller:
    """The caller an API key row stands for (the same as its bearer token would)."""
    fields: dict[str, Any] = {"workspace": row.workspace_id, "key_prefix": row.prefix}
    if "operator" in Caller.__dataclass_fields__:  # operator keys (api_keys.scope), where keys have a scope
        fields["operator"] = getattr(row, "scope", "workspace") == "operator"
    return Caller(**fields)


def session_caller(request: Request, session: Session) -> Caller:
    """The caller of an /api request made by the console with its cookie; unsafe methods need the CSRF header."""
    manager = sessions(request)
    try:
        row = manager.key_row(request, session)
    except SessionStoreDown as exc:
        raise ApiError(503, "session_store_unavailable", f"{exc}; use an API key (Authorization: Bearer)") from None
    if row is None:
        raise ApiError(401, "unauthorized", "console session expired or signed out: sign in again")
    if request.method not in SAFE_METHODS:
        try:
            manager.check_csrf(request, request.headers.get(CSRF_HEADER))
        except CsrfError as exc:
            raise ApiError(403, "csrf_failed", str(exc)) from None
    return caller_for(row)


def page_caller(request: Request, session: SessionDep) -> Caller:
    """The signed-in caller of a console page, or :class:`SignInRequired`."""
    row = sessions(request).key_row(request, session)
    if row is None:
        raise SignInRequired(request.url.path)
    return caller_for(row)


PageCallerDep = Annotated[Caller, Depends(page_caller)]


def is_operator(caller: Caller) -> bool:
    """Whether the caller may see every workspace."""
    return bool(getattr(caller, "operator", False))
