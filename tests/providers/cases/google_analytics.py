"""Conformance cases: Seomi and Dexter / Google Analytics 4 (one client, two catalog entries)."""

from __future__ import annotations

from typing import Any

from config.catalog.integrations.google_analytics import DEXTER_SPEC, SEOMI_SPEC
from tests.providers.cases import ProviderCase
from workers.providers.google_analytics import GoogleAnalyticsClient

GOOD = {"client_id": "sim-client.apps.googleusercontent.com", "client_secret": "GOCSPX-simsecret",
        "refresh_token": "1//sim-refresh-token", "access_token": "ya29.sim-configured",
        "property_id": "123456789"}
BAD = {**GOOD, "client_secret": "bad-secret", "refresh_token": "bad-refresh", "access_token": "bad-access"}
CUSTOM = {"metrics": ["activeUsers", "sessions"], "dimensions": ["country"], "start_date": "7daysAgo",
          "order_bys": [{"metric": {"metricName": "sessions"}, "desc": True}]}
PROBE = ("run_custom_report", {"metrics": ["activeUsers"], "limit": 10})


def _has_rows(result: Any) -> None:
    assert result["rows"] and result["row_count"] >= len(result["rows"])


def _funnel(result: Any) -> None:
    assert [s["position"] for s in result["steps"]] == [1, 2, 3]
    assert result["steps"][0]["active_users"] >= result["steps"][-1]["active_users"]


def _case(spec: Any, actions: dict[str, Any], checks: dict[str, Any]) -> ProviderCase:
    return ProviderCase(spec=spec, client=GoogleAnalyticsClient, good=GOOD,
                        bad=BAD, actions=actions, probe=PROBE, checks=checks)


SEOMI = _case(SEOMI_SPEC, {
    "organic_traffic_report": {"limit": 100},
    "user_behavior_report": {},
    "conversions_report": {"event_names": ["purchase", "sign_up"]},
    "run_custom_report": CUSTOM,
}, {"organic_traffic_report": _has_rows, "run_custom_report": _has_rows})

DEXTER = _case(DEXTER_SPEC, {
    "traffic_report": {"start_date": "14daysAgo"},
    "custom_events_report": {"event_names": ["sign_up", "add_to_cart"]},
    "run_realtime_report": {},
    "run_funnel_report": {"steps": [{"name": "Visit", "event_name": "session_start"},
                                    {"name": "Cart", "event_name": "add_to_cart"},
                                    {"name": "Buy", "event_name": "purchase"}]},
    "run_custom_report": CUSTOM,
}, {"traffic_report": _has_rows, "run_funnel_report": _funnel})

CASES = [SEOMI, DEXTER]
