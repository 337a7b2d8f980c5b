"""Conformance case: Soshie / Facebook Pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from config.catalog.integrations.facebook import SPEC
from tests.providers.cases import ProviderCase
from workers.providers.base import MemorySteps
from workers.providers.facebook import FacebookClient

FacebookClient.POLL_INTERVAL = 0.02
PAGE_ID = "100200300400500"
GOOD = {"client_id": "1234567890", "client_secret": "app-secret-0001",
        "access_token": "EAAGgoodUserToken0001", "page_id": PAGE_ID, "ad_account_id": "act_9988776655"}


def publish_at(days: float = 2.0) -> str:
    """A publish time ``days`` ahead, as the API receives it."""
    return (datetime.now(UTC) + timedelta(days=days)).replace(microsecond=0).isoformat()


def _scheduled(client: Any) -> str:
    params = SPEC.action("schedule_post").params(message="To cancel", publish_at=publish_at(3))
    return str(client.run("schedule_post", params, MemorySteps())["post_id"])


def _count_scheduled(client: Any, params: dict[str, Any]) -> int:
    listed = client.run("list_scheduled_posts", SPEC.action("list_scheduled_posts").params(limit=100),
                        MemorySteps())
    return sum(1 for p in listed["scheduled_posts"] if p.get("message") == params["message"])


CASE = ProviderCase(
    spec=SPEC, client=FacebookClient,
    good=GOOD,
    bad={**GOOD, "access_token": "badUserToken0001"},
    actions={
        "get_page": {},
        "update_page_info": {"about": "Fresh bread daily", "emails": ["hello@bakery.example"]},
        "publish_page_post": {"message": "Hello from Sintra", "link": "https://bakery.example"},
        "list_scheduled_posts": {"limit": 5},
        "schedule_post": lambda c: {"message": "Launch day", "publish_at": publish_at()},
        "cancel_scheduled_post": lambda c: {"post_id": _scheduled(c)},
        "get_ads_insights": {},
        "get_page_insights": {},
    },
    probe=("get_page", {}),
    create=("schedule_post", {"message": "Crash test", "publish_at": publish_at()}),
    count_created=_count_scheduled,
)
