"""The product's flow: each agent's integrations, one integration's credentials form, actions and activity."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from config.catalog import AgentSpec, CatalogError, IntegrationSpec, agent, agents, integration
from producers.api.deps import SessionDep
from producers.api.views import integration_view
from producers.console.auth import PageCallerDep
from producers.console.examples import example_params, parameter_rows
from producers.console.render import page, pretty
from workers.store import ops
from workers.store.integrations import get_state, states_for
from workers.store.jobs import list_jobs

router = APIRouter(include_in_schema=False)
#: Rows of recent jobs and provider calls shown on an integration's page.
ACTIVITY_ROWS = 15


def _not_found(request: Request, caller: Any, message: str) -> HTMLResponse:
    return page(request, "not_found.html", caller, {"message": message}, status_code=404)


@router.get("/agents")
def overview(request: Request, caller: PageCallerDep, session: SessionDep) -> HTMLResponse:
    """Every agent with how many of its integrations are connected."""
    states = states_for(session=session, workspace=caller.workspace)
    rows = [{"agent": a, "total": len(a.integrations),
             "connected": sum(1 for i in a.integrations
                              if getattr(states.get((a.id, i.id)), "status", "") == "connected"),
             "errors": sum(1 for i in a.integrations if getattr(states.get((a.id, i.id)), "status", "") == "error")}
            for a in agents()]
    return page(request, "agents.html", caller, {"rows": rows, "title": "Agents"})


@router.get("/agents/{agent_id}")
def agent_page(agent_id: str, request: Request, caller: PageCallerDep, session: SessionDep) -> HTMLResponse:
    """One agent's integrations with their state and, when restricted, why."""
    try:
        a = agent(agent_id)
    except CatalogError as exc:
        return _not_found(request, caller, str(exc))
    states = states_for(session=session, workspace=caller.workspace)
    items = [integration_view(a, i, states.get((a.id, i.id))) for i in a.integrations]
    return page(request, "agent.html", caller, {"agent": a, "items": items, "title": f"{a.name} · Integrations"})


def _action_rows(spec: IntegrationSpec) -> list[dict[str, Any]]:
    rows = []
    for act in spec.actions:
        schema = act.schema_json()
        rows.append({"name": act.name, "description": act.description, "side_effect": act.side_effect,
                     "restricted": act.restricted or (spec.reason if spec.availability == "restricted" else None),
                     "parameters": parameter_rows(schema), "example": pretty(example_params(schema))})
    return rows


def _activity(session: Any, workspace: str, a: AgentSpec, spec: IntegrationSpec) -> dict[str, Any]:
    return {"jobs": list_jobs(session=session, workspace=workspace, agent=a.id, integration=spec.id,
                              limit=ACTIVITY_ROWS),
            "calls": ops.audit_rows(session=session, workspace=workspace, agent=a.id, integration=spec.id,
                                    limit=ACTIVITY_ROWS)}


def _oauth(request: Request, spec: IntegrationSpec, view: dict[str, Any]) -> dict[str, Any] | None:
    """The "Connect with <provider>" button of an OAuth integration (None: API-key integrations keep the form)."""
    flow = spec.definition.oauth
    if flow is None:
        return None
    return {"label": flow.label or spec.definition.name, "ready": "client_id" in view["fields_set"],
            "redirect_uri": str(request.url_for("oauth_callback"))}


@router.get("/agents/{agent_id}/{integration_id}")
def integration_page(agent_id: str, integration_id: str, request: Request, caller: PageCallerDep,
                     session: SessionDep, part: str | None = None) -> HTMLResponse:
    """One integration: state, credentials form, test, disconnect, actions with a run form, activity."""
    try:
        a, spec = agent(agent_id), integration(agent_id, integration_id)
    except CatalogError as exc:
        return _not_found(request, caller, str(exc))
    state = get_state(session=session, workspace=caller.workspace, agent=a.id, integration=spec.id)
    view = integration_view(a, spec, state)
    ctx = {"agent": a, "spec": spec, "view": view, "fields": [
        {"name": f.name, "secret": f.secret, "required": f.required, "description": f.description,
         "format": getattr(f, "pattern_hint", "") or "", "set": f.name in view["fields_set"]}
        for f in spec.credential_fields],
        "actions": _action_rows(spec), "title": f"{spec.name} · {a.name}", "oauth": _oauth(request, spec, view),
        **_activity(session, caller.workspace, a, spec)}
    return page(request, "integration.html", caller, ctx, part=part if part in ("state", "activity") else None)


@router.get("/integrations")
def integrations_redirect() -> RedirectResponse:
    """The product's "Integrations" entry point."""
    return RedirectResponse("/agents", status_code=303)
