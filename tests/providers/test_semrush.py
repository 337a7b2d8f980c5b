"""SemrushClient against the simulator: text reports, ERROR lines, paging, Site Audit resumption, tracking."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from config.catalog.integrations.semrush import SPEC
from config.providers import definition
from workers.credentials.base import Credentials
from workers.errors import AuthError, MalformedResponse, ProviderRejected, ProviderUnavailable, RateLimited
from workers.providers._semrush_shapes import parse_report
from workers.providers.base import CallRecord, MemorySteps
from workers.providers.semrush import SemrushClient

KEY = "0123456789abcdef0123456789abcdef"
CREDS = Credentials({"api_key": KEY}, secret_fields=SPEC.secret_fields)


def make_client(url: str, key: str = KEY, record: Any = None) -> SemrushClient:
    http = httpx.Client(base_url=url + "/semrush", timeout=10)
    creds = Credentials({"api_key": key}, secret_fields=SPEC.secret_fields)
    return SemrushClient(http=http, credentials=creds, record=record)


@pytest.fixture
def client(simulator: Any) -> Iterator[SemrushClient]:
    c = make_client(simulator.url)
    yield c
    c.http.close()


@pytest.fixture(autouse=True)
def fast_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(SemrushClient, "POLL_INTERVAL", 0.0)


def run(client: SemrushClient, action: str, steps: MemorySteps | None = None, **params: Any) -> Any:
    return client.run(action, SPEC.action(action).params(**params), steps or MemorySteps())


def test_organic_keywords_are_typed_rows_with_positions_from_1_to_50(client: SemrushClient) -> None:
    result = run(client, "domain_organic_keywords", domain="https://www.acme.example/", limit=1000)
    rows = result["keywords"]
    assert result["count"] == len(rows) > 40
    assert {r["keyword"] for r in rows} >= {"acme", "acme pricing"}
    assert {type(r[k]) for r in rows for k in ("position", "volume", "traffic")} == {int}
    positions = {r["position"] for r in rows}
    assert min(positions) == 1 and max(positions) <= 50 and any(p > 10 for p in positions)
    assert all(r["url"].startswith("https://www.acme.example/") for r in rows)
    assert rows == sorted(rows, key=lambda r: -r["traffic_pct"])  # display_sort=tr_desc
    again = run(client, "domain_organic_keywords", domain="acme.example", limit=1000)["keywords"]
    assert again == rows  # deterministic per domain


def test_nothing_found_is_an_empty_result_not_an_error(client: SemrushClient) -> None:
    assert run(client, "domain_organic_keywords", domain="nothing.example")["keywords"] == []
    assert run(client, "related_keywords", phrase="nothing at all")["count"] == 0
    assert run(client, "keyword_overview", phrase="nothing")["found"] is False


def test_reports_page_with_display_limit_as_the_end_row(client: SemrushClient, sim: Any,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    whole = run(client, "related_keywords", phrase="coffee", limit=20)["keywords"]
    monkeypatch.setattr(SemrushClient, "PAGE_SIZE", 7)
    sim.reset()
    paged = run(client, "related_keywords", phrase="coffee", limit=20)["keywords"]
    assert paged == whole and len(paged) == 20
    assert len(sim.calls("semrush", "GET", path="/semrush/")) == 3


def test_wrong_key_is_an_auth_error_that_never_shows_the_key(simulator: Any) -> None:
    calls: list[CallRecord] = []
    client = make_client(simulator.url, key="bad-secret-key-value", record=calls.append)
    for action, params in (("keyword_overview", {"phrase": "seo"}), ("site_audit_status", {"project_id": 3})):
        with pytest.raises(AuthError) as err:
            run(client, action, **params)
        assert err.value.provider_code == "120" and "bad-secret" not in str(err.value)
    with pytest.raises(AuthError):
        client.test_connection()
    assert calls and all("key" not in c.path and "?" not in c.path for c in calls)


def test_used_up_units_are_rate_limited_for_an_hour(simulator: Any) -> None:
    client = make_client(simulator.url, key="nounits-0123456789")
    assert client.test_connection() == {"api_units": 0}
    with pytest.raises(RateLimited) as err:
        run(client, "competitors", domain="acme.example")
    assert err.value.retry_after == SemrushClient.QUOTA_RETRY and err.value.provider_code == "132"


def test_too_many_requests_without_retry_after_waits_the_default(client: SemrushClient, sim: Any) -> None:
    sim.fault("semrush", 429, path="/semrush/")
    with pytest.raises(RateLimited) as err:
        run(client, "keyword_overview", phrase="seo")
    assert err.value.retry_after == SemrushClient.RATE_RETRY


def test_unexpected_report_header_is_malformed(client: SemrushClient, sim: Any) -> None:
    sim.fault("semrush", 200, path="/semrush/", body="Domain;Rank\nacme.example;1\n", content_type="text/csv")
    with pytest.raises(MalformedResponse, match="unexpected header"):
        run(client, "domain_organic_keywords", domain="acme.example")


def test_escaped_values_may_hold_semicolons() -> None:
    text = 'Keyword;Search Volume\r\n"a;b";"1200"\r\n"c";""\r\n'
    assert parse_report(text, ["Ph", "Nq"], "test") == [{"keyword": "a;b", "volume": 1200},
                                                        {"keyword": "c", "volume": None}]


def test_balance_check_uses_the_www_host_in_production() -> None:
    seen: list[httpx.URL] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        return httpx.Response(200, text="1,000")

    http = httpx.Client(base_url=definition("semrush").base_url, transport=httpx.MockTransport(handler))
    client = SemrushClient(http=http, credentials=CREDS)
    assert client.test_connection() == {"api_units": 1000}
    assert seen[0].host == "www.semrush.com" and seen[0].path == "/users/countapiunits.html"
    assert seen[0].params["key"] == KEY


def test_uk_database_accepts_the_iso_code(client: SemrushClient) -> None:
    assert run(client, "keyword_overview", phrase="seo", database="gb")["database"] == "uk"
    assert run(client, "related_keywords", phrase="seo", database="mobile-us", limit=1)["count"] == 1
    with pytest.raises(ValidationError):
        SPEC.action("keyword_overview").params(phrase="seo", database="United States")


def test_site_audit_reports_progress_and_a_restarted_worker_resumes_polling(
        simulator: Any, sim: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    steps = MemorySteps()
    monkeypatch.setattr(SemrushClient, "POLL_TIMEOUT", 0.0)
    with pytest.raises(ProviderUnavailable, match="still RUNNING"):
        run(make_client(simulator.url), "site_audit_start", steps, project_id=42)
    launched = steps.get("snapshot_id")
    assert launched and any(step.startswith("site audit RUNNING") for step, _ in steps.seen)
    monkeypatch.setattr(SemrushClient, "POLL_TIMEOUT", 5.0)
    result = run(make_client(simulator.url), "site_audit_start", steps, project_id=42)
    assert result["snapshot_id"] == launched == result["launched_snapshot_id"]
    assert result["status"] == "FINISHED" and result["top_errors"][0]["title"]
    assert len(sim.calls("semrush", "POST", contains="/siteaudit/launch")) == 1
    assert steps.seen[-1] == ("site audit finished", 100.0)


def test_lost_snapshot_id_adopts_a_recently_finished_audit(client: SemrushClient, sim: Any) -> None:
    steps = MemorySteps()
    run(client, "site_audit_start", project_id=7)  # an audit that just finished
    steps.intent("launch")  # an earlier attempt launched, then died before recording the id
    result = run(client, "site_audit_start", steps, project_id=7)
    assert result["status"] == "FINISHED" and steps.get("adopted") is True
    assert len(sim.calls("semrush", "POST", contains="/siteaudit/launch")) == 1


def test_lost_snapshot_id_with_only_an_old_audit_launches_again(client: SemrushClient, sim: Any) -> None:
    steps = MemorySteps()
    steps.intent("launch")  # intent recorded, but the launch never reached Semrush
    result = run(client, "site_audit_start", steps, project_id=8)  # the seeded audit is 3 days old
    assert result["launched_snapshot_id"] == steps.get("snapshot_id") == result["snapshot_id"]
    assert len(sim.calls("semrush", "POST", contains="/siteaudit/launch")) == 1


def test_projects_api_error_codes_are_mapped() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        code = 512 if "/1/" in request.url.path else 132
        return httpx.Response(400, json={"code": code, "message": "Can't find project"})

    http = httpx.Client(base_url=definition("semrush").base_url, transport=httpx.MockTransport(handler))
    client = SemrushClient(http=http, credentials=CREDS)
    with pytest.raises(ProviderRejected) as err:
        run(client, "site_audit_status", project_id=1)
    assert err.value.provider_code == "512" and err.value.status == 400
    with pytest.raises(RateLimited):
        run(client, "site_audit_status", project_id=2)


def test_position_tracking_pages_through_the_campaign(client: SemrushClient, sim: Any,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(SemrushClient, "TRACKING_PAGE", 4)
    result = run(client, "position_tracking", campaign_id=6647718, url="*.acme.example/*", limit=10,
                 date_begin="2026-08-01", date_end="2026-08-08")
    rows = result["keywords"]
    assert result["campaign_id"] == "6647718" and len(rows) == 10 and result["total"] > 10
    assert all(isinstance(r["position"], int) and r["url"].startswith("https://www.acme.example")
               for r in rows)
    assert rows[0]["change"] == rows[0]["start_position"] - rows[0]["position"]
    assert len(sim.calls("semrush", "GET", contains="/tracking/")) == 3
    with pytest.raises(ValidationError):
        SPEC.action("position_tracking").params(campaign_id="abc", url="*.acme.example/*")
