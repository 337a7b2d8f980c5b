"""SalesforceClient against the simulator over real HTTP: SOQL paging, upserts, throttles, reports, OAuth."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from typing import Any

import httpx
import pytest

from config.catalog.integrations.salesforce import SPEC
from simulator.providers._salesforce_seed import REPORT_IDS
from simulator.urls import BASES, TOKENS
from tests.providers.cases.salesforce import CREDS
from workers.credentials.base import Credentials
from workers.errors import AuthError, IntegrationUnavailable, ProviderRejected, RateLimited
from workers.providers.base import CallRecord, MemorySteps
from workers.providers.salesforce import (
    CONCURRENT_LIMIT_DELAY,
    LIMIT_EXCEEDED_DELAY,
    SalesforceClient,
    soql_literal,
)

PREFIX = BASES["salesforce"]


def make_client(url: str, record: Any = None, **creds: str) -> SalesforceClient:
    http = httpx.Client(base_url=url + PREFIX, timeout=10)
    values = Credentials({**CREDS, **creds}, secret_fields=SPEC.secret_fields)
    return SalesforceClient(http=http, credentials=values, record=record,
                            token_url=url + TOKENS["salesforce"])


@pytest.fixture
def client(simulator: Any) -> Iterator[SalesforceClient]:
    c = make_client(simulator.url)
    yield c
    c.http.close()


def run(client: SalesforceClient, action: str, steps: MemorySteps | None = None, **params: Any) -> Any:
    return client.run(action, SPEC.action(action).params(**params), steps or MemorySteps())


def lead_count(client: SalesforceClient, company: str) -> int:
    soql = f"SELECT COUNT() FROM Lead WHERE Company = {soql_literal(company)}"
    return int(run(client, "query", soql=soql)["total_size"])


# -- connection, base URL, OAuth ---------------------------------------------------------------------
def test_connection_reports_the_daily_api_allocation(client: SalesforceClient) -> None:
    facts = client.test_connection()
    assert facts["api_version"] == "66.0" and facts["daily_api_requests_max"] == 15000
    assert 0 < facts["daily_api_requests_remaining"] < 15000


def test_base_url_comes_from_the_instance_url() -> None:
    creds = Credentials({**CREDS, "instance_url": "https://acme.my.salesforce.com/"},
                        secret_fields=SPEC.secret_fields)
    assert SalesforceClient.resolve_base_url(SPEC.base_url, creds) == \
        "https://acme.my.salesforce.com/services/data/v66.0"
    with pytest.raises(IntegrationUnavailable, match="instance_url"):
        SalesforceClient.resolve_base_url(SPEC.base_url, Credentials({}, secret_fields=SPEC.secret_fields))


def test_refresh_keeps_instance_url_rotates_the_refresh_token_and_clears_the_expiry(simulator: Any) -> None:
    client = make_client(simulator.url, access_token="stale", expires_at="1")
    run(client, "query", soql="SELECT Id FROM Account", limit=1)
    creds = client.credentials
    assert creds["access_token"] != "stale" and creds["refresh_token"] != CREDS["refresh_token"]
    assert creds["instance_url"] == simulator.url + "/salesforce" and creds["expires_at"] == ""
    reuse = make_client(simulator.url, access_token="stale", expires_at="1")  # the old refresh token again
    with pytest.raises(AuthError, match="refused the refresh token"):
        run(reuse, "query", soql="SELECT Id FROM Account", limit=1)


def test_invalid_session_is_refreshed_once_and_replayed(client: SalesforceClient, sim: Any) -> None:
    sim.fault("salesforce", 401, path=PREFIX + "/limits")
    assert client.test_connection()["daily_api_requests_max"] == 15000
    assert len(sim.calls("salesforce", "POST", path=TOKENS["salesforce"])) == 1


# -- errors and limits -------------------------------------------------------------------------------
def test_error_array_becomes_a_clear_rejection(client: SalesforceClient) -> None:
    with pytest.raises(ProviderRejected) as info:
        run(client, "query", soql="SELECT Id FROM Lead WHERE")
    assert info.value.provider_code == "MALFORMED_QUERY" and info.value.status == 400


def test_required_fields_are_named(client: SalesforceClient) -> None:
    with pytest.raises(ProviderRejected, match=r"REQUIRED_FIELD_MISSING.*fields: Company"):
        run(client, "create_record", sobject="Lead", fields={"LastName": "Solo"})


def test_request_limit_exceeded_is_a_throttle_not_an_auth_error(client: SalesforceClient, sim: Any) -> None:
    sim.fault("salesforce", 429)
    with pytest.raises(RateLimited) as info:
        client.test_connection()
    assert info.value.status == 403 and info.value.provider_code == "REQUEST_LIMIT_EXCEEDED"
    assert info.value.retry_after == LIMIT_EXCEEDED_DELAY


def test_concurrent_request_limit_backs_off_briefly(client: SalesforceClient, sim: Any) -> None:
    body = [{"message": "ConcurrentPerOrgLongTxn Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
    sim.fault("salesforce", 403, body=json.dumps(body), content_type="application/json")
    with pytest.raises(RateLimited) as info:
        client.test_connection()
    assert info.value.retry_after == CONCURRENT_LIMIT_DELAY


def test_other_403_is_an_auth_error(client: SalesforceClient, sim: Any) -> None:
    sim.fault("salesforce", 403)
    with pytest.raises(AuthError):
        client.test_connection()


def test_api_usage_header_becomes_the_rate_limit(simulator: Any) -> None:
    records: list[CallRecord] = []
    client = make_client(simulator.url, record=records.append)
    client.test_connection()
    run(client, "query", soql="SELECT Id FROM Account", limit=1)
    limits = [r.rate_limit for r in records]
    assert all(rl and rl.limit == 15000 for rl in limits)
    assert limits[0].remaining - limits[1].remaining == 1  # type: ignore[union-attr]
    assert all("?" not in r.path for r in records) and records[1].path == "/query"


# -- SOQL and records --------------------------------------------------------------------------------
def test_query_follows_next_records_url_up_to_the_limit(client: SalesforceClient, sim: Any,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(SalesforceClient, "PAGE_SIZE", 200)
    steps = MemorySteps()
    first = run(client, "query", steps, soql="SELECT Id, LastName FROM Lead ORDER BY LastName", limit=250)
    assert steps.seen == [("read 200 of 250 rows", 80.0)]
    assert first["total_size"] == 260 and first["returned"] == 250 and first["complete"] is False
    assert first["records"][0] == {"Id": first["records"][0]["Id"], "LastName": "Person 000"}
    assert len(sim.calls("salesforce", "GET", contains="/query/")) == 1
    everything = run(client, "query", soql="SELECT Id FROM Lead", limit=1000)
    assert everything["returned"] == 260 and everything["complete"] is True
    assert len(sim.calls("salesforce", "GET", contains="/query/")) == 2
    small = run(client, "query", soql="SELECT Id FROM Lead", limit=10)
    assert small["returned"] == 10 and len(sim.calls("salesforce", "GET", contains="/query/")) == 2


def test_upsert_by_external_id_creates_then_updates_the_same_record(client: SalesforceClient) -> None:
    args = {"sobject": "Contact", "external_id_field": "Sintra_Id__c", "external_id": "job 7/a"}
    first = run(client, "upsert_record", **args, fields={"LastName": "Doe"})
    again = run(client, "upsert_record", **args, fields={"LastName": "Doe", "Title": "CTO"})
    assert first["created"] is True and again["created"] is False and again["id"] == first["id"]
    soql = "SELECT Id, Title FROM Contact WHERE Sintra_Id__c = 'job 7/a'"
    rows = run(client, "query", soql=soql)["records"]
    assert rows == [{"Id": first["id"], "Title": "CTO"}]


def test_upsert_with_an_ambiguous_external_id_is_rejected(client: SalesforceClient, sim: Any) -> None:
    sim.fault("salesforce", 300, body=json.dumps(["/a", "/b"]), content_type="application/json")
    with pytest.raises(ProviderRejected) as info:
        run(client, "upsert_record", sobject="Contact", external_id_field="Ext__c", external_id="x",
            fields={"LastName": "Doe"})
    assert info.value.provider_code == "MULTIPLE_CHOICES"


def test_create_record_resumes_from_the_recorded_id(client: SalesforceClient, sim: Any) -> None:
    steps = MemorySteps()
    fields = {"LastName": "Once", "Company": "Once Ltd"}
    first = run(client, "create_record", steps, sobject="Lead", fields=fields)
    again = run(client, "create_record", steps, sobject="Lead", fields=fields)
    assert again["id"] == first["id"] and again["resumed"] is True
    assert len(sim.calls("salesforce", "POST", contains="/sobjects/")) == 1
    assert lead_count(client, "Once Ltd") == 1


def test_create_record_retry_finds_the_record_of_the_lost_attempt(client: SalesforceClient, sim: Any) -> None:
    fields = {"LastName": "O'Brien", "Company": "Lost & Found", "NumberOfEmployees": 12}
    created = run(client, "create_record", sobject="Lead", fields=fields)
    retry = MemorySteps(values={"intent:create_record": True})
    result = run(client, "create_record", retry, sobject="Lead", fields=fields)
    assert result["id"] == created["id"] and retry.get("record_id") == created["id"]
    assert lead_count(client, "Lost & Found") == 1


def test_create_record_retry_refuses_when_it_cannot_check(client: SalesforceClient) -> None:
    retry = MemorySteps(values={"intent:create_record": True})
    with pytest.raises(ProviderRejected, match="upsert_record"):
        run(client, "create_record", retry, sobject="Lead", fields={"Description": "x" * 300})


def test_update_record_changes_fields(client: SalesforceClient) -> None:
    lead = run(client, "create_record", sobject="Lead", fields={"LastName": "Up", "Company": "Up Inc"})["id"]
    updated = run(client, "update_record", sobject="Lead", record_id=lead, fields={"Status": "Working"})
    assert updated["id"] == lead
    rows = run(client, "query", soql=f"SELECT Status FROM Lead WHERE Id = '{lead}'")["records"]
    assert rows == [{"Status": "Working"}]


def test_soql_literals_are_escaped() -> None:
    assert soql_literal("O'Brien\\x") == "'O\\'Brien\\\\x'" and soql_literal(True) == "true"
    assert soql_literal(date(2026, 9, 1)) == "2026-09-01" and soql_literal(None) == "null"


# -- pipeline and reports ----------------------------------------------------------------------------
def test_list_opportunities_filters_by_stage_and_owner(client: SalesforceClient) -> None:
    everything = run(client, "list_opportunities", is_closed=None, limit=100)["opportunities"]
    assert len(everything) == 24 and any(o["is_closed"] for o in everything)
    owner = everything[0]["owner_id"]
    chosen = run(client, "list_opportunities", stage_names=["Prospecting", "Closed Won", "It's"],
                 owner_id=owner, is_closed=None)["opportunities"]
    expected = [o["id"] for o in everything
                if o["stage"] in ("Prospecting", "Closed Won") and o["owner_id"] == owner]
    assert [o["id"] for o in chosen] == expected and expected
    upcoming = run(client, "list_opportunities", close_date_from=date.today())["opportunities"]
    dates = [o["close_date"] for o in upcoming]
    assert dates == sorted(dates) and all(d >= date.today().isoformat() for d in dates)


def test_pipeline_summary_by_stage_adds_up(client: SalesforceClient) -> None:
    open_ = run(client, "list_opportunities", limit=100)["opportunities"]
    summary = run(client, "pipeline_summary")
    assert summary["total_count"] == len(open_) and summary["total_amount"] == sum(o["amount"] for o in open_)
    assert {g["key"] for g in summary["groups"]} == {o["stage"] for o in open_}
    amounts = [g["amount"] for g in summary["groups"]]
    assert amounts == sorted(amounts, reverse=True)
    with_closed = run(client, "pipeline_summary", group_by="forecast_category", include_closed=True)
    assert with_closed["total_count"] == 24 and "Closed" in {g["key"] for g in with_closed["groups"]}


def test_run_report_groups_rows_and_totals(client: SalesforceClient, sim: Any) -> None:
    report = run(client, "run_report", report_id=REPORT_IDS[0])
    assert report["name"] == "Open Pipeline by Stage" and report["format"] == "SUMMARY"
    assert "Closed Lost" not in {g["label"] for g in report["groupings"]}  # the saved filter
    assert report["row_count"] == sum(g["aggregates"][1] for g in report["groupings"])
    assert {"_group", "OPPORTUNITY_NAME", "AMOUNT"} <= set(report["rows"][0])
    assert sim.calls("salesforce", "GET", path=f"{PREFIX}/analytics/reports/{REPORT_IDS[0]}")


def test_run_report_with_filters_posts_the_metadata_for_this_run_only(client: SalesforceClient,
                                                                      sim: Any) -> None:
    stages = {"column": "STAGE_NAME", "operator": "equals", "value": "Prospecting,Closed Lost"}
    filtered = run(client, "run_report", report_id=REPORT_IDS[0], include_details=False, filters=[stages])
    # the saved filter (forecast category is not Omitted) still applies: Closed Lost stays out
    assert {g["label"] for g in filtered["groupings"]} == {"Prospecting"} and filtered["rows"] == []
    lost = run(client, "run_report", report_id=REPORT_IDS[0],
               filters=[{"column": "FORECAST_CATEGORY", "operator": "equals", "value": "Omitted"}])
    assert {g["label"] for g in lost["groupings"]} == {"Closed Lost"}  # a filter on its column replaces it
    assert len(sim.calls("salesforce", "POST", contains="/analytics/reports/")) == 2
    saved = run(client, "run_report", report_id=REPORT_IDS[0])
    assert len(saved["groupings"]) > 2
    with pytest.raises(ProviderRejected, match="isn't valid"):
        run(client, "run_report", report_id=REPORT_IDS[1],
            filters=[{"column": "AMOUNT", "operator": "equals", "value": "1"}])


def test_tabular_report_rows(client: SalesforceClient) -> None:
    report = run(client, "run_report", report_id=REPORT_IDS[1][:15])
    assert report["format"] == "TABULAR" and report["groupings"] == []
    assert report["row_count"] == report["aggregates"][0]
    assert report["rows"][0]["LEAD_STATUS"] != "Closed - Converted"
