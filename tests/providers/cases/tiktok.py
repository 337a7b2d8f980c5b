"""Conformance case: Soshie / TikTok for Business."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from config.catalog.integrations.tiktok import SPEC
from tests.providers.cases import ProviderCase
from workers.providers.tiktok import THROTTLE_DELAY, TikTokClient

GOOD = {"client_id": "7300000000000000001", "client_secret": "tiktok-app-secret",
        "refresh_token": "rft.good0001", "access_token": "act.good0001", "business_id": "-000AbCdEfGh1234",
        "advertiser_id": "7000000000001"}
END = datetime.now(UTC).date() - timedelta(days=1)
RANGE = {"start_date": (END - timedelta(days=6)).isoformat(), "end_date": END.isoformat()}



def _five_videos(result: dict[str, Any]) -> None:
    assert result["count"] == 5 and len({v["item_id"] for v in result["videos"]}) == 5


CASE = ProviderCase(
    spec=SPEC, client=TikTokClient,
    good=GOOD,
    bad={**GOOD, "access_token": "bad-access", "refresh_token": "bad-refresh", "client_secret": "bad-secret"},
    actions={
        "get_performance_analytics": RANGE,
        "get_audience_insights": RANGE,
        "list_videos": {"limit": 5},
    },
    probe=("list_videos", {"limit": 5}),
    checks={"list_videos": _five_videos},
    retry_after=THROTTLE_DELAY,
)
