"""Conformance case: Seomi / Semrush (Standard API reports, Site Audit, Position Tracking)."""

from __future__ import annotations

from typing import Any

import httpx

from config.catalog.integrations.semrush import SPEC
from tests.providers.cases import ProviderCase
from workers.providers.semrush import SemrushClient

SemrushClient.POLL_INTERVAL = 0.01
PROJECT = 6647718


def _launches(client: Any, params: dict[str, Any]) -> int:
    """Site Audit launches the simulator accepted for the project (its call log)."""
    root = str(client.http.base_url).rstrip("/").removesuffix("/semrush")
    calls = httpx.get(f"{root}/_sim/calls", params={"provider": "semrush"}, timeout=10).json()
    path = f"/semrush/reports/v1/projects/{params['project_id']}/siteaudit/launch"
    return sum(1 for c in calls if c["method"] == "POST" and c["path"] == path and c["status"] == 200)


def _keywords(result: dict[str, Any]) -> None:
    rows = result["keywords"]
    assert rows and {"keyword", "position", "volume", "traffic", "url"} <= set(rows[0])
    assert all(isinstance(r["position"], int) and isinstance(r["volume"], int) for r in rows)


def _audit(result: dict[str, Any]) -> None:
    assert result["status"] == "FINISHED" and result["snapshot_id"] == result["launched_snapshot_id"]
    assert isinstance(result["health_score"], int)


CASE = ProviderCase(
    spec=SPEC, client=SemrushClient,
    good={"api_key": "0123456789abcdef0123456789abcdef"},
    bad={"api_key": "bad456789abcdef0123456789abcdef"},
    actions={
        "keyword_overview": {"phrase": "running shoes"},
        "related_keywords": {"phrase": "running shoes", "limit": 10},
        "domain_organic_keywords": {"domain": "acme.example", "limit": 25},
        "competitors": {"domain": "acme.example", "limit": 5},
        "site_audit_start": {"project_id": PROJECT},
        "site_audit_status": {"project_id": PROJECT},
        "position_tracking": {"campaign_id": f"{PROJECT}_272401", "url": "*.acme.example/*", "limit": 20},
    },
    probe=("keyword_overview", {"phrase": "seo"}),
    create=("site_audit_start", {"project_id": PROJECT + 1}),
    count_created=_launches,
    checks={"domain_organic_keywords": _keywords, "site_audit_start": _audit},
    retry_after=2.0,
)
