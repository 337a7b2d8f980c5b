"""Conformance cases: Soshie / LinkedIn (company page) and Buddy / LinkedIn (sales): one client, two entries."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from config.catalog.integrations.linkedin import SALES_SPEC, SOCIAL_SPEC
from tests.providers.cases import ProviderCase
from workers.providers.base import MemorySteps
from workers.providers.linkedin import LinkedInClient, little_text

#: The page every simulated member administers.
ORG_ID = "2414183"
APP = {"client_id": "sintra-li-app", "client_secret": "li-secret-0001"}
GOOD = {**APP, "refresh_token": "acme.rt-initial", "access_token": "acme.at-initial"}
BAD = {**APP, "refresh_token": "bad-refresh", "access_token": "bad-access"}


def _post(client: Any) -> str:
    params = SOCIAL_SPEC.action("publish_post").params(text=f"Fixture post {uuid.uuid4().hex[:8]}")
    return str(client.run("publish_post", params, MemorySteps())["post_urn"])


def _last_week(client: Any) -> dict[str, str]:
    end = datetime.now(UTC).date() - timedelta(days=1)
    return {"start_date": (end - timedelta(days=6)).isoformat(), "end_date": end.isoformat()}


def _count_posts(client: Any, params: dict[str, Any]) -> int:
    return sum(1 for p in client.recent_posts(100) if p.get("commentary") == little_text(params["text"]))


SOCIAL = ProviderCase(
    spec=SOCIAL_SPEC, client=LinkedInClient,
    good={**GOOD, "organization_id": ORG_ID}, bad={**BAD, "organization_id": ORG_ID},
    actions={
        "publish_post": {"text": "We are hiring (remote) #jobs https://sintra.ai/jobs_2026"},
        "publish_article": {"url": "https://sintra.ai/blog/agents", "title": "Agents at work",
                            "description": "How Sintra's helpers run", "text": "New on the blog"},
        "get_post_analytics": lambda c: {"post_urns": [_post(c)]},
        "get_organization_statistics": _last_week,
        "get_organization": {},
    },
    probe=("get_organization", {}),
    create=("publish_post", {"text": "Crash test (once) & only once"}),
    count_created=_count_posts,
    retry_after=2.0,
)

SALES = ProviderCase(
    spec=SALES_SPEC, client=LinkedInClient, good=GOOD, bad=BAD,
    actions={"get_company_insights": {"vanity_name": "linkedin"}},
    probe=("get_company_insights", {"organization_id": "1035"}),
    retry_after=2.0,
)

CASES = [SOCIAL, SALES]
