"""The catalog: every agent, the integrations it uses, their credentials and actions, as data.

An agent's spec is built when it is first asked for (:func:`agent`), and with it its integrations' modules;
:func:`profiles` has every agent's queue, actor and limits without building any (a worker for one agent
builds that one: issue 12).
"""

from __future__ import annotations

import threading

from config.catalog.base import (
    ActionSpec,
    AgentProfile,
    AgentSpec,
    CredentialField,
    IntegrationSpec,
    NoParams,
    Params,
)

__all__ = [
    "ActionSpec",
    "AgentProfile",
    "AgentSpec",
    "CatalogError",
    "CredentialField",
    "IntegrationSpec",
    "NoParams",
    "Params",
    "agent",
    "agents",
    "integration",
    "profile",
    "profiles",
    "provider_integrations",
]


class CatalogError(LookupError):
    """An agent or integration that the catalog does not know."""


_built: dict[str, AgentSpec] = {}
_lock = threading.Lock()


def profiles() -> tuple[AgentProfile, ...]:
    """Every agent's profile (id, queue, actor, limits), in product order; builds no agent's integrations."""
    from config.catalog.roster import PROFILES

    return PROFILES


def profile(agent_id: str) -> AgentProfile:
    """The profile of agent ``agent_id`` or :class:`CatalogError`."""
    from config.catalog.roster import BY_ID

    known = BY_ID.get(agent_id) if isinstance(agent_id, str) else None
    if known is None:
        raise CatalogError(f"unknown agent {agent_id!r}; known agents: {', '.join(p.id for p in profiles())}")
    return known[0]


def agents() -> tuple[AgentSpec, ...]:
    """All agents, in product order."""
    return tuple(agent(p.id) for p in profiles())


def agent(agent_id: str) -> AgentSpec:
    """The agent ``agent_id`` (built on first use, then the same object) or :class:`CatalogError`."""
    spec = _built.get(agent_id) if isinstance(agent_id, str) else None
    if spec is None:
        from config.catalog.roster import build

        profile(agent_id)  # CatalogError for an unknown agent
        with _lock:  # one object per agent, even when two threads ask first at once
            spec = _built.get(agent_id)
            if spec is None:
                spec = _built[agent_id] = build(agent_id)
    return spec


def provider_integrations(provider: str) -> list[IntegrationSpec]:
    """Every agent's integration served by ``provider``, in catalog order, building only that provider's."""
    from config.catalog.roster import integration_spec, provider_refs

    return [spec for ref in provider_refs(provider) if (spec := integration_spec(ref)).provider == provider]


def integration(agent_id: str, integration_id: str) -> IntegrationSpec:
    """The integration ``integration_id`` of agent ``agent_id`` or :class:`CatalogError`."""
    spec = agent(agent_id).integration(integration_id)
    if spec is None:
        known = ", ".join(i.id for i in agent(agent_id).integrations)
        raise CatalogError(f"agent {agent_id!r} has no integration {integration_id!r}; it has: {known}")
    return spec

