"""TikTokClient against the simulator over real HTTP: errors inside 200s, refresh, paging, analytics."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from config.catalog.integrations.tiktok import SPEC
from simulator.urls import BASES
from tests.providers.cases.tiktok import GOOD, RANGE
from workers.credentials.base import Credentials
from workers.errors import (
    AuthError,
    IntegrationUnavailable,
    ProviderRejected,
    ProviderUnavailable,
    RateLimited,
)
from workers.providers.base import MemorySteps
from workers.providers.tiktok import THROTTLE_DELAY, TikTokClient

PREFIX = BASES["tiktok"]
TOKEN_PATH = PREFIX + "/tt_user/oauth2/refresh_token/"
SENT: list[httpx.Request] = []


def make_client(url: str, **creds: str) -> TikTokClient:
    http = httpx.Client(base_url=url + PREFIX, timeout=10, event_hooks={"request": [SENT.append]})
    values = {k: v for k, v in {**GOOD, **creds}.items() if v is not None}
    return TikTokClient(http=http, credentials=Credentials(values, secret_fields=SPEC.secret_fields))


@pytest.fixture
def client(simulator: Any) -> Iterator[TikTokClient]:
    SENT.clear()
    c = make_client(simulator.url)
    yield c
    c.http.close()


def run(client: TikTokClient, action: str, **params: Any) -> Any:
    return client.run(action, SPEC.action(action).params(**params), MemorySteps())


def in_body(sim: Any, code: int, message: str = "error", status: int = 200) -> None:
    """Queue a TikTok answer with ``code`` inside an HTTP ``status`` (200 unless told)."""
    body = {"code": code, "message": message, "request_id": "202609010000001", "data": {}}
    sim.fault("tiktok", status, path=PREFIX + "/business", body=json.dumps(body),
              content_type="application/json")


# -- auth ---------------------------------------------------------------------------------------------
def test_token_travels_in_the_access_token_header_only(client: TikTokClient) -> None:
    run(client, "list_videos", limit=3)
    client.test_connection()
    assert SENT and all(r.headers["access-token"] == GOOD["access_token"] for r in SENT)
    assert all("authorization" not in r.headers and GOOD["access_token"] not in str(r.url) for r in SENT)


def test_connection_reads_the_account(client: TikTokClient) -> None:
    facts = client.test_connection()
    assert facts["business_id"] == GOOD["business_id"] and facts["display_name"].startswith("Sim Shop")


def test_bad_token_in_a_200_refreshes_once_then_is_an_auth_error(simulator: Any, sim: Any) -> None:
    client = make_client(simulator.url, access_token="bad-token")
    assert run(client, "list_videos", limit=1)["count"] == 1  # 40105 -> refresh -> replay
    assert client.credentials["access_token"].startswith("act.")
    assert client.credentials["refresh_token"] != GOOD["refresh_token"]  # rotated
    assert len(sim.calls("tiktok", "POST", path=TOKEN_PATH)) == 1
    stale = make_client(simulator.url, access_token="bad-token")  # still holds the used refresh token
    with pytest.raises(AuthError, match="reconnect") as info:
        stale.test_connection()
    assert info.value.provider_code == "40103"


def test_missing_access_token_is_fetched_with_the_refresh_token(simulator: Any, sim: Any) -> None:
    client = make_client(simulator.url, access_token=None)
    assert client.test_connection()["business_id"] == GOOD["business_id"]
    assert int(client.credentials["expires_at"]) > 0
    assert len(sim.calls("tiktok", "POST", path=TOKEN_PATH)) == 1


def test_refresh_goes_beside_the_api_base_url(client: TikTokClient) -> None:
    assert client.token_url() == str(client.http.base_url).rstrip("/") + "/tt_user/oauth2/refresh_token/"


def test_refresh_sends_json_with_app_credentials(simulator: Any) -> None:
    SENT.clear()
    make_client(simulator.url, access_token=None).test_connection()
    refresh = next(r for r in SENT if r.url.path == TOKEN_PATH)
    assert json.loads(refresh.content) == {
        "client_id": GOOD["client_id"], "client_secret": GOOD["client_secret"], "grant_type": "refresh_token",
        "refresh_token": GOOD["refresh_token"]}


def test_permission_code_is_an_auth_error_without_refresh(client: TikTokClient, sim: Any) -> None:
    in_body(sim, 40001, "No permission to operate this business account.")
    with pytest.raises(AuthError) as info:
        client.test_connection()
    assert info.value.provider_code == "40001" and sim.calls("tiktok", "POST") == []


# -- errors inside 200s -------------------------------------------------------------------------------
def test_rate_limit_code_in_a_200_waits_one_minute(client: TikTokClient, sim: Any) -> None:
    in_body(sim, 40100, "Too many requests.")
    with pytest.raises(RateLimited) as info:
        run(client, "list_videos", limit=2)
    assert info.value.retry_after == THROTTLE_DELAY and info.value.provider_code == "40100"
    assert run(client, "list_videos", limit=2)["count"] == 2


def test_rate_limit_honours_retry_after_when_sent(client: TikTokClient, sim: Any) -> None:
    sim.fault("tiktok", 429, path=PREFIX + "/business", retry_after=7)
    with pytest.raises(RateLimited) as info:
        client.test_connection()
    assert info.value.retry_after == 7.0


def test_parameter_error_in_a_200_is_rejected(client: TikTokClient) -> None:
    with pytest.raises(ProviderRejected, match="invalid field") as info:
        run(client, "list_videos", fields=["item_id", "plays"])
    assert info.value.provider_code == "40002"


@pytest.mark.parametrize("status", [200, 500])
def test_system_error_code_is_transient(client: TikTokClient, sim: Any, status: int) -> None:
    in_body(sim, 50000, "System error", status=status)
    with pytest.raises(ProviderUnavailable):
        client.test_connection()


# -- actions ------------------------------------------------------------------------------------------
def test_list_videos_follows_the_cursor_up_to_limit(client: TikTokClient, sim: Any) -> None:
    path = PREFIX + "/business/video/list/"
    result = run(client, "list_videos", limit=25)
    assert result["count"] == 25 and len(sim.calls("tiktok", "GET", path=path)) == 2
    counts = [int(r.url.params["max_count"]) for r in SENT if r.url.path == path]
    assert counts == [20, 5] and "cursor" not in SENT[0].url.params
    everything = run(client, "list_videos", limit=1000)
    assert everything["count"] == 45 and len({v["item_id"] for v in everything["videos"]}) == 45
    assert len(sim.calls("tiktok", "GET", path=path)) == 5  # 20 + 20 + 5, then has_more is false


def test_performance_analytics_daily_series_and_totals(client: TikTokClient) -> None:
    result = run(client, "get_performance_analytics", **RANGE)
    assert [d["date"] for d in result["daily"]] == [
        (date.fromisoformat(RANGE["start_date"]) + timedelta(days=n)).isoformat() for n in range(7)]
    assert result["totals"]["video_views"] == sum(d["video_views"] for d in result["daily"])
    assert "followers_count" not in result["totals"] and result["account"]["followers_count"] > 0
    with pytest.raises(ValidationError, match="end_date"):
        SPEC.action("get_performance_analytics").params(start_date="2026-09-02", end_date="2026-09-01")


def test_audience_insights_sum_activity_by_hour(client: TikTokClient) -> None:
    result = run(client, "get_audience_insights", **RANGE)
    assert {c["country"] for c in result["audience"]["audience_countries"]} >= {"US", "GB"}
    assert {g["gender"] for g in result["audience"]["audience_genders"]} == {"Female", "Male", "Other"}
    assert list(result["activity_by_hour"]) == [str(h) for h in range(24)]
    assert all(v > 0 for v in result["activity_by_hour"].values())


def test_date_window_longer_than_tiktok_keeps_is_rejected(client: TikTokClient) -> None:
    with pytest.raises(ProviderRejected, match="60 days"):
        run(client, "get_performance_analytics", start_date="2026-01-01", end_date="2026-06-01")


def test_trending_hashtags_is_restricted_with_its_reason(client: TikTokClient) -> None:
    action = SPEC.action("trending_hashtags")
    assert action is not None and "Creative Center" in (action.restricted or "")
    with pytest.raises(IntegrationUnavailable):
        client.run("trending_hashtags", action.params(), MemorySteps())
