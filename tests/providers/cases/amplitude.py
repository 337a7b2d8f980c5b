"""Conformance case: Dexter / Amplitude (Dashboard REST, cohorts, profiles; read-only: no create action)."""

from __future__ import annotations

from typing import Any

from config.catalog.integrations.amplitude import SPEC
from tests.providers.cases import ProviderCase
from workers.providers.amplitude import AmplitudeClient

AmplitudeClient.POLL_INTERVAL = 0.02
GOOD = {"api_key": "0123456789abcdef0123456789abcdef", "secret_key": "fedcba9876543210fedcba9876543210",
        "region": "us"}
BAD = {**GOOD, "secret_key": "bad-secret-0000000000000000000000"}
ALICE = 356893043036


def _grouped(result: Any) -> None:
    assert [s["label"] for s in result["series"]] == ["United States", "Germany", "France"]
    assert len(result["x_values"]) == 7


def _found(result: Any) -> None:
    assert result["matches"][0]["amplitude_id"] == ALICE


def _members(result: Any) -> None:
    assert result["member_count"] == 120 and result["returned"] == 25
    assert result["columns"][:2] == ["amplitude_id", "user_id"]


def _propensity(result: Any) -> None:
    assert result["propensities"][0]["prediction_id"] == "0x10x"
    assert 0 <= result["propensities"][0]["value"] <= 100


CASE = ProviderCase(
    spec=SPEC, client=AmplitudeClient, good=GOOD, bad=BAD,
    actions={
        "event_segmentation": {"event_type": "Play Song", "start": "2026-09-01", "end": "2026-09-07",
                               "group_by": "country", "segment": [{"prop": "platform", "values": ["iOS"]}]},
        "user_search": {"user": "alice@example.com"},
        "user_activity": {"amplitude_id": ALICE, "limit": 20},
        "list_cohorts": {"limit": 10},
        "get_cohort": {"cohort_id": "26umsb5", "limit": 25},
        "user_propensity": {"prediction_ids": ["0x10x"], "user_id": "alice@example.com"},
    },
    checks={"event_segmentation": _grouped, "user_search": _found, "get_cohort": _members,
            "user_propensity": _propensity},
    probe=("list_cohorts", {"limit": 10}),
)
