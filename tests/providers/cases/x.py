"""Conformance case: Soshie / X (API v2)."""

from __future__ import annotations

import uuid
from typing import Any

from config.catalog.integrations.x import SPEC
from tests.providers.cases import ProviderCase
from workers.providers.base import MemorySteps
from workers.providers.x import XClient, shown_text

APP = {"client_id": "sintra-x-app", "client_secret": "cs-sim-0001"}
GOOD = {**APP, "refresh_token": "acme.rt-initial", "access_token": "acme.at-initial",
        "bearer_token": "AAAAAAAAAAAAAAAAAAAAAsimAppBearer"}
BAD = {**APP, "refresh_token": "bad-refresh", "access_token": "bad-access", "bearer_token": "bad-bearer"}
THREAD = ["Crash test 1/3: why threads", "Crash test 2/3: resume", "Crash test 3/3: done"]


def _post(client: Any) -> str:
    params = SPEC.action("publish_post").params(text=f"Fixture post {uuid.uuid4().hex[:8]}")
    return str(client.run("publish_post", params, MemorySteps())["post_id"])


def _sized(result: dict[str, Any], key: str, size: int) -> None:
    assert len(result[key]) == size, result


def _count_thread(client: Any, params: dict[str, Any]) -> int:
    """1 when every text of the thread was posted exactly once, else the worst count."""
    posts = client.recent_posts(100)
    counts = [sum(1 for p in posts if shown_text(p) == text) for text in params["texts"]]
    return max(counts) if all(counts) else 0


CASE = ProviderCase(
    spec=SPEC, client=XClient, good=GOOD, bad=BAD,
    actions={
        "publish_post": {"text": "Hello from Sintra https://sintra.ai & friends"},
        "publish_thread": {"texts": ["A thread 1/3", "A thread 2/3", "A thread 3/3"]},
        "get_user_metrics": {},
        "get_post_metrics": lambda c: {"post_ids": [_post(c)], "include_private": True},
        "search_recent": {"query": "Thoughts", "limit": 15},
        "get_trends": {"woeid": 1, "max_trends": 5},
    },
    probe=("get_user_metrics", {}),
    create=("publish_thread", {"texts": THREAD}),
    count_created=_count_thread,
    checks={"publish_thread": lambda r: _sized(r, "post_ids", 3), "search_recent": lambda r: _sized(r, "posts", 15)},
    retry_after=3.0,
)
