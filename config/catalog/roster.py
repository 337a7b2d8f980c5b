"""The seven agents and the integrations each acts through (26 agent–integration pairs)."""

from __future__ import annotations

from config.catalog.base import AgentSpec
from config.catalog.integrations import (
    ahrefs,
    amplitude,
    brevo,
    copy_ai,
    facebook,
    freshdesk,
    google_analytics,
    google_search_console,
    grammarly,
    hubspot,
    instagram,
    intercom,
    jasper,
    linkedin,
    mailchimp,
    mixpanel,
    pipedrive,
    salesforce,
    semrush,
    sendgrid,
    tiktok,
    x,
    zendesk,
)

AGENTS: tuple[AgentSpec, ...] = (
    AgentSpec(id="soshie", name="Soshie", role="Social media",
              integrations=(instagram.SPEC, x.SPEC, linkedin.SOCIAL_SPEC, facebook.SPEC, tiktok.SPEC)),
    AgentSpec(id="cassie", name="Cassie", role="Customer support",
              integrations=(zendesk.SPEC, intercom.SPEC, freshdesk.SPEC)),
    AgentSpec(id="seomi", name="Seomi", role="SEO",
              integrations=(google_search_console.SPEC, semrush.SPEC, ahrefs.SPEC, google_analytics.SEOMI_SPEC)),
    AgentSpec(id="dexter", name="Dexter", role="Data analysis",
              integrations=(google_analytics.DEXTER_SPEC, mixpanel.SPEC, amplitude.SPEC)),
    AgentSpec(id="buddy", name="Buddy", role="Business development",
              integrations=(linkedin.SALES_SPEC, salesforce.SPEC, hubspot.CRM_SPEC, pipedrive.SPEC)),
    AgentSpec(id="emmie", name="Emmie", role="Email marketing",
              integrations=(mailchimp.SPEC, sendgrid.SPEC, brevo.SPEC, hubspot.MARKETING_SPEC)),
    AgentSpec(id="penn", name="Penn", role="Copywriting",
              integrations=(grammarly.SPEC, copy_ai.SPEC, jasper.SPEC)),
)
