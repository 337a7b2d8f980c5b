"""Conformance case: Seomi / Google Search Console."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from config.catalog.integrations.google_search_console import SPEC
from tests.providers.cases import ProviderCase
from workers.providers.base import MemorySteps
from workers.providers.google_search_console import GoogleSearchConsoleClient

SITE = "sc-domain:example.com"
GOOD = {"client_id": "sim-client.apps.googleusercontent.com", "client_secret": "GOCSPX-simsecret",
        "refresh_token": "1//sim-refresh-token", "access_token": "ya29.sim-configured", "site_url": SITE}
BAD = {**GOOD, "client_secret": "bad-secret", "refresh_token": "bad-refresh", "access_token": "bad-access"}


def _count_sitemaps(client: Any, params: dict[str, Any]) -> int:
    listed = client.run("list_sitemaps", SPEC.action("list_sitemaps").params(limit=1000), MemorySteps())
    return sum(1 for s in listed["sitemaps"] if s["path"] == params["feedpath"])


def _has_rows(result: Any) -> None:
    assert result["rows"] and set(result["rows"][0]["keys"]) == {"query", "page"}


CASE = ProviderCase(
    spec=SPEC, client=GoogleSearchConsoleClient,
    good=GOOD, bad=BAD,
    actions={
        "query_search_analytics": {"start_date": date.today() - timedelta(days=30),
                                   "end_date": date.today() - timedelta(days=3),
                                   "dimensions": ["query", "page"], "limit": 50},
        "inspect_url": {"url": "https://example.com/blog/seo-guide"},
        "list_sitemaps": {},
        "submit_sitemap": {"feedpath": "https://example.com/sitemap-news.xml"},
        "get_crawl_issues": {"urls": ["https://example.com/", "https://example.com/missing-page"]},
    },
    probe=("list_sitemaps", {}),
    create=("submit_sitemap", {"feedpath": "https://example.com/sitemap-crash.xml"}),
    count_created=_count_sitemaps,
    checks={"query_search_analytics": _has_rows},
)
