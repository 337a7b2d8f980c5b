"""How catalog entries and integration state are shown by the API (never a credential value)."""

from __future__ import annotations

from typing import Any

from config.catalog import AgentSpec, IntegrationSpec
from workers.store.models import IntegrationState


def state_view(state: IntegrationState | None) -> dict[str, Any]:
    """Status and non-secret facts of one workspace's integration."""
    if state is None:
        return {"status": "not_configured", "fields_set": [], "configured_at": None, "connected_at": None,
                "disconnected_at": None, "message": None}
    return {"status": state.status, "fields_set": sorted(state.fields_set), "configured_at": state.configured_at,
            "connected_at": state.connected_at, "disconnected_at": state.disconnected_at,
            "message": state.message}


def integration_view(agent: AgentSpec, spec: IntegrationSpec, state: IntegrationState | None) -> dict[str, Any]:
    """One agent-integration pair: catalog facts, actions with parameter and result schemas, and state."""
    return {
        "agent": agent.id,
        "id": spec.id,
        "provider": spec.provider,
        "name": spec.name,
        "availability": spec.availability,
        "reason": spec.reason,
        "implemented": spec.implemented,
        "auth": spec.auth,
        "docs_url": spec.docs_url,
        "credential_fields": [f.model_dump() for f in spec.credential_fields],
        "test_connection": spec.test_connection.model_dump(include={"method", "path", "description"}),
        "actions": [{"name": a.name, "description": a.description, "side_effect": a.side_effect,
                     "restricted": a.restricted, "parameters": a.schema_json(),
                     "result_schema": a.result_schema(spec.id)} for a in spec.actions],
        **state_view(state),
    }


def agent_view(agent: AgentSpec, states: dict[tuple[str, str], IntegrationState]) -> dict[str, Any]:
    """An agent and all its integrations."""
    return {"id": agent.id, "name": agent.name, "role": agent.role, "queue": agent.queue,
            "integrations": [integration_view(agent, i, states.get((agent.id, i.id))) for i in agent.integrations]}
