"""GoogleSearchConsoleClient against the simulator over real HTTP: property access, paging, crawl issues,
sitemaps, Google quota errors and token refresh without rotation."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from config.catalog.integrations.google_search_console import SPEC
from tests.providers.cases.google_search_console import GOOD
from workers.credentials.base import Credentials
from workers.errors import AuthError, ProviderRejected, RateLimited
from workers.providers import _google
from workers.providers.base import MemorySteps
from workers.providers.google_search_console import GoogleSearchConsoleClient

PREFIX = "/google_search_console"
QUERY = PREFIX + "/webmasters/v3/sites/sc-domain:example.com/searchAnalytics/query"  # the call log is decoded


def make_client(url: str, **creds: str) -> GoogleSearchConsoleClient:
    http = httpx.Client(base_url=url + PREFIX, timeout=10)
    creds = Credentials({**GOOD, **creds}, secret_fields=SPEC.secret_fields)
    return GoogleSearchConsoleClient(http=http, token_url=url + PREFIX + "/token", credentials=creds)


@pytest.fixture
def client(simulator: Any) -> Iterator[GoogleSearchConsoleClient]:
    c = make_client(simulator.url)
    yield c
    c.http.close()


def run(client: GoogleSearchConsoleClient, action: str, steps: MemorySteps | None = None,
        **params: Any) -> Any:
    return client.run(action, SPEC.action(action).params(**params), steps or MemorySteps())


def quota_body(status: int, reason: str, message: str = "Rate Limit Exceeded") -> str:
    errors = [{"message": message, "domain": "usageLimits", "reason": reason}]
    return json.dumps({"error": {"code": status, "message": message, "status": "PERMISSION_DENIED",
                                 "errors": errors}})


def offline_client() -> GoogleSearchConsoleClient:
    """A client for mapping responses built in the test (no network)."""
    return GoogleSearchConsoleClient(http=httpx.Client(),
                                     credentials=Credentials(GOOD, secret_fields=SPEC.secret_fields))


# -- connection and property access ------------------------------------------------------------------
def test_connection_reports_the_permission_on_the_property(client: GoogleSearchConsoleClient) -> None:
    facts = client.test_connection()
    assert facts == {"site_url": "sc-domain:example.com", "permission_level": "siteOwner",
                     "can_submit_sitemaps": True, "properties": 3}
    assert GOOD["access_token"] not in repr(facts)


def test_connection_fails_for_a_property_the_account_cannot_see(simulator: Any) -> None:
    with pytest.raises(AuthError) as err:
        make_client(simulator.url, site_url="https://not-mine.example/").test_connection()
    assert "not-mine.example" in err.value.message


def test_url_prefix_property_is_percent_encoded_into_the_path(simulator: Any, sim: Any) -> None:
    c = make_client(simulator.url, site_url="https://www.example.com/")
    listed = run(c, "list_sitemaps")
    assert [s["path"] for s in listed["sitemaps"]] == ["https://www.example.com/sitemap.xml"]
    assert sim.calls("google_search_console", "GET", "/sites/https://www.example.com//sitemaps")  # decoded


# -- search analytics --------------------------------------------------------------------------------
def test_search_analytics_pages_with_start_row_up_to_the_limit(client: GoogleSearchConsoleClient,
                                                               sim: Any) -> None:
    client.PAGE_SIZE = 7  # type: ignore[misc]
    result = run(client, "query_search_analytics", start_date=date.today() - timedelta(days=10),
                 end_date=date.today() - timedelta(days=3), dimensions=["query", "device"], limit=20)
    assert result["row_count"] == 20 and len(result["rows"]) == 20
    assert len(sim.calls("google_search_console", "POST", path=QUERY)) == 3  # 7 + 7 + 6
    first = result["rows"][0]
    assert set(first["keys"]) == {"query", "device"} and first["clicks"] <= first["impressions"]
    clicks = [r["clicks"] for r in result["rows"]]
    assert clicks == sorted(clicks, reverse=True)  # pages follow each other without gaps or repeats


def test_search_analytics_stops_on_a_short_page(client: GoogleSearchConsoleClient, sim: Any) -> None:
    result = run(client, "query_search_analytics", start_date=date.today() - timedelta(days=9),
                 end_date=date.today() - timedelta(days=3), dimensions=["device"], limit=1000)
    assert [r["keys"]["device"] for r in result["rows"]] and len(result["rows"]) == 3
    assert len(sim.calls("google_search_console", "POST", path=QUERY)) == 1


def test_search_analytics_filters_and_page_aggregation(client: GoogleSearchConsoleClient) -> None:
    result = run(client, "query_search_analytics", start_date=date.today() - timedelta(days=9),
                 end_date=date.today() - timedelta(days=3), dimensions=["page"],
                 filters=[{"dimension": "page", "operator": "contains", "expression": "/blog/"}])
    assert result["aggregation"] == "byPage"
    assert result["rows"] and all("/blog/" in r["keys"]["page"] for r in result["rows"])


def test_search_analytics_refuses_reversed_dates_and_page_by_property() -> None:
    params = SPEC.action("query_search_analytics").params
    with pytest.raises(ValidationError):
        params(start_date=date(2026, 5, 2), end_date=date(2026, 5, 1))
    with pytest.raises(ValidationError):
        params(start_date=date(2026, 5, 1), end_date=date(2026, 5, 2), dimensions=["page"],
               aggregation_type="byProperty")


# -- URL inspection and crawl issues -------------------------------------------------------------------
def test_inspect_url_returns_index_status(client: GoogleSearchConsoleClient) -> None:
    ok = run(client, "inspect_url", url="https://example.com/pricing")
    assert ok["verdict"] == "PASS" and ok["coverage_state"] == "Submitted and indexed" and ok["issue"] is None
    gone = run(client, "inspect_url", url="https://example.com/missing")
    assert gone["verdict"] == "FAIL" and gone["issue"] == "fetch: NOT_FOUND"


def test_inspecting_a_url_outside_the_property_is_rejected(client: GoogleSearchConsoleClient) -> None:
    with pytest.raises(ProviderRejected) as err:
        run(client, "inspect_url", url="https://elsewhere.example/page")
    assert err.value.status == 400


def test_crawl_issues_combine_url_inspection_and_sitemap_errors(client: GoogleSearchConsoleClient) -> None:
    urls = ["https://example.com/", "https://example.com/noindex-tag", "https://example.com/private/x",
            "https://example.com/soft-page"]
    result = run(client, "get_crawl_issues", urls=urls)
    assert result["inspected"] == 4
    assert {r["url"]: r["issue"] for r in result["url_issues"]} == {
        "https://example.com/noindex-tag": "indexing: BLOCKED_BY_META_TAG",
        "https://example.com/private/x": "fetch: BLOCKED_ROBOTS_TXT",
        "https://example.com/soft-page": "fetch: SOFT_404"}
    paths = {s["path"]: s["errors"] for s in result["sitemap_issues"]}
    assert paths == {"https://example.com/sitemap_index.xml": 3, "https://example.com/sitemap-posts.xml": 3}


def test_crawl_issues_resume_without_inspecting_twice(client: GoogleSearchConsoleClient, sim: Any) -> None:
    urls = ["https://example.com/a", "https://example.com/b", "https://example.com/c"]
    sim.fault("google_search_console", 429, path="index:inspect", after=2)
    steps = MemorySteps()
    with pytest.raises(RateLimited):
        run(client, "get_crawl_issues", steps, urls=urls, include_sitemaps=False)
    result = run(client, "get_crawl_issues", steps, urls=urls, include_sitemaps=False)
    assert [r["url"] for r in result["urls"]] == urls
    inspected = [c for c in sim.calls("google_search_console", "POST", "index:inspect") if c["status"] == 200]
    assert len(inspected) == 3


# -- sitemaps ----------------------------------------------------------------------------------------
def test_submitted_sitemap_is_pending_then_listed(client: GoogleSearchConsoleClient) -> None:
    feed = "https://example.com/sitemap-new.xml"
    result = run(client, "submit_sitemap", feedpath=feed)
    assert result["path"] == feed and result["submitted"] and not result["resumed"]
    listed = run(client, "list_sitemaps")
    assert feed in [s["path"] for s in listed["sitemaps"]]


def test_resumed_submit_does_not_put_again(client: GoogleSearchConsoleClient, sim: Any) -> None:
    feed = "https://example.com/sitemap-once.xml"
    steps = MemorySteps()
    run(client, "submit_sitemap", steps, feedpath=feed)
    again = run(client, "submit_sitemap", steps, feedpath=feed)
    assert again["resumed"]
    assert len(sim.calls("google_search_console", "PUT")) == 1


def test_sitemap_index_children_and_int64_counts(client: GoogleSearchConsoleClient) -> None:
    children = run(client, "list_sitemaps", sitemap_index="https://example.com/sitemap_index.xml")
    posts = next(s for s in children["sitemaps"] if s["path"].endswith("sitemap-posts.xml"))
    assert posts["errors"] == 3 and isinstance(posts["contents"][0]["submitted"], int)


def test_restricted_user_cannot_submit_a_sitemap(simulator: Any) -> None:
    c = make_client(simulator.url, site_url="https://blog.example.com/")
    assert c.test_connection()["can_submit_sitemaps"] is False
    with pytest.raises(AuthError) as err:
        run(c, "submit_sitemap", feedpath="https://blog.example.com/sitemap.xml")
    assert err.value.status == 403 and err.value.provider_code == "forbidden"


# -- quota errors ------------------------------------------------------------------------------------
@pytest.mark.parametrize("reason", ["rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded"])
def test_403_quota_reasons_are_rate_limits(client: GoogleSearchConsoleClient, sim: Any, reason: str) -> None:
    sim.fault("google_search_console", 403, body=quota_body(403, reason), content_type="application/json")
    with pytest.raises(RateLimited) as err:
        run(client, "list_sitemaps")
    assert err.value.provider_code == reason and err.value.status == 403


def test_quota_errors_without_retry_after_back_off_exponentially_per_job(client: GoogleSearchConsoleClient,
                                                                       sim: Any) -> None:
    steps = MemorySteps()
    delays = []
    for _ in range(3):
        sim.fault("google_search_console", 429, path="/sitemaps")
        with pytest.raises(RateLimited) as err:
            run(client, "list_sitemaps", steps)
        delays.append(err.value.retry_after)
    assert delays == [_google.BACKOFF_BASE, 2 * _google.BACKOFF_BASE, 4 * _google.BACKOFF_BASE]
    assert run(client, "list_sitemaps", steps)["sitemaps"]


def test_daily_quota_waits_until_midnight_pacific() -> None:
    at = datetime(2026, 9, 1, 23, 0, tzinfo=_google.PACIFIC)
    assert _google.seconds_to_pacific_midnight(at) == 3600
    body = {"error": {"code": 429, "message": "Exhausted property tokens per day for this property.",
                      "status": "RESOURCE_EXHAUSTED"}}
    client = offline_client()
    error = client.error_for(httpx.Response(429, json=body))
    assert isinstance(error, RateLimited) and 60 <= error.retry_after <= 25 * 3600


def test_permission_denied_403_is_an_auth_error() -> None:
    body = {"error": {"code": 403, "message": "Request had insufficient authentication scopes.",
                      "status": "PERMISSION_DENIED", "errors": [{"reason": "insufficientPermissions"}]}}
    client = offline_client()
    error = client.error_for(httpx.Response(403, json=body))
    assert isinstance(error, AuthError) and error.provider_code == "insufficientPermissions"


# -- OAuth -------------------------------------------------------------------------------------------
def test_refresh_keeps_the_refresh_token_google_does_not_rotate(simulator: Any, sim: Any) -> None:
    c = make_client(simulator.url, access_token="", expires_at="")
    run(c, "list_sitemaps")
    assert c.credentials["refresh_token"] == GOOD["refresh_token"]
    assert c.credentials["access_token"].startswith("ya29.") and int(c.credentials["expires_at"]) > 0
    again = make_client(simulator.url, access_token="", expires_at="")
    run(again, "list_sitemaps")  # the same refresh token still works
    assert len(sim.calls("google_search_console", "POST", path=PREFIX + "/token")) == 2


def test_revoked_refresh_token_is_an_auth_error(simulator: Any) -> None:
    c = make_client(simulator.url, access_token="", refresh_token="bad-revoked")
    with pytest.raises(AuthError) as err:
        run(c, "list_sitemaps")
    assert "bad-revoked" not in err.value.message
