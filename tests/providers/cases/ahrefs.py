"""Conformance case: Seomi / Ahrefs API v3 (Site Explorer)."""

from __future__ import annotations

from typing import Any

from config.catalog.integrations.ahrefs import SPEC
from tests.providers.cases import ProviderCase
from workers.providers.ahrefs import AhrefsClient


def _keywords(result: dict[str, Any]) -> None:
    rows = result["keywords"]
    assert rows and {"keyword", "position", "volume", "traffic", "url"} <= set(rows[0])
    assert all(isinstance(r["position"], int) and isinstance(r["volume"], int) for r in rows)


def _rating(result: dict[str, Any]) -> None:
    assert isinstance(result["domain_rating"], float) and isinstance(result["ahrefs_rank"], int)


CASE = ProviderCase(
    spec=SPEC, client=AhrefsClient,
    good={"api_key": "ahrefs-0123456789abcdef0123456789abcdef"},
    bad={"api_key": "bad-0123456789abcdef0123456789abcdef"},
    actions={
        "backlinks": {"target": "acme.example", "limit": 20, "order_by": "domain_rating_source:desc"},
        "referring_domains": {"target": "acme.example", "limit": 10},
        "domain_rating": {"target": "acme.example"},
        "site_explorer_overview": {"target": "acme.example", "country": "us"},
        "organic_competitors": {"target": "acme.example", "limit": 5},
        "organic_keywords": {"target": "acme.example", "limit": 25},
    },
    probe=("domain_rating", {"target": "ahrefs.com"}),
    checks={"organic_keywords": _keywords, "domain_rating": _rating},
    retry_after=2.0,
)
