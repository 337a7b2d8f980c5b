"""The catalog: every agent, the integrations it uses, their credentials and actions, as data."""

from __future__ import annotations

from config.catalog.base import (
    ActionSpec,
    AgentSpec,
    CredentialField,
    IntegrationSpec,
    NoParams,
    Params,
)

__all__ = [
    "ActionSpec",
    "AgentSpec",
    "CatalogError",
    "CredentialField",
    "IntegrationSpec",
    "NoParams",
    "Params",
    "agent",
    "agents",
    "integration",
]


class CatalogError(LookupError):
    """An agent or integration that the catalog does not know."""


def agents() -> tuple[AgentSpec, ...]:
    """All agents, in product order."""
    from config.catalog.roster import AGENTS

    return AGENTS


def agent(agent_id: str) -> AgentSpec:
    """The agent ``agent_id`` or :class:`CatalogError`."""
    for spec in agents():
        if spec.id == agent_id:
            return spec
    raise CatalogError(f"unknown agent {agent_id!r}; known agents: {', '.join(a.id for a in agents())}")


def integration(agent_id: str, integration_id: str) -> IntegrationSpec:
    """The integration ``integration_id`` of agent ``agent_id`` or :class:`CatalogError`."""
    spec = agent(agent_id).integration(integration_id)
    if spec is None:
        known = ", ".join(i.id for i in agent(agent_id).integrations)
        raise CatalogError(f"agent {agent_id!r} has no integration {integration_id!r}; it has: {known}")
    return spec

