"""AhrefsClient against the simulator: keyword rows, select/order/limit, JSON errors, 429s and units."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from config.catalog.integrations.ahrefs import SPEC
from simulator.urls import BASES
from workers.credentials.base import Credentials
from workers.errors import AuthError, MalformedResponse, ProviderRejected, RateLimited
from workers.providers.ahrefs import AhrefsClient
from workers.providers.base import DEFAULT_RETRY_AFTER, CallRecord, MemorySteps

KEY = "ahrefs-0123456789abcdef0123456789abcdef"


def make_client(url: str, key: str = KEY, record: Any = None,
                transport: httpx.BaseTransport | None = None) -> AhrefsClient:
    http = httpx.Client(base_url=url + BASES["ahrefs"], timeout=10, transport=transport)
    creds = Credentials({"api_key": key}, secret_fields=SPEC.secret_fields)
    return AhrefsClient(http=http, credentials=creds, record=record)


@pytest.fixture
def client(simulator: Any) -> Iterator[AhrefsClient]:
    c = make_client(simulator.url)
    yield c
    c.http.close()


def run(client: AhrefsClient, action: str, **params: Any) -> Any:
    return client.run(action, SPEC.action(action).params(**params), MemorySteps())


def test_organic_keywords_always_carry_the_common_columns(client: AhrefsClient) -> None:
    result = run(client, "organic_keywords", target="acme.example", limit=1000,
                 select=["keyword", "keyword_difficulty"])
    rows = result["keywords"]
    assert result["count"] == len(rows) > 40 and result["units_cost"] >= 50
    assert set(rows[0]) == {"keyword", "position", "url", "volume", "traffic", "keyword_difficulty"}
    assert {type(r[k]) for r in rows for k in ("position", "volume", "traffic")} == {int}
    positions = {r["position"] for r in rows}
    assert min(positions) == 1 and max(positions) <= 50 and any(p > 10 for p in positions)
    assert [r["traffic"] for r in rows] == sorted((r["traffic"] for r in rows), reverse=True)
    assert run(client, "organic_keywords", target="acme.example", limit=1000,
               select=["keyword", "keyword_difficulty"])["keywords"] == rows  # deterministic


def test_limit_order_and_country_are_sent(simulator: Any) -> None:
    seen: list[httpx.Request] = []

    class Spy(httpx.HTTPTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            seen.append(request)
            return super().handle_request(request)

    client = make_client(simulator.url, transport=Spy())
    result = run(client, "organic_competitors", target="acme.example", country="uk", limit=3)
    assert result["country"] == "gb" and result["count"] == 3
    shares = [r["keywords_common"] for r in result["competitors"]]
    assert shares == sorted(shares, reverse=True)
    query = seen[-1].url.params
    assert query["country"] == "gb" and query["limit"] == "3" and query["order_by"] == "keywords_common:desc"
    assert query["date"] == datetime.now(UTC).date().isoformat()
    assert seen[-1].headers["authorization"] == f"Bearer {KEY}"


def test_backlinks_follow_select_and_order_by(client: AhrefsClient) -> None:
    result = run(client, "backlinks", target="https://www.acme.example/", limit=15,
                 select=["url_from", "anchor", "domain_rating_source"], order_by="domain_rating_source:desc")
    rows = result["backlinks"]
    assert len(rows) == 15 and set(rows[0]) == {"url_from", "anchor", "domain_rating_source"}
    assert [r["domain_rating_source"] for r in rows] == sorted((r["domain_rating_source"] for r in rows),
                                                                reverse=True)


def test_overview_sums_the_units_of_both_calls(client: AhrefsClient, sim: Any) -> None:
    result = run(client, "site_explorer_overview", target="acme.example", date="2026-08-01")
    assert result["organic"]["org_keywords"] > 0 and result["backlinks"]["live_refdomains"] > 0
    assert result["units_cost"] == 100 and result["date"] == "2026-08-01"
    assert len(sim.calls("ahrefs", "GET", contains="/site-explorer/")) == 2
    assert client.test_connection()["units_usage_api_key"] == 100


def test_json_error_text_is_kept_and_bad_params_are_rejected(client: AhrefsClient) -> None:
    with pytest.raises(ProviderRejected, match="Invalid column in select: nope") as err:
        run(client, "referring_domains", target="acme.example", select=["domain", "nope"])
    assert err.value.status == 400


def test_bad_key_is_an_auth_error_without_the_key(simulator: Any) -> None:
    calls: list[CallRecord] = []
    client = make_client(simulator.url, key="bad-secret-ahrefs-key", record=calls.append)
    with pytest.raises(AuthError, match="invalid API key") as err:
        run(client, "domain_rating", target="acme.example")
    assert "bad-secret" not in str(err.value) and err.value.status == 401
    assert calls[0].path == "/site-explorer/domain-rating" and calls[0].outcome == "auth"


@pytest.mark.parametrize(("retry_after", "expected"), [(None, DEFAULT_RETRY_AFTER), (7, 7.0)])
def test_429_waits_for_retry_after_or_the_default(client: AhrefsClient, sim: Any, retry_after: Any,
                                                  expected: float) -> None:
    sim.fault("ahrefs", 429, path=BASES["ahrefs"] + "/site-explorer", retry_after=retry_after)
    with pytest.raises(RateLimited) as err:
        run(client, "domain_rating", target="acme.example")
    assert err.value.retry_after == expected and "Too many requests" in str(err.value)


def test_rows_that_are_not_a_list_are_malformed(client: AhrefsClient, sim: Any) -> None:
    sim.fault("ahrefs", 200, path=BASES["ahrefs"] + "/site-explorer/refdomains", body='{"refdomains": {"a": 1}}',
              content_type="application/json")
    with pytest.raises(MalformedResponse, match="not a list"):
        run(client, "referring_domains", target="acme.example")
