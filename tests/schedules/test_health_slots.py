"""Pure timing of the connection health check and the keep-alive rule (no services)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from schedules.health import next_slot
from workers.providers.keepalive import DAY_S, refresh_due

DAY = timedelta(days=1)
NOW = datetime(2026, 12, 6, 10, 30, tzinfo=UTC)


def test_ten_thousand_integrations_are_spread_over_the_period() -> None:
    slots = [next_slot(f"ws-{i % 50}/agent/integration-{i}", NOW, DAY) for i in range(10_000)]
    assert all(NOW < s <= NOW + DAY for s in slots)
    per_minute = Counter(int((s - NOW).total_seconds()) // 60 for s in slots)
    assert max(per_minute.values()) <= 25  # ~7 per minute on average; never a thundering herd


def test_a_slot_is_stable_and_repeats_each_period() -> None:
    first = next_slot("ws/soshie/x", NOW, DAY)
    assert next_slot("ws/soshie/x", NOW + timedelta(seconds=1), DAY) == first
    assert next_slot("ws/soshie/x", first, DAY) == first + DAY
    assert next_slot("ws/soshie/x", first + 5 * DAY + timedelta(hours=1), DAY) == first + 6 * DAY  # no burst


@pytest.mark.parametrize(("creds", "due"), [
    ({"refresh_token": "r"}, True),                                          # never refreshed on record
    ({"refresh_token": "r", "refreshed_at": str(NOW.timestamp() - 10 * DAY_S)}, False),
    ({"refresh_token": "r", "refreshed_at": str(NOW.timestamp() - 178 * DAY_S)}, True),  # within 2 days
    ({"refresh_token": "r", "refreshed_at": "garbage"}, True),
    ({"access_token": "a"}, False),                                          # nothing to keep alive
])
def test_keep_alive_is_due_within_the_margin_of_the_unused_expiry(creds: dict[str, str], due: bool) -> None:
    assert refresh_due(creds, idle_days=180, margin_s=2 * DAY_S, now=NOW.timestamp()) is due
