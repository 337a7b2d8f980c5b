"""Conformance case: Dexter / Mixpanel (Query API and Raw Export; read-only, so no create action)."""

from __future__ import annotations

from typing import Any

from config.catalog.integrations.mixpanel import SPEC
from tests.providers.cases import ProviderCase
from workers.providers.mixpanel import MixpanelClient

GOOD = {"service_account_username": "sintra-sim.abc123.mp-service-account",
        "service_account_secret": "goodSecret0123456789", "project_id": "12345", "region": "us"}
BAD = {**GOOD, "service_account_secret": "badSecret0123456789"}
WEEK = {"from_date": "2026-09-01", "to_date": "2026-09-07"}


def _segmented(result: Any) -> None:
    assert set(result["values"]) == {"Chrome", "Safari", "Firefox"}
    assert len(result["dates"]) == 7


def _variants(result: Any) -> None:
    assert [v["variant"] for v in result["variants"]] == ["control", "variant_a"]
    assert abs(sum(v["share"] for v in result["variants"]) - 1) < 0.01


def _exported(result: Any) -> None:
    assert result["count"] == len(result["events"]) == 50
    assert all(e["event"] in ("Signed up", "Purchase") for e in result["events"])


CASE = ProviderCase(
    spec=SPEC, client=MixpanelClient, good=GOOD, bad=BAD,
    actions={
        "segmentation": {**WEEK, "event": "Signed up", "on": 'properties["$browser"]'},
        "insights": {"bookmark_id": 1001},
        "funnels": {**WEEK, "funnel_id": 7509},
        "retention": {**WEEK, "born_event": "Signed up", "event": "Purchase", "interval_count": 4},
        "experiment_breakdown": {**WEEK, "event": "Purchase", "experiment": "Checkout test"},
        "export_events": {**WEEK, "events": ["Signed up", "Purchase"], "limit": 50},
    },
    checks={"segmentation": _segmented, "experiment_breakdown": _variants, "export_events": _exported},
    probe=("segmentation", {**WEEK, "event": "Signed up"}),
)
