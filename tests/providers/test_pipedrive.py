"""PipedriveClient against the simulator over real HTTP: what the shared conformance suite does not cover."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import httpx
import pytest

from config.catalog.integrations.pipedrive import SPEC
from workers.credentials.base import Credentials
from workers.errors import (
    AuthError,
    IntegrationUnavailable,
    ProviderRejected,
    ProviderUnavailable,
    RateLimited,
)
from workers.providers.base import CallRecord, MemorySteps
from workers.providers.pipedrive import BLOCKED_RETRY, DAILY_BUDGET_RETRY, PipedriveClient

TOKEN = "pdToken0123456789"
#: The only v1 endpoints the client may call: those without a v2 replacement.
V1_ALLOWED = ("/pipedrive/v1/users/me", "/pipedrive/v1/deals/summary", "/pipedrive/v1/deals/timeline")


def make_client(url: str, token: str = TOKEN, record: Any = None) -> PipedriveClient:
    http = httpx.Client(base_url=url + "/pipedrive", timeout=10)
    creds = Credentials({"api_token": token}, secret_fields=SPEC.secret_fields)
    return PipedriveClient(http=http, credentials=creds, record=record)


@pytest.fixture
def client(simulator: Any) -> Iterator[PipedriveClient]:
    c = make_client(simulator.url)
    yield c
    c.http.close()


def run(client: PipedriveClient, action: str, steps: MemorySteps | None = None, **params: Any) -> Any:
    return client.run(action, SPEC.action(action).params(**params), steps or MemorySteps())


def new_deal(client: PipedriveClient, **extra: Any) -> dict[str, Any]:
    return run(client, "create_deal", **({"title": "Deal", "value": 100, "currency": "USD"} | extra))


# -- auth, rate limits, errors -----------------------------------------------------------------------
def test_token_goes_in_the_x_api_token_header_never_the_query(client: PipedriveClient) -> None:
    assert client.auth_headers() == {"x-api-token": TOKEN}
    facts = client.test_connection()
    assert facts["company_name"] == "Sim Co" and facts["default_currency"] == "USD"
    assert TOKEN not in repr(facts)


def test_bad_token_is_an_auth_error(simulator: Any) -> None:
    with pytest.raises(AuthError) as info:
        make_client(simulator.url, token="badToken").test_connection()
    assert info.value.status == 401 and "unauthorized access" in info.value.message


def test_burst_window_headers_are_read_into_call_records(simulator: Any) -> None:
    records: list[CallRecord] = []
    client = make_client(simulator.url, record=records.append)
    client.test_connection()
    run(client, "list_deals", limit=2)
    limits = [r.rate_limit for r in records]
    assert all(rl and rl.limit == 40 and rl.reset_after == 2.0 for rl in limits)
    assert limits[0] and limits[1] and limits[1].remaining is not None and limits[0].remaining is not None


def test_throttle_without_retry_after_waits_for_the_window_reset(client: PipedriveClient, sim: Any) -> None:
    sim.fault("pipedrive", 429, headers={"x-ratelimit-reset": "5"})
    with pytest.raises(RateLimited) as info:
        run(client, "list_deals")
    assert info.value.retry_after == 5.0 and "Request over limit" in info.value.message


def test_throttle_with_burst_left_means_the_daily_budget_is_spent(client: PipedriveClient, sim: Any) -> None:
    sim.fault("pipedrive", 429, headers={"x-ratelimit-remaining": "35"})
    with pytest.raises(RateLimited) as info:
        run(client, "list_deals")
    assert info.value.retry_after == DAILY_BUDGET_RETRY


def test_cloudflare_block_page_is_a_throttle(client: PipedriveClient, sim: Any) -> None:
    sim.fault("pipedrive", 403, body="<html>Error 1020 Access denied</html>")
    with pytest.raises(RateLimited) as info:
        run(client, "list_deals")
    assert info.value.retry_after == BLOCKED_RETRY


def test_feature_cap_is_rejected_and_a_closed_account_is_unavailable(client: PipedriveClient,
                                                                     sim: Any) -> None:
    capped = ('{"success":false,"error":"Couldn\'t add the deal. Open deals limit reached.",'
              '"error_info":"Please check developers.pipedrive.com","code":"feature_capping_deals_limit"}')
    sim.fault("pipedrive", 403, body=capped, content_type="application/json")
    with pytest.raises(ProviderRejected) as info:
        new_deal(client)
    assert info.value.provider_code == "feature_capping_deals_limit" and "limit reached" in info.value.message
    sim.fault("pipedrive", 402, body='{"success":false,"error":"Company account is not open"}',
              content_type="application/json")
    with pytest.raises(IntegrationUnavailable):
        run(client, "list_pipelines")


def test_success_false_inside_a_200_is_an_error(client: PipedriveClient, sim: Any) -> None:
    sim.fault("pipedrive", 200, body='{"success":false,"error":"Something is off","data":null}',
              content_type="application/json")
    with pytest.raises(ProviderRejected, match="Something is off"):
        run(client, "list_deals")


def test_strict_v2_validation_is_reported(client: PipedriveClient) -> None:
    deal_id = new_deal(client)["id"]
    with pytest.raises(ProviderRejected) as info:
        run(client, "update_deal", deal_id=deal_id, lost_reason="Too pricey")
    assert info.value.status == 400 and "only be set when the deal is lost" in info.value.message
    assert info.value.provider_code == "ERR_SCHEMA_VALIDATION_FAILED"


def test_only_v2_and_the_v1_endpoints_without_a_replacement_are_called(client: PipedriveClient,
                                                                       sim: Any) -> None:
    deal_id = new_deal(client)["id"]
    run(client, "update_deal", deal_id=deal_id, stage_id=2)
    for action, params in (("list_pipelines", {}), ("list_deals", {}), ("list_activities", {}),
                           ("get_deal_history", {"deal_id": deal_id}), ("deal_summary", {"by": "period"})):
        run(client, action, **params)
    client.test_connection()
    paths = {c["path"] for c in sim.calls("pipedrive")}
    v1 = {p for p in paths if not p.startswith("/pipedrive/api/v2/")}
    assert v1 == {*V1_ALLOWED[:1], V1_ALLOWED[2], f"/pipedrive/v1/deals/{deal_id}/changelog"}
    assert client.http.get("/v1/deals", headers=client.auth_headers()).status_code == 410  # retired in v1


# -- deals -------------------------------------------------------------------------------------------
def test_list_deals_follows_next_cursor_up_to_the_limit(client: PipedriveClient, sim: Any,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(PipedriveClient, "PAGE_SIZE", 2)
    listed = run(client, "list_deals", status=None, limit=5)
    assert [d["id"] for d in listed["deals"]] == [1, 2, 3, 4, 5]
    assert [c["status"] for c in sim.calls("pipedrive", "GET", path="/pipedrive/api/v2/deals")] == [200] * 3
    everything = run(client, "list_deals", status=None, limit=100)
    assert everything["count"] == 6 and {d["status"] for d in everything["deals"]} == {"open", "won", "lost"}


def test_list_deals_filters(client: PipedriveClient) -> None:
    assert {d["title"] for d in run(client, "list_deals", pipeline_id=2)["deals"]} == {"Umbrella renewal"}
    assert {d["title"] for d in run(client, "list_deals", status="won")["deals"]} == {"Hooli license"}
    assert run(client, "list_deals", stage_id=3)["deals"][0]["currency"] == "EUR"


def test_create_deal_places_it_and_keeps_custom_fields(client: PipedriveClient) -> None:
    created = new_deal(client, stage_id=4, expected_close_date=date(2031, 3, 1),
                       custom_fields={"d4de1c1518b4531717c676029a45911c340390a6": "hot"})
    placed = (created["pipeline_id"], created["stage_id"], created["expected_close_date"])
    assert placed == (1, 4, "2031-03-01")
    assert created["custom_fields"] == {"d4de1c1518b4531717c676029a45911c340390a6": "hot"}


def test_deal_retry_after_a_failed_post_creates_exactly_one(client: PipedriveClient, sim: Any) -> None:
    sim.fault("pipedrive", 503, method="POST", path="/api/v2/deals")
    steps = MemorySteps()
    with pytest.raises(ProviderUnavailable):
        run(client, "create_deal", steps, title="Flaky")
    created = run(client, "create_deal", steps, title="Flaky")
    again = run(client, "create_deal", steps, title="Flaky")  # recorded: read back, not created again
    assert again["id"] == created["id"]
    assert [c["status"] for c in sim.calls("pipedrive", "POST", path="/pipedrive/api/v2/deals")] == [503, 200]


def test_deal_retry_does_not_reuse_a_deal_with_other_fields(client: PipedriveClient, sim: Any) -> None:
    first = new_deal(client, title="Same title", value=100)
    retry = MemorySteps(values={"intent:deal": True})
    other = run(client, "create_deal", retry, title="Same title", value=999, currency="USD")
    assert other["id"] != first["id"] and other["value"] == 999


def test_update_marks_won_and_history_lists_changes_newest_first(client: PipedriveClient) -> None:
    deal_id = new_deal(client)["id"]
    run(client, "update_deal", deal_id=deal_id, stage_id=3, value=250)
    won = run(client, "update_deal", deal_id=deal_id, status="won")
    assert won["status"] == "won" and won["won_time"] and won["changed"] == ["status"]
    history = run(client, "get_deal_history", deal_id=deal_id)
    keys = [c["field_key"] for c in history["changes"]]
    assert keys[0] == "status" and sorted(keys[1:]) == ["stage_id", "value"]
    assert history["changes"][0] == {"field_key": "status", "old_value": "open", "new_value": "won",
                                     "actor_user_id": 1001, "time": history["changes"][0]["time"],
                                     "change_source": "api", "is_bulk_update_flag": False}
    assert run(client, "get_deal_history", deal_id=deal_id, limit=2)["count"] == 2


def test_unknown_deal_is_rejected(client: PipedriveClient) -> None:
    with pytest.raises(ProviderRejected) as info:
        run(client, "get_deal_history", deal_id=9999)
    assert info.value.status == 404


# -- activities --------------------------------------------------------------------------------------
def test_activity_person_becomes_the_primary_participant(client: PipedriveClient) -> None:
    made = run(client, "create_activity", subject="Call back", type="call", deal_id=1, person_id=42,
               due_date=date(2031, 1, 2), due_time="09:30", duration="00:30", note="<b>ask for budget</b>")
    facts = (made["person_id"], made["deal_id"], made["due_date"], made["due_time"])
    assert facts == (42, 1, "2031-01-02", "09:30")
    open_calls = run(client, "list_activities", deal_id=1, done=False)["activities"]
    assert [a["subject"] for a in open_calls] == ["Call back"]
    assert [a["subject"] for a in run(client, "list_activities", done=True)["activities"]] == ["Intro call"]


def test_activity_retry_reuses_the_one_created_earlier(client: PipedriveClient, sim: Any) -> None:
    first = run(client, "create_activity", subject="Demo", type="meeting", deal_id=2,
                due_date=date(2031, 1, 5))
    again = run(client, "create_activity", MemorySteps(values={"intent:activity": True}), subject="Demo",
                type="meeting", deal_id=2, due_date=date(2031, 1, 5))
    assert again["id"] == first["id"]
    assert len(sim.calls("pipedrive", "POST", path="/pipedrive/api/v2/activities")) == 1


def test_unknown_activity_type_is_rejected(client: PipedriveClient) -> None:
    with pytest.raises(ProviderRejected, match="activity type"):
        run(client, "create_activity", subject="x", type="carrier_pigeon")


# -- forecasting -------------------------------------------------------------------------------------
def test_summary_by_stage_converts_currencies_and_weights_by_probability(client: PipedriveClient) -> None:
    result = run(client, "deal_summary", pipeline_id=1)
    rows = {r["stage_name"]: r for r in result["stages"]}
    assert list(rows) == ["Lead in", "Contact made", "Proposal", "Negotiation", "Verbal yes"]
    assert rows["Proposal"]["by_currency"] == {"EUR": {"count": 1, "value": 12000.0,
                                                       "weighted_value": 6000.0}}
    assert rows["Proposal"]["value"] == 13200.0 and rows["Proposal"]["weighted_value"] == 6600.0
    assert rows["Verbal yes"]["count"] == 0  # the won deal is not open
    assert result["total_count"] == 3 and result["total_value"] == 5000 + 13200 + 8000
    won = run(client, "deal_summary", pipeline_id=1, status="won")
    assert won["total_count"] == 1 and won["total_value"] == 20000


def test_summary_by_stage_resumes_from_the_rows_already_fetched(client: PipedriveClient, sim: Any) -> None:
    sim.fault("pipedrive", 503, path="/v1/deals/summary", after=2)
    steps = MemorySteps()
    with pytest.raises(ProviderUnavailable):
        run(client, "deal_summary", steps, pipeline_id=1)
    result = run(client, "deal_summary", steps, pipeline_id=1)
    assert len(result["stages"]) == 5
    assert [c["status"] for c in sim.calls("pipedrive", "GET", path="/pipedrive/v1/deals/summary")] == \
        [200, 200, 503, 200, 200, 200]
    assert ("summary ready", 100.0) in steps.seen


def test_summary_by_period_is_a_forecast_per_month(client: PipedriveClient) -> None:
    start = date.today().replace(day=1)
    result = run(client, "deal_summary", by="period", start_date=start, interval="month", amount=3)
    assert len(result["periods"]) == 3 and result["periods"][0]["period_start"].startswith(start.isoformat())
    first = result["periods"][0]
    assert first["count"] == 3 and first["won_count"] == 1  # Acme, Umbrella (open) and Hooli (won)
    assert first["values"] == {"USD": 25000.0, "GBP": 3000.0}
    assert first["converted"]["won_value"] == 20000.0
    only_sales = run(client, "deal_summary", by="period", start_date=start, amount=3, pipeline_id=1)
    assert only_sales["periods"][0]["values"] == {"USD": 25000.0}
