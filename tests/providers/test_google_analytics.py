"""GoogleAnalyticsClient against the simulator over real HTTP: one client for Seomi's and Dexter's entries,
offset paging, report filters, realtime and funnel reports, property access and quota errors."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from config.catalog.integrations.google_analytics import DEXTER_SPEC, SEOMI_SPEC
from tests.providers.cases.google_analytics import GOOD
from workers.credentials.base import Credentials
from workers.errors import AuthError, ProviderRejected, RateLimited
from workers.providers import _google, client_class
from workers.providers.base import MemorySteps
from workers.providers.google_analytics import GoogleAnalyticsClient, funnel_steps, metric_value

PREFIX = "/google_analytics"
RUN_REPORT = PREFIX + "/v1beta/properties/123456789:runReport"
SPECS = {a.name: spec for spec in (SEOMI_SPEC, DEXTER_SPEC) for a in spec.actions}


def make_client(url: str, **creds: str) -> GoogleAnalyticsClient:
    http = httpx.Client(base_url=url + PREFIX, timeout=10)
    return GoogleAnalyticsClient(http=http, token_url=url + PREFIX + "/token", credentials=Credentials(
        {**GOOD, **creds}, secret_fields=SEOMI_SPEC.secret_fields))


@pytest.fixture
def client(simulator: Any) -> Iterator[GoogleAnalyticsClient]:
    c = make_client(simulator.url)
    yield c
    c.http.close()


def run(client: GoogleAnalyticsClient, action: str, **params: Any) -> Any:
    spec = SPECS[action]
    return client.run(action, spec.action(action).params(**params), MemorySteps())


def test_one_client_serves_both_agents_entries() -> None:
    assert client_class("google_analytics") is GoogleAnalyticsClient
    for spec in (SEOMI_SPEC, DEXTER_SPEC):
        assert spec.implemented and spec.id == spec.provider == "google_analytics"
        assert all(hasattr(GoogleAnalyticsClient, f"action_{a.name}") for a in spec.actions)
    shared = {a.name for a in SEOMI_SPEC.actions} & {a.name for a in DEXTER_SPEC.actions}
    assert shared == {"run_custom_report"}


def test_connection_counts_dimensions_metrics_and_custom_definitions(client: GoogleAnalyticsClient) -> None:
    facts = client.test_connection()
    assert facts["property_id"] == "123456789" and facts["custom_definitions"] == 2
    assert facts["dimensions"] > 5 and facts["metrics"] > 5


def test_property_the_user_cannot_read_is_an_auth_error(simulator: Any) -> None:
    with pytest.raises(AuthError) as err:
        make_client(simulator.url, property_id="999000111").test_connection()
    assert err.value.status == 403 and err.value.provider_code == "PERMISSION_DENIED"


def test_properties_prefix_in_the_property_id_is_accepted(simulator: Any) -> None:
    assert make_client(simulator.url, property_id="properties/123").test_connection()["property_id"] == "123"


# -- paging --------------------------------------------------------------------------------------------
def test_report_pages_with_offset_until_row_count(client: GoogleAnalyticsClient, sim: Any) -> None:
    client.PAGE_SIZE = 25  # type: ignore[misc]
    result = run(client, "traffic_report", start_date="13daysAgo", end_date="today")
    assert result["row_count"] == len(result["rows"]) == result["returned"]
    assert 50 < result["row_count"] <= 14 * 6  # days x channels, rows with all-zero metrics dropped
    assert len(sim.calls("google_analytics", "POST", path=RUN_REPORT)) == -(-result["row_count"] // 25)
    assert {"date", "sessionDefaultChannelGroup", "sessions", "engagementRate"} <= set(result["rows"][0])
    assert isinstance(result["rows"][0]["sessions"], int) and isinstance(result["rows"][0]["engagementRate"],
                                                                          float)


def test_report_stops_at_the_limit(client: GoogleAnalyticsClient, sim: Any) -> None:
    client.PAGE_SIZE = 25  # type: ignore[misc]
    result = run(client, "traffic_report", start_date="13daysAgo", end_date="today", limit=30)
    assert len(result["rows"]) == 30 and result["row_count"] > 30
    assert len(sim.calls("google_analytics", "POST", path=RUN_REPORT)) == 2  # 25 + 5


def test_reports_show_the_property_quota_left(client: GoogleAnalyticsClient) -> None:
    quota = run(client, "run_custom_report", metrics=["activeUsers"])["quota_remaining"]
    assert quota["tokensPerDay"] < 200_000 and quota["concurrentRequests"] == 10


# -- report filters ------------------------------------------------------------------------------------
def test_behaviour_report_filters_on_organic_search_unless_told_not_to(client: GoogleAnalyticsClient) -> None:
    dims = ["pagePath", "sessionDefaultChannelGroup"]
    organic = run(client, "user_behavior_report", dimensions=dims)
    assert {r["sessionDefaultChannelGroup"] for r in organic["rows"]} == {"Organic Search"}
    every = run(client, "user_behavior_report", dimensions=dims, organic_only=False)
    assert len({r["sessionDefaultChannelGroup"] for r in every["rows"]}) > 1


def test_conversions_report_keeps_rows_with_key_events(client: GoogleAnalyticsClient) -> None:
    result = run(client, "conversions_report", dimensions=["eventName"])
    assert result["rows"]
    assert {r["eventName"] for r in result["rows"]} <= {"purchase", "sign_up", "generate_lead"}
    assert all(r["keyEvents"] > 0 for r in result["rows"])
    only = run(client, "conversions_report", dimensions=["eventName"], event_names=["purchase"])
    assert {r["eventName"] for r in only["rows"]} == {"purchase"}


def test_custom_events_report_is_limited_to_the_named_events(client: GoogleAnalyticsClient) -> None:
    result = run(client, "custom_events_report", event_names=["scroll", "click"])
    assert {r["eventName"] for r in result["rows"]} == {"scroll", "click"}


def test_custom_report_passes_filters_and_ordering(client: GoogleAnalyticsClient) -> None:
    result = run(client, "run_custom_report", dimensions=["country"], metrics=["sessions"],
                 dimension_filter={"notExpression": {"filter": {"fieldName": "country", "stringFilter": {
                     "matchType": "BEGINS_WITH", "value": "United"}}}},
                 order_bys=[{"dimension": {"dimensionName": "country"}}])
    countries = [r["country"] for r in result["rows"]]
    assert countries == sorted(countries) and not any(c.startswith("United") for c in countries)


def test_unknown_metric_is_rejected_with_googles_message(client: GoogleAnalyticsClient) -> None:
    with pytest.raises(ProviderRejected) as err:
        run(client, "run_custom_report", metrics=["conversionz"])
    assert err.value.status == 400 and "conversionz is not a valid metric" in err.value.message
    assert err.value.provider_code == "INVALID_ARGUMENT"


# -- realtime and funnels ------------------------------------------------------------------------------
def test_realtime_report_is_one_request_without_offset(client: GoogleAnalyticsClient, sim: Any) -> None:
    result = run(client, "run_realtime_report", dimensions=["country"], limit=4)
    assert len(result["rows"]) == 4 and result["row_count"] == 6 and result["minutes_ago"] == [29, 0]
    assert len(sim.calls("google_analytics", "POST", ":runRealtimeReport")) == 1  # the sim refuses "offset"


def test_realtime_window_must_run_forwards() -> None:
    with pytest.raises(ValidationError):
        DEXTER_SPEC.action("run_realtime_report").params(minutes_ago_start=5, minutes_ago_end=10)


def test_funnel_report_with_breakdown(client: GoogleAnalyticsClient) -> None:
    steps = [{"name": "Land", "event_name": "session_start"}, {"name": "Sign up", "event_name": "sign_up"}]
    result = run(client, "run_funnel_report", steps=steps, breakdown_dimension="deviceCategory")
    totals = [s for s in result["steps"] if s["breakdown"] == "total"]
    assert [(s["position"], s["step"]) for s in totals] == [(1, "Land"), (2, "Sign up")]
    assert {s["breakdown"] for s in result["steps"]} == {"total", "desktop", "mobile", "tablet"}
    first = totals[0]
    assert first["active_users"] - first["abandonments"] == totals[1]["active_users"]
    assert isinstance(first["completion_rate"], float) and 0 < first["completion_rate"] < 1


def test_metric_values_are_parsed_by_value_not_by_declared_type() -> None:
    assert metric_value("0.2778", "TYPE_INTEGER") == pytest.approx(0.2778)
    assert metric_value("42", "TYPE_INTEGER") == 42 and metric_value("3", "TYPE_SECONDS") == 3.0
    assert funnel_steps([{"funnelStepName": "2. Pay. Now", "activeUsers": 5}], None)[0]["step"] == "Pay. Now"


# -- quota ---------------------------------------------------------------------------------------------
def test_exhausted_daily_tokens_wait_for_the_pacific_reset(client: GoogleAnalyticsClient, sim: Any) -> None:
    body = ('{"error": {"code": 429, "message": "Exhausted property tokens per day for this property.", '
            '"status": "RESOURCE_EXHAUSTED"}}')
    sim.fault("google_analytics", 429, path=":runReport", body=body, content_type="application/json")
    with pytest.raises(RateLimited) as err:
        run(client, "traffic_report")
    assert err.value.provider_code == "RESOURCE_EXHAUSTED" and 60 <= err.value.retry_after <= 25 * 3600


def test_hourly_exhaustion_without_retry_after_uses_the_backoff_default(client: GoogleAnalyticsClient,
                                                                      sim: Any) -> None:
    sim.fault("google_analytics", 429, path=":runReport")
    with pytest.raises(RateLimited) as err:
        run(client, "traffic_report")
    assert err.value.retry_after == _google.BACKOFF_BASE and "per hour" in err.value.message
