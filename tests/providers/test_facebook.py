"""FacebookClient against the simulator over real HTTP: Page token, posts, scheduling, insights, throttles."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from config.catalog.integrations.facebook import SPEC
from simulator.urls import BASES
from tests.providers.cases.facebook import GOOD, PAGE_ID, publish_at
from workers.credentials.base import Credentials
from workers.errors import AuthError, InvalidPayload, ProviderRejected, RateLimited
from workers.providers.base import CallRecord, MemorySteps
from workers.providers.facebook import FacebookClient

PREFIX = BASES["facebook"]
TOKEN = GOOD["access_token"]


@pytest.fixture(autouse=True)
def fast_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(FacebookClient, "POLL_INTERVAL", 0.01)


def make_client(url: str, record: Any = None, **creds: str) -> FacebookClient:
    http = httpx.Client(base_url=url + PREFIX, timeout=10, event_hooks={"request": [SENT.append]})
    values = {**GOOD, **creds}
    return FacebookClient(http=http, credentials=Credentials(values, secret_fields=SPEC.secret_fields),
                          record=record)


SENT: list[httpx.Request] = []


@pytest.fixture
def client(simulator: Any) -> Iterator[FacebookClient]:
    SENT.clear()
    c = make_client(simulator.url)
    yield c
    c.http.close()


def run(client: FacebookClient, action: str, steps: MemorySteps | None = None, **params: Any) -> Any:
    return client.run(action, SPEC.action(action).params(**params), steps or MemorySteps())


def scheduled(client: FacebookClient) -> list[dict[str, Any]]:
    return run(client, "list_scheduled_posts", limit=100)["scheduled_posts"]


# -- tokens -------------------------------------------------------------------------------------------
def test_page_calls_use_the_derived_page_token_and_ads_the_user_token(client: FacebookClient) -> None:
    run(client, "get_page")
    run(client, "get_ads_insights")
    page_token = client.page_token()
    auth = {r.url.path: r.headers["authorization"] for r in SENT}
    assert auth[f"{PREFIX}/act_9988776655/insights"] == f"Bearer {TOKEN}"
    assert page_token.startswith("EAAP") and page_token != TOKEN
    assert [r.headers["authorization"] for r in SENT if r.url.path == f"{PREFIX}/{PAGE_ID}"] == [
        f"Bearer {TOKEN}", f"Bearer {page_token}"]  # derive the Page token, then read the Page with it


def test_tokens_stay_out_of_the_url_and_every_call_carries_appsecret_proof(client: FacebookClient) -> None:
    run(client, "publish_page_post", message="Hi")
    run(client, "get_page_insights")
    page_token = client.page_token()
    assert SENT and all(TOKEN not in str(r.url) and page_token not in str(r.url)
                        and "access_token=" not in str(r.url) for r in SENT)
    for request in SENT:
        token = request.headers["authorization"].removeprefix("Bearer ")
        expected = hmac.new(GOOD["client_secret"].encode(), token.encode(), hashlib.sha256).hexdigest()
        assert request.url.params["appsecret_proof"] == expected


def test_connection_reads_the_page_and_a_bad_token_is_code_190(simulator: Any) -> None:
    facts = make_client(simulator.url).test_connection()
    assert facts == {"page_id": PAGE_ID, "name": f"Sim Page {PAGE_ID[-4:]}",
                     "ad_account_id": "act_9988776655"}
    with pytest.raises(AuthError) as info:
        make_client(simulator.url, access_token="bad-token").test_connection()
    assert info.value.provider_code == "190" and "Cannot parse access token" in info.value.message


def test_no_page_token_for_the_page_is_a_clear_auth_error(client: FacebookClient, sim: Any) -> None:
    sim.fault("facebook", 200, path=f"/{PAGE_ID}", body=json.dumps({"id": PAGE_ID}),
              content_type="application/json")
    with pytest.raises(AuthError, match="must manage the Page"):
        run(client, "get_page")


def test_page_endpoints_refuse_the_user_token(client: FacebookClient) -> None:
    with pytest.raises(AuthError, match="Page Access Token"):
        client.json("GET", f"/{PAGE_ID}/scheduled_posts")


# -- Page ---------------------------------------------------------------------------------------------
def test_update_page_info_is_read_back(client: FacebookClient) -> None:
    result = run(client, "update_page_info", about="Sourdough since 1990", website="https://bakery.example",
                 emails=["a@bakery.example", "b@bakery.example"])
    assert result == {"page_id": PAGE_ID, "updated": ["about", "emails", "website"], "success": True}
    page = run(client, "get_page", fields=["about", "website", "emails", "followers_count"])["page"]
    assert page["about"] == "Sourdough since 1990"
    assert page["emails"] == ["a@bakery.example", "b@bakery.example"]
    assert page["website"] == "https://bakery.example" and page["followers_count"] > 0
    with pytest.raises(ValidationError, match="at least one"):
        SPEC.action("update_page_info").params()


def test_unknown_page_field_is_rejected(client: FacebookClient) -> None:
    with pytest.raises(ProviderRejected, match="nonexisting field") as info:
        run(client, "get_page", fields=["id", "page_fans"])
    assert info.value.provider_code == "100"


def test_publish_page_post_once_per_job(client: FacebookClient, sim: Any) -> None:
    steps = MemorySteps()
    first = run(client, "publish_page_post", steps, message="Fresh loaves", link="https://bakery.example")
    again = run(client, "publish_page_post", steps, message="Fresh loaves", link="https://bakery.example")
    assert again["post_id"] == first["post_id"] and again["resumed"] and first["is_published"] is True
    assert len(sim.calls("facebook", "POST", path=f"{PREFIX}/{PAGE_ID}/feed")) == 1


def test_publish_retry_after_an_unrecorded_post_finds_it(client: FacebookClient, sim: Any) -> None:
    steps = MemorySteps()
    steps.intent("post")  # an earlier attempt got this far and posted, then died before recording the id
    client.page_json("POST", f"/{PAGE_ID}/feed", data={"message": "Only once"})
    result = run(client, "publish_page_post", steps, message="Only once")
    assert result["resumed"] and steps.get("post_id") == result["post_id"]
    assert len(sim.calls("facebook", "POST", path=f"{PREFIX}/{PAGE_ID}/feed")) == 1


# -- scheduled posts ----------------------------------------------------------------------------------
def test_schedule_post_lists_and_never_schedules_twice(client: FacebookClient, sim: Any) -> None:
    when = publish_at(5)
    steps = MemorySteps()
    result = run(client, "schedule_post", steps, message="Sale starts", publish_at=when)
    again = run(client, "schedule_post", steps, message="Sale starts", publish_at=when)
    assert again["post_id"] == result["post_id"] and again["resumed"]
    assert result["is_published"] is False
    assert datetime.fromisoformat(result["scheduled_publish_time"]) == datetime.fromisoformat(when)
    [post] = scheduled(client)
    assert post["id"] == result["post_id"] and post["scheduled_publish_time"] == int(
        datetime.fromisoformat(when).timestamp())
    assert len(sim.calls("facebook", "POST", path=f"{PREFIX}/{PAGE_ID}/feed")) == 1


def test_schedule_post_time_rules(client: FacebookClient, sim: Any) -> None:
    with pytest.raises(InvalidPayload, match="10 minutes"):
        run(client, "schedule_post", message="Too soon", publish_at=publish_at(0.001))
    assert sim.calls("facebook", "POST") == []
    with pytest.raises(ValidationError, match="timezone"):
        SPEC.action("schedule_post").params(message="x", publish_at="2031-01-01T09:00:00")
    with pytest.raises(ProviderRejected, match="scheduled publish time is invalid"):
        run(client, "schedule_post", message="Too late", publish_at=publish_at(45))


def test_list_scheduled_posts_follows_cursors_up_to_limit(client: FacebookClient, sim: Any,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    for n in range(5):
        run(client, "schedule_post", message=f"Post {n}", publish_at=publish_at(1 + n))
    monkeypatch.setattr(FacebookClient, "PAGE_SIZE", 2)
    path = f"{PREFIX}/{PAGE_ID}/scheduled_posts"
    before = len(sim.calls("facebook", "GET", path=path))
    assert run(client, "list_scheduled_posts", limit=3)["count"] == 3
    assert len(sim.calls("facebook", "GET", path=path)) - before == 2
    listed = run(client, "list_scheduled_posts", limit=50)["scheduled_posts"]
    assert [p["message"] for p in listed] == [f"Post {n}" for n in range(4, -1, -1)]


def test_cancel_scheduled_post_deletes_once(client: FacebookClient, sim: Any) -> None:
    post_id = run(client, "schedule_post", message="Cancel me", publish_at=publish_at())["post_id"]
    steps = MemorySteps()
    result = run(client, "cancel_scheduled_post", steps, post_id=post_id)
    assert result == {"post_id": post_id, "deleted": True}
    run(client, "cancel_scheduled_post", steps, post_id=post_id)
    assert scheduled(client) == [] and len(sim.calls("facebook", "DELETE")) == 1


def test_cancel_retry_after_an_unrecorded_delete_succeeds(client: FacebookClient, sim: Any) -> None:
    post_id = run(client, "schedule_post", message="Cancel me", publish_at=publish_at())["post_id"]
    steps = MemorySteps()
    steps.intent("delete")
    client.page_json("DELETE", f"/{post_id}")  # the earlier attempt deleted it, then died
    assert run(client, "cancel_scheduled_post", steps, post_id=post_id)["deleted"] is True
    assert len(sim.calls("facebook", "DELETE")) == 1
    with pytest.raises(ProviderRejected, match="no post"):
        run(client, "cancel_scheduled_post", post_id=post_id)


def test_cancel_refuses_published_and_foreign_posts(client: FacebookClient, sim: Any) -> None:
    published = run(client, "publish_page_post", message="Live")["post_id"]
    with pytest.raises(ProviderRejected, match="already published"):
        run(client, "cancel_scheduled_post", post_id=published)
    with pytest.raises(ProviderRejected, match="does not belong"):
        run(client, "cancel_scheduled_post", post_id="999_123")
    assert sim.calls("facebook", "DELETE") == []


# -- insights -----------------------------------------------------------------------------------------
def test_page_insights_use_views_metrics(client: FacebookClient) -> None:
    since = datetime.now(UTC).date() - timedelta(days=7)
    result = run(client, "get_page_insights", since=since, until=since + timedelta(days=7))
    assert set(result["metrics"]) == {"page_media_view", "page_total_media_view_unique",
                                      "page_post_engagements", "page_follows"}
    assert all(len(v) == 7 and isinstance(v[0]["value"], int) for v in result["metrics"].values())


@pytest.mark.parametrize(("metric", "hint"), [("page_impressions", "page_media_view"),
                                              ("page_fans", "page_follows"), ("page_fan_adds", "")])
def test_retired_page_metrics_are_refused_with_the_replacement(metric: str, hint: str) -> None:
    with pytest.raises(ValidationError, match=f"retired the Page metric {metric}.*{hint}"):
        SPEC.action("get_page_insights").params(metrics=[metric])


def test_page_insights_window_is_at_most_90_days() -> None:
    start = datetime.now(UTC).date() - timedelta(days=100)
    with pytest.raises(ValidationError, match="90 days"):
        SPEC.action("get_page_insights").params(since=start, until=start + timedelta(days=91))


def test_ads_insights_sync_rows_and_paging(client: FacebookClient, sim: Any,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    result = run(client, "get_ads_insights")  # campaign level, last 7 days, one row per day
    assert result["count"] == 21 and result["async"] is False
    row = result["rows"][0]
    assert set(row) == {"campaign_name", "spend", "impressions", "reach", "clicks", "ctr", "cpc",
                        "date_start", "date_stop"} and row["date_start"] == row["date_stop"]
    monkeypatch.setattr(FacebookClient, "PAGE_SIZE", 8)
    path = f"{PREFIX}/act_9988776655/insights"
    before = len(sim.calls("facebook", "GET", path=path))
    assert run(client, "get_ads_insights", limit=20)["count"] == 20
    assert len(sim.calls("facebook", "GET", path=path)) - before == 3


def test_large_ads_insights_use_the_async_report_and_resume(client: FacebookClient, sim: Any) -> None:
    steps = MemorySteps()
    result = run(client, "get_ads_insights", steps, level="account", date_preset="last_90d", limit=1000)
    assert result["async"] and result["count"] == 90 and result["report_run_id"] == steps.get("report_run_id")
    assert any(step.startswith("insights report 50%") for step, _ in steps.seen)
    again = run(client, "get_ads_insights", steps, level="account", date_preset="last_90d", limit=1000)
    assert again["rows"] == result["rows"]
    assert len(sim.calls("facebook", "POST", contains="/insights")) == 1


def test_ads_insights_too_large_for_sync_moves_to_async(client: FacebookClient,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(FacebookClient, "ASYNC_AFTER_DAYS", 365)
    until = datetime.now(UTC).date() - timedelta(days=1)
    result = run(client, "get_ads_insights", level="ad", since=until - timedelta(days=59), until=until,
                 limit=1000)
    assert result["async"] and result["count"] == 720


def test_ads_insights_need_an_ad_account(simulator: Any) -> None:
    client = make_client(simulator.url, ad_account_id="")
    with pytest.raises(InvalidPayload, match="ad_account_id"):
        run(client, "get_ads_insights")


# -- throttles and usage headers ----------------------------------------------------------------------
def _throttle(sim: Any, code: int, headers: dict[str, Any], status: int = 400) -> None:
    body = {"error": {"message": f"(#{code}) limit reached", "type": "OAuthException", "code": code,
                      "fbtrace_id": "Abc"}}
    sim.fault("facebook", status, body=json.dumps(body), content_type="application/json",
              headers={k: json.dumps(v) for k, v in headers.items()})


def test_page_throttle_waits_for_estimated_time_to_regain_access(client: FacebookClient, sim: Any) -> None:
    usage = {PAGE_ID: [{"type": "pages", "call_count": 100, "total_cputime": 12, "total_time": 20,
                        "estimated_time_to_regain_access": 4}]}
    _throttle(sim, 32, {"X-Business-Use-Case-Usage": usage})
    with pytest.raises(RateLimited) as info:
        run(client, "get_page")
    assert info.value.retry_after == 240.0 and info.value.provider_code == "32"


def test_ads_throttle_waits_for_the_ad_account_reset(client: FacebookClient, sim: Any) -> None:
    _throttle(sim, 80000, {"X-Ad-Account-Usage": {"acc_id_util_pct": 100, "reset_time_duration": 95}},
              status=403)
    with pytest.raises(RateLimited) as info:
        run(client, "get_ads_insights")
    assert info.value.retry_after == 95.0 and info.value.provider_code == "80000"


@pytest.mark.parametrize("code", [4, 17, 613, 80001])
def test_throttle_codes_are_rate_limited(client: FacebookClient, sim: Any, code: int) -> None:
    _throttle(sim, code, {})
    with pytest.raises(RateLimited):
        client.test_connection()


def test_usage_headers_become_rate_limit(client: FacebookClient) -> None:
    headers = {"X-App-Usage": '{"call_count":12,"total_cputime":3,"total_time":4}',
               "X-Ad-Account-Usage": '{"acc_id_util_pct":61.5,"reset_time_duration":0}'}
    rl = client.rate_limit(httpx.Response(200, headers=headers))
    assert rl is not None and (rl.limit, rl.remaining, rl.reset_after) == (100, 39, None)


def test_audit_records_paths_without_query_string(simulator: Any) -> None:
    records: list[CallRecord] = []
    client = make_client(simulator.url, record=records.append)
    run(client, "get_ads_insights")
    run(client, "list_scheduled_posts")
    assert all("?" not in r.path and TOKEN not in r.path for r in records)
    ads = next(r for r in records if r.path == "/act_9988776655/insights")
    assert ads.rate_limit is not None and ads.rate_limit.limit == 100
