"""LinkedInClient against the simulator over real HTTP: both entries, versions, little text, limits, dedupe."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from config.catalog.integrations.linkedin import SALES_SPEC, SOCIAL_SPEC
from simulator.providers import linkedin as sim_li
from simulator.urls import TOKENS
from tests.providers.cases.linkedin import GOOD, ORG_ID
from workers.credentials.base import Credentials
from workers.errors import AuthError, IntegrationUnavailable, ProviderRejected, RateLimited
from workers.providers import linkedin as li
from workers.providers.base import MemorySteps
from workers.providers.linkedin import LinkedInClient, little_text, until_utc_midnight

TOKEN_PATH = TOKENS["linkedin"]


def make_client(url: str, requests: list[httpx.Request] | None = None, **creds: str) -> LinkedInClient:
    hooks = {"request": [requests.append]} if requests is not None else {}
    http = httpx.Client(base_url=url + "/linkedin", timeout=10, event_hooks=hooks)
    values = {k: v for k, v in {**GOOD, "organization_id": ORG_ID, **creds}.items() if v}
    return LinkedInClient(http=http, credentials=Credentials(values, secret_fields=SOCIAL_SPEC.secret_fields),
                          token_url=url + TOKEN_PATH)


@pytest.fixture
def client(simulator: Any) -> Iterator[LinkedInClient]:
    c = make_client(simulator.url)
    yield c
    c.http.close()


def run(client: LinkedInClient, action: str, steps: MemorySteps | None = None, **params: Any) -> Any:
    spec = SOCIAL_SPEC.action(action) or SALES_SPEC.action(action)
    assert spec is not None
    return client.run(action, spec.params(**params), steps or MemorySteps())


def post_calls(sim: Any) -> int:
    return len(sim.calls("linkedin", "POST", path="/linkedin/rest/posts"))


# -- connection, headers, versions -------------------------------------------------------------------
def test_connection_checks_the_page_role(client: LinkedInClient, simulator: Any) -> None:
    assert client.test_connection() == {"organization_urn": f"urn:li:organization:{ORG_ID}",
                                        "role": "ADMINISTRATOR"}
    with pytest.raises(AuthError, match="no approved role"):
        make_client(simulator.url, access_token="viewer.at-1").test_connection()


def test_sales_connection_is_the_signed_in_member(simulator: Any) -> None:
    facts = make_client(simulator.url, organization_id="").test_connection()
    assert facts["member_id"] and facts["name"] == "Sim Acme"


def test_every_rest_call_pins_version_and_protocol(simulator: Any) -> None:
    requests: list[httpx.Request] = []
    client = make_client(simulator.url, requests)
    run(client, "publish_post", text="Versioned")
    run(client, "get_organization")
    assert requests and all(r.headers["linkedin-version"] == li.VERSION for r in requests)
    assert all(r.headers["x-restli-protocol-version"] == "2.0.0" for r in requests)
    assert all("urn:li:" not in r.url.query.decode() for r in requests)  # URNs travel encoded


def test_sunset_version_is_a_permanent_rejection(client: LinkedInClient, pin_header: Any) -> None:
    pin_header(LinkedInClient, "LinkedIn-Version", "202401")
    with pytest.raises(ProviderRejected) as info:
        run(client, "get_organization")
    assert info.value.status == 426 and info.value.provider_code == "NONEXISTENT_VERSION"


# -- posting ---------------------------------------------------------------------------------------
def test_commentary_is_escaped_so_linkedin_keeps_all_of_it(client: LinkedInClient) -> None:
    text = "Hiring (remote) [EU] {now} @team #jobs https://sintra.ai/jobs_(2026)"
    urn = run(client, "publish_post", text=text)["post_urn"]
    stored = next(p for p in client.recent_posts(5) if p["id"] == urn)["commentary"]
    assert stored == little_text(text) and stored.endswith("#jobs https://sintra.ai/jobs_(2026)")
    assert little_text("a (b)") == "a \\(b\\)" and sim_li.ld.truncate_little("a (b)") == "a "


def test_article_is_a_link_card_post(client: LinkedInClient) -> None:
    result = run(client, "publish_article", url="https://sintra.ai/blog", title="Agents", text="Read this")
    post = next(p for p in client.recent_posts(5) if p["id"] == result["post_urn"])
    assert post["content"] == {"article": {"source": "https://sintra.ai/blog", "title": "Agents"}}
    assert result["url"].endswith(result["post_urn"])


def test_retry_finds_the_post_through_linkedins_duplicate_answer(client: LinkedInClient, sim: Any,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    steps = MemorySteps()
    first = run(client, "publish_post", steps, text="Only once")["post_urn"]
    lost = MemorySteps(values={"intent:post": True}, marker=steps.marker)  # the id was never recorded
    monkeypatch.setattr(LinkedInClient, "LOOKBACK", 0)  # and the read-back misses it
    again = run(client, "publish_post", lost, text="Only once")
    assert again["post_urn"] == first and again["resumed"] is True and post_calls(sim) == 2


def test_duplicate_of_someone_elses_post_is_rejected(client: LinkedInClient) -> None:
    run(client, "publish_post", text="Same words")
    with pytest.raises(ProviderRejected) as info:
        run(client, "publish_post", text="Same words")
    assert info.value.status == 422 and "duplicate of urn:li:share:" in info.value.message


def test_recent_posts_page_with_start_and_count(client: LinkedInClient, sim: Any,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    urns = [run(client, "publish_post", text=f"Post {n}")["post_urn"] for n in range(5)]
    monkeypatch.setattr(LinkedInClient, "PAGE_SIZE", 2)
    assert [p["id"] for p in client.recent_posts(10)] == urns[::-1]
    assert len(sim.calls("linkedin", "GET", path="/linkedin/rest/posts")) == 3


# -- rate limits -----------------------------------------------------------------------------------
def test_daily_limit_waits_until_midnight_utc(client: LinkedInClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sim_li, "DAILY_POSTS", 1)
    run(client, "publish_post", text="First of the day")
    with pytest.raises(RateLimited) as info:
        run(client, "publish_post", text="Second of the day")
    assert info.value.retry_after == pytest.approx(until_utc_midnight(), abs=5)


def test_retry_after_wins_over_midnight(client: LinkedInClient, sim: Any) -> None:
    sim.fault("linkedin", 429, retry_after=7)
    with pytest.raises(RateLimited) as info:
        run(client, "get_organization")
    assert info.value.retry_after == 7 and info.value.provider_code == "TOO_MANY_REQUESTS"


def test_until_utc_midnight() -> None:
    assert until_utc_midnight(datetime(2026, 3, 1, 23, 59, 30, tzinfo=UTC)) == 30
    assert until_utc_midnight(datetime(2026, 3, 1, 0, 0, tzinfo=UTC)) == 86400


# -- analytics and the page ------------------------------------------------------------------------
def test_post_analytics_sum_daily_buckets(client: LinkedInClient, simulator: Any) -> None:
    requests: list[httpx.Request] = []
    urn = run(client, "publish_post", text="Measure me")["post_urn"]
    end = datetime.now(UTC).date()
    timed = run(make_client(simulator.url, requests), "get_post_analytics", post_urns=[urn, "urn:li:ugcPost:77"],
                start_date=end - timedelta(days=2), end_date=end)
    query = requests[-1].url.query.decode()
    assert "timeIntervals=(timeRange:(start:" in query and "ugcPosts=List(urn%3Ali%3AugcPost%3A77)" in query
    posts = {p["post_urn"]: p for p in timed["posts"]}
    assert set(posts) == {urn, "urn:li:ugcPost:77"} and posts[urn]["impressions"] > 0
    assert 0 < posts[urn]["engagement"] < 1
    lifetime = run(client, "get_post_analytics", post_urns=[urn])
    assert lifetime["start_date"] is None and lifetime["posts"][0]["impressions"] > 0


def test_organization_statistics_by_day_and_month(client: LinkedInClient) -> None:
    end = datetime.now(UTC).date() - timedelta(days=1)
    daily = run(client, "get_organization_statistics", start_date=end - timedelta(days=6), end_date=end)
    assert [b["start"] for b in daily["buckets"]] == [(end - timedelta(days=6 - n)).isoformat() for n in range(7)]
    assert daily["totals"]["page_views"] == sum(b["page_views"] for b in daily["buckets"]) > 0
    assert daily["followers"] == 1842
    first = date(end.year, end.month, 1)
    monthly = run(client, "get_organization_statistics", start_date=first, end_date=end, granularity="MONTH")
    assert len(monthly["buckets"]) == 1 and monthly["buckets"][0]["start"] == first.isoformat()


def test_statistics_of_a_page_not_administered_is_an_auth_error(simulator: Any) -> None:
    client = make_client(simulator.url, organization_id="1035")
    with pytest.raises(AuthError) as info:
        run(client, "get_organization_statistics", start_date=date.today() - timedelta(days=3),
            end_date=date.today() - timedelta(days=1))
    assert info.value.status == 403 and info.value.provider_code == "ACCESS_DENIED"


def test_admin_sees_the_whole_page_others_see_public_fields(client: LinkedInClient) -> None:
    own = run(client, "get_organization")
    assert own["name"] == "Devtestco" and own["staff_count_range"] == "SIZE_11_TO_50"
    other = run(client, "get_company_insights", vanity_name="microsoft")
    assert other["name"] == "Microsoft" and other["website"] == "https://www.microsoft.com"
    assert other["staff_count_range"] is None and other["followers"] == 25_310_000


def test_company_insights_by_id_reads_errors_inside_the_batch_answer(client: LinkedInClient) -> None:
    assert run(client, "get_company_insights", organization_id="1337")["vanity_name"] == "linkedin"
    with pytest.raises(ProviderRejected) as info:
        run(client, "get_company_insights", organization_id="99990001")
    assert info.value.status == 404 and info.value.provider_code == "NOT_FOUND"
    with pytest.raises(ProviderRejected, match="no organization with vanity name"):
        run(client, "get_company_insights", vanity_name="missing-co")


# -- Buddy's partner-only actions and tokens ---------------------------------------------------------
@pytest.mark.parametrize("action", [a.name for a in SALES_SPEC.actions if a.restricted])
def test_partner_only_actions_are_refused_with_the_reason(client: LinkedInClient, sim: Any, action: str) -> None:
    params = {"send_message": {"recipient_urn": "urn:li:person:abc", "body": "Hi"},
              "send_connection_request": {"recipient_urn": "urn:li:person:abc"},
              "sales_navigator_profile_association": {"crm_record_id": "1", "member_urn": "urn:li:person:a"},
              "sales_navigator_crm_sync": {"crm_instance_id": "sf-1"}}.get(action, {})
    with pytest.raises(IntegrationUnavailable, match="Partner-only"):
        run(client, action, **params)
    assert not sim.calls("linkedin")


def test_refresh_keeps_linkedins_refresh_token_and_a_60_day_access_token(simulator: Any) -> None:
    client = make_client(simulator.url, access_token="", refresh_token="acme.rt-keep")
    run(client, "get_organization")
    assert client.credentials["refresh_token"] == "acme.rt-keep"
    assert float(client.credentials["expires_at"]) == pytest.approx(datetime.now(UTC).timestamp() + 5184000,
                                                                    abs=60)
    with pytest.raises(AuthError):
        run(make_client(simulator.url, access_token="", client_secret="bad-secret"), "get_organization")
