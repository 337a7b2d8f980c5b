"""Sign in with an API key, sign out."""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from producers.api.deps import SessionDep
from producers.console.render import secure, templates
from producers.console.session import SIGNIN_COOKIE, CsrfError, key_for_secret, sessions
from workers.store.audit import record_event

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    """Only a path on this site (never ``//host`` or a URL) is followed after sign-in."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/agents"
    return target


def _signin_page(request: Request, *, error: str | None = None, status_code: int = 200,
                 next_path: str = "/agents") -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    response = templates.TemplateResponse(request, "signin.html", {"error": error, "token": token,
                                                                   "next": next_path}, status_code=status_code)
    response.set_cookie(SIGNIN_COOKIE, token, max_age=3600, httponly=True, samesite="strict", path="/signin")
    return secure(response)


@router.get("/")
def home(request: Request, session: SessionDep) -> Response:
    """The console: the agents' integrations when signed in, else the sign-in page."""
    signed_in = sessions(request).key_row(request, session) is not None
    return RedirectResponse("/agents" if signed_in else "/signin", status_code=303)


@router.get("/signin")
def signin_form(request: Request, next: str | None = None) -> HTMLResponse:
    """The sign-in form."""
    return _signin_page(request, next_path=_safe_next(next))


@router.post("/signin")
async def signin(request: Request, session: SessionDep) -> Response:
    """Check the API key; on success set the session cookie and go on."""
    form = {k: v[0] for k, v in parse_qs((await request.body()).decode(errors="replace")).items()}
    next_path = _safe_next(form.get("next"))
    expected = request.cookies.get(SIGNIN_COOKIE, "")
    if not expected or not hmac.compare_digest(expected, form.get("token", "")):
        return _signin_page(request, error="The sign-in form expired; please try again.", status_code=400,
                            next_path=next_path)
    key = key_for_secret(session, form.get("api_key", "")) if form.get("api_key", "").strip() else None
    if key is None:
        return _signin_page(request, error="That API key is not valid (or was revoked). Create one with "
                            "`sintra keys create --workspace <name>`.", status_code=401, next_path=next_path)
    record_event(session=session, actor=f"console:{key.prefix}", kind="api", outcome="signed_in",
                 workspace=key.workspace_id, action="console_sign_in")
    session.commit()
    response = RedirectResponse(next_path, status_code=303)
    sessions(request).issue(response, key)
    response.delete_cookie(SIGNIN_COOKIE, path="/signin")
    return response


@router.post("/signout")
async def signout(request: Request, session: SessionDep) -> Response:
    """End the session (it is refused from now on, even if the cookie is replayed)."""
    form = {k: v[0] for k, v in parse_qs((await request.body()).decode(errors="replace")).items()}
    manager = sessions(request)
    try:
        manager.check_csrf(request, form.get("csrf"))
    except CsrfError:
        return RedirectResponse("/agents", status_code=303)
    key = manager.key_row(request, session)
    if key is not None:
        record_event(session=session, actor=f"console:{key.prefix}", kind="api", outcome="signed_out",
                     workspace=key.workspace_id, action="console_sign_out")
        session.commit()
    response = RedirectResponse("/signin", status_code=303)
    manager.end(request, response)
    return response
