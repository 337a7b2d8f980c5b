"""The seven agents and the integrations each acts through (26 agent–integration pairs).

An agent's integrations are named here, not imported: :func:`build` imports an agent's integration modules
(each defines the parameter models of its actions) when that agent is first asked for. A worker serves one
agent and so loads its 4 or 5 integrations, not all 23 (issue 12: a worker process's memory); the API,
which asks for every agent, still gets every one. Each module of :mod:`config.catalog.integrations` is named
after the provider whose integrations it declares (tests/config/test_catalog_roster.py checks), so the
integrations of one provider are found without building the rest (:func:`provider_refs`).
"""

from __future__ import annotations

import importlib

from config.catalog.base import AgentProfile, AgentSpec, IntegrationSpec

#: Each agent's profile and its integrations, as ``module.ATTRIBUTE`` of :mod:`config.catalog.integrations`.
ROSTER: tuple[tuple[AgentProfile, tuple[str, ...]], ...] = (
    (AgentProfile(id="soshie", name="Soshie", role="Social media"),
     ("instagram.SPEC", "x.SPEC", "linkedin.SOCIAL_SPEC", "facebook.SPEC", "tiktok.SPEC")),
    (AgentProfile(id="cassie", name="Cassie", role="Customer support"),
     ("zendesk.SPEC", "intercom.SPEC", "freshdesk.SPEC")),
    (AgentProfile(id="seomi", name="Seomi", role="SEO"),
     ("google_search_console.SPEC", "semrush.SPEC", "ahrefs.SPEC", "google_analytics.SEOMI_SPEC")),
    (AgentProfile(id="dexter", name="Dexter", role="Data analysis"),
     ("google_analytics.DEXTER_SPEC", "mixpanel.SPEC", "amplitude.SPEC")),
    (AgentProfile(id="buddy", name="Buddy", role="Business development"),
     ("linkedin.SALES_SPEC", "salesforce.SPEC", "hubspot.CRM_SPEC", "pipedrive.SPEC")),
    (AgentProfile(id="emmie", name="Emmie", role="Email marketing"),
     ("mailchimp.SPEC", "sendgrid.SPEC", "brevo.SPEC", "hubspot.MARKETING_SPEC")),
    (AgentProfile(id="penn", name="Penn", role="Copywriting"),
     ("grammarly.SPEC", "copy_ai.SPEC", "jasper.SPEC")),
)

#: The profiles alone, and by agent id.
PROFILES: tuple[AgentProfile, ...] = tuple(p for p, _ in ROSTER)
BY_ID: dict[str, tuple[AgentProfile, tuple[str, ...]]] = {p.id: (p, refs) for p, refs in ROSTER}


def integration_spec(ref: str) -> IntegrationSpec:
    """The integration ``module.ATTRIBUTE`` of :mod:`config.catalog.integrations` (importing its module)."""
    module, attribute = ref.split(".")
    spec = getattr(importlib.import_module(f"config.catalog.integrations.{module}"), attribute)
    if not isinstance(spec, IntegrationSpec):
        raise TypeError(f"config.catalog.integrations.{ref} is not an IntegrationSpec")
    return spec


def build(agent_id: str) -> AgentSpec:
    """The agent ``agent_id`` (KeyError: unknown) with its integrations (importing their modules)."""
    profile, refs = BY_ID[agent_id]
    return AgentSpec(**dict(profile), integrations=tuple(integration_spec(ref) for ref in refs))


def provider_refs(provider: str) -> list[str]:
    """The integrations, in catalog order, that the module named after ``provider`` declares."""
    return [ref for _, refs in ROSTER for ref in refs if ref.split(".")[0] == provider]
