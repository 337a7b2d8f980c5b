"""One-click OAuth connect: ``POST /api/integrations/{agent}/{integration}/authorize`` and ``GET /api/oauth/callback``.

Who holds what, and why: the API identity can write Vault but never read it, and only the agent's worker
may read the client secret. So the API builds the consent URL from non-secret facts (the client id kept in
the integration's database row at configure, the provider definition's scopes and parameters, a signed
state, a PKCE challenge derived from the state), and at the callback it writes the code and the PKCE
verifier to the integration's pending Vault path, then enqueues an ``oauth_exchange`` connection test
through the same outbox as any job (the message names the job only). The agent's worker exchanges the
code, stores the tokens and makes the same test call as ``connect``: the integration becomes ``connected``
or ``error`` with the provider's words.
The callback has no bearer key (the provider redirects the user's browser): the signed, single-use state
is its authentication, and a refused state changes nothing.
"""

from __future__ import annotations

import html
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from config.catalog import CatalogError, IntegrationSpec, agent, integration
from config.logging import register_secrets
from config.messages import JobCreate
from config.providers.oauth import EXCHANGE_ACTION, authorize_url, pending_integration
from producers.api.deps import CallerDep, EnqueuerDep, SessionDep, SettingsDep, get_writer
from producers.api.errors import ApiError
from producers.console.session import sessions
from producers.oauth_state import STATE_TTL, Grant, OAuthStates, StateRefused
from producers.schemas import COMMON_ERRORS, AuthorizeResult, errors
from workers.dispatch import dispatch_now
from workers.store import events
from workers.store import jobs as job_store
from workers.store.audit import record_event
from workers.store.integrations import app_fields, get_state, upsert_state

router = APIRouter(prefix="/api/integrations", tags=["integrations"], responses=COMMON_ERRORS)
#: Public: the provider sends the user's browser here; mounted without the bearer-key dependency.
callback_router = APIRouter(tags=["integrations"])


def _states(request: Request) -> OAuthStates:
    app = request.app.state
    if getattr(app, "oauth_states", None) is None:
        app.oauth_states = OAuthStates(sessions(request).secret, app.throttle.redis)
    states: OAuthStates = app.oauth_states
    return states


def _oauth_spec(agent_id: str, integration_id: str) -> IntegrationSpec:
    try:
        agent(agent_id)
        spec = integration(agent_id, integration_id)
    except CatalogError as exc:
        raise ApiError(404, "not_found", str(exc)) from None
    if spec.definition.oauth is None:
        raise ApiError(409, "not_oauth", f"{spec.name} connects with the credentials form, not OAuth consent")
    return spec


@router.post("/{agent_id}/{integration_id}/authorize", response_model=AuthorizeResult, responses=errors(404, 409))
def authorize(agent_id: str, integration_id: str, caller: CallerDep, session: SessionDep, settings: SettingsDep,
              request: Request) -> dict[str, Any]:
    """The provider's consent URL for this integration (scopes of its actions, signed state, PKCE)."""
    spec = _oauth_spec(agent_id, integration_id)
    flow = spec.definition.oauth
    assert flow is not None
    state = get_state(session=session, workspace=caller.workspace, agent=agent_id, integration=spec.id)
    states = _states(request)
    app = app_fields(session=session, workspace=caller.workspace, agent=agent_id, integration=spec.id)
    if state is None or state.status == "disconnected" or "client_id" not in state.fields_set \
            or not app.get("client_id"):
        raise ApiError(409, "app_not_configured", f"configure {agent_id}/{spec.id} with the app's client_id and "
                       "client_secret first (POST .../configure), then authorize")
    redirect_uri = str(request.url_for("oauth_callback"))
    token, sid = states.issue(workspace=caller.workspace, agent=agent_id, integration=spec.id,
                              redirect_uri=redirect_uri)
    actions = [a.name for a in spec.actions if not a.restricted]
    url = authorize_url(spec.definition, actions, client_id=app["client_id"], redirect_uri=redirect_uri,
                        state=token, verifier=states.verifier(sid), root=settings.provider_root,
                        host=app.get(flow.host_field, "") if flow.host_field else "")
    record_event(session=session, actor=caller.actor, kind="api", outcome="authorize_requested",
                 workspace=caller.workspace, agent=agent_id, integration=spec.id, action="authorize")
    session.commit()
    return {"authorization_url": url, "state": token, "redirect_uri": redirect_uri,
            "scopes": flow.scopes_for(actions), "pkce": flow.pkce == "S256", "expires_in": STATE_TTL}


def _wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


def _refused(request: Request, exc: StateRefused) -> Response:
    if not _wants_html(request):
        raise ApiError(400, exc.code, exc.message)
    page = (f"<!doctype html><title>Connection not completed</title><h1>Connection not completed</h1>"
            f"<p id=\"oauth-error\">{html.escape(exc.message)}</p><p><a href=\"/agents\">Back to the agents</a></p>")
    return HTMLResponse(page, status_code=400)


def _done(request: Request, grant: Grant, body: dict[str, Any]) -> Response:
    """Browsers go back to the console's integration page (it shows the state live); API clients get JSON."""
    if _wants_html(request):
        return RedirectResponse(f"/agents/{grant.agent}/{grant.integration}", status_code=303)
    return JSONResponse(body)


# not in the OpenAPI document: a browser redirect target, not an operation for API clients (it takes no key)
@callback_router.get("/api/oauth/callback", name="oauth_callback", include_in_schema=False)
def oauth_callback(request: Request, session: SessionDep, enqueuer: EnqueuerDep, state: str = "", code: str = "",
                   error: str = "", error_description: str = "") -> Response:
    """The provider's redirect: check the state, then record a refusal or hand the code to the agent's worker."""
    try:
        grant = _states(request).claim(state)
    except StateRefused as exc:
        return _refused(request, exc)
    spec = _oauth_spec(grant.agent, grant.integration)
    ids: dict[str, Any] = {"workspace": grant.workspace, "agent": grant.agent, "integration": spec.id}
    if error or not code:
        denied = error == "access_denied"
        reason = error_description[:300] or error or "no code in the redirect"
        message = (f"consent was denied at {spec.name} (access_denied): {reason}" if denied
                   else f"{spec.name} did not authorize: {reason}")
        upsert_state(session=session, **ids, status="error", message=message)
        events.record(session, workspace=grant.workspace, type="integration.error",
                      data={"agent": grant.agent, "integration": spec.id, "message": message})
        record_event(session=session, actor="oauth-callback", kind="api", **ids, action="authorize",
                     outcome="consent_denied" if denied else "authorize_failed", detail={"error": error[:80]})
        session.commit()
        return _done(request, grant, {"status": "consent_denied" if denied else "error", "message": message})
    verifier = _states(request).verifier(grant.sid)
    register_secrets([code, verifier])
    get_writer(request).write(grant.workspace, grant.agent, pending_integration(spec.id),
                              {"state": grant.sid, "code": code, "code_verifier": verifier,
                               "redirect_uri": grant.redirect_uri})
    req = JobCreate(agent=grant.agent, integration=spec.id, action=EXCHANGE_ACTION, params={"state": grant.sid},
                    idempotency_key=f"oauth-{grant.sid}")
    job, _ = job_store.create_job(session=session, workspace=grant.workspace, req=req, kind="test_connection")
    record_event(session=session, actor="oauth-callback", kind="api", outcome="authorized", **ids,
                 action="authorize", job_id=job.id)
    session.commit()
    dispatch_now(session, enqueuer, job)
    return _done(request, grant, {"status": "exchanging", "job_id": job.id, "poll": f"/api/jobs/{job.id}",
                                  "message": f"authorized at {spec.name}; the agent's worker is exchanging the code"})
