"""HubSpotClient against the simulator over real HTTP: one client for Buddy's CRM and Emmie's marketing
actions; error and rate-limit shapes, paging, duplicate protection, OAuth rotation, the restricted action."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from config.catalog.integrations.hubspot import CRM_SPEC, MARKETING_SPEC
from simulator.urls import TOKENS
from tests.providers.cases.hubspot import CREDS
from workers.credentials.base import Credentials
from workers.errors import AuthError, IntegrationUnavailable, ProviderRejected, RateLimited
from workers.providers import client_class
from workers.providers._hubspot_base import SECONDLY_WINDOW
from workers.providers.base import CallRecord, MemorySteps
from workers.providers.hubspot import HubSpotClient

TOKEN_PATH = TOKENS["hubspot"]

SPECS = {a.name: spec for spec in (CRM_SPEC, MARKETING_SPEC) for a in spec.actions}


def make_client(url: str, record: Any = None, **creds: str) -> HubSpotClient:
    http = httpx.Client(base_url=url + "/hubspot", timeout=10)
    values = Credentials({**CREDS, **creds}, secret_fields=CRM_SPEC.secret_fields)
    return HubSpotClient(http=http, credentials=values, record=record, token_url=url + TOKEN_PATH)


@pytest.fixture
def client(simulator: Any) -> Iterator[HubSpotClient]:
    c = make_client(simulator.url)
    yield c
    c.http.close()


def run(client: HubSpotClient, action: str, steps: MemorySteps | None = None, **params: Any) -> Any:
    spec = SPECS[action]
    return client.run(action, spec.action(action).params(**params), steps or MemorySteps())


def deal_names(client: HubSpotClient) -> list[str]:
    return [d["properties"]["dealname"] for d in run(client, "list_deals", limit=1000)["deals"]]


# -- one client, two catalog entries -----------------------------------------------------------------
def test_one_client_serves_both_entries_and_every_available_action() -> None:
    assert client_class("hubspot") is HubSpotClient
    assert CRM_SPEC.provider == MARKETING_SPEC.provider == "hubspot"
    for spec in (CRM_SPEC, MARKETING_SPEC):
        assert spec.implemented
        for action in spec.actions:
            assert hasattr(HubSpotClient, f"action_{action.name}") == (action.restricted is None), action.name


def test_single_send_stays_restricted_with_its_reason(client: HubSpotClient, sim: Any) -> None:
    action = MARKETING_SPEC.action("send_single_email")
    assert action is not None and "Marketing Hub Enterprise" in (action.restricted or "")
    params = action.params(email_id=1, to="a@example.com", send_id="job-1")
    with pytest.raises(IntegrationUnavailable):
        client.run("send_single_email", params, MemorySteps())
    assert sim.calls("hubspot") == []


# -- connection, auth, OAuth -------------------------------------------------------------------------
def test_connection_reports_the_portal(client: HubSpotClient, simulator: Any) -> None:
    facts = client.test_connection()
    assert facts["portal_id"] > 20_000_000 and facts["currency"] == "USD"
    with pytest.raises(AuthError) as info:
        make_client(simulator.url, access_token="bad-token", refresh_token="").test_connection()
    assert info.value.provider_code == "INVALID_AUTHENTICATION"


def test_refresh_rotates_the_refresh_token_and_sets_the_expiry(simulator: Any, sim: Any) -> None:
    client = make_client(simulator.url, access_token="stale", expires_at="1")
    run(client, "list_workflows")
    creds = client.credentials
    assert creds["access_token"] != "stale" and creds["refresh_token"] != CREDS["refresh_token"]
    assert 1700 < int(creds["expires_at"]) - time.time() <= 1800
    run(client, "list_workflows")  # still fresh: no second refresh
    assert len(sim.calls("hubspot", "POST", path=TOKEN_PATH)) == 1
    reuse = make_client(simulator.url, access_token="stale", expires_at="1")  # the used refresh token
    with pytest.raises(AuthError, match="refused the refresh token"):
        run(reuse, "list_workflows")


# -- errors and rate limits --------------------------------------------------------------------------
def test_error_body_gives_category_and_correlation_id(client: HubSpotClient) -> None:
    with pytest.raises(ProviderRejected) as info:
        run(client, "create_deal", dealname="X", dealstage="nonsense")
    assert info.value.provider_code == "VALIDATION_ERROR" and "correlationId" in info.value.message
    assert "was not one of the allowed options" in info.value.message


def test_rate_limit_headers_are_read_on_every_call(simulator: Any) -> None:
    records: list[CallRecord] = []
    client = make_client(simulator.url, record=records.append)
    run(client, "list_deals", limit=3)
    run(client, "list_deals", limit=3)
    first, second = (r.rate_limit for r in records)
    assert first and second and first.limit == second.limit == 190
    assert first.remaining - second.remaining == 1  # type: ignore[operator]


def test_429_waits_for_retry_after(client: HubSpotClient, sim: Any) -> None:
    sim.fault("hubspot", 429)
    with pytest.raises(RateLimited) as info:
        client.test_connection()
    assert info.value.retry_after == 10.0 and info.value.provider_code == "RATE_LIMIT"


def test_daily_limit_waits_until_midnight(client: HubSpotClient, sim: Any) -> None:
    body = {"status": "error", "message": "You have reached your daily limit.", "errorType": "RATE_LIMIT",
            "correlationId": "c0", "policyName": "DAILY"}
    sim.fault("hubspot", 429, body=json.dumps(body), content_type="application/json")
    with pytest.raises(RateLimited) as info:
        client.test_connection()
    assert 60 <= info.value.retry_after <= 86_400


def test_exhausted_window_without_retry_after_waits_for_the_interval(client: HubSpotClient) -> None:
    headers = {"X-HubSpot-RateLimit-Remaining": "0", "X-HubSpot-RateLimit-Max": "110",
               "X-HubSpot-RateLimit-Interval-Milliseconds": "10000"}
    rl = client.rate_limit(httpx.Response(200, headers=headers))
    assert rl is not None and rl.limit == 110 and rl.reset_after == 10.0
    throttled = client.error_for(httpx.Response(429, json={"status": "error", "message": "slow down"}))
    assert isinstance(throttled, RateLimited) and throttled.retry_after == SECONDLY_WINDOW


# -- deals -------------------------------------------------------------------------------------------
def test_create_deal_with_associations(client: HubSpotClient) -> None:
    deal = run(client, "create_deal", dealname="Assoc", dealstage="contractsent", amount=1200.5,
               contact_ids=["105"], company_ids=["202"], owner_id="7002", properties={"description": "x"})
    assert deal["properties"]["amount"] == "1200.5" and deal["properties"]["hubspot_owner_id"] == "7002"
    found = client.json("POST", "/crm/v3/objects/deals/search", json={"filterGroups": [{"filters": [
        {"propertyName": "associations.contact", "operator": "EQ", "value": "105"}]}]})
    assert deal["id"] in [d["id"] for d in found["results"]]


def test_create_deal_is_not_repeated_on_retry(client: HubSpotClient, sim: Any) -> None:
    steps = MemorySteps()
    first = run(client, "create_deal", steps, dealname="Once", dealstage="qualifiedtobuy")
    again = run(client, "create_deal", steps, dealname="Once", dealstage="qualifiedtobuy")
    assert again["id"] == first["id"] and again["resumed"] is True
    lost = MemorySteps(values={"intent:create_deal": True})  # created, but the id was never recorded
    found = run(client, "create_deal", lost, dealname="Once", dealstage="qualifiedtobuy")
    assert found["id"] == first["id"] and deal_names(client).count("Once") == 1
    assert len(sim.calls("hubspot", "POST", path="/hubspot/crm/v3/objects/deals")) == 1


def test_list_deals_pages_with_after_and_searches_when_filtered(client: HubSpotClient, sim: Any,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(HubSpotClient, "PAGE_SIZE", 5)
    deals = run(client, "list_deals", limit=8)["deals"]
    assert [d["id"] for d in deals] == [str(301 + i) for i in range(8)]
    assert len(sim.calls("hubspot", "GET", path="/hubspot/crm/v3/objects/deals")) == 2
    won = run(client, "list_deals", dealstage="closedwon", properties=["dealname", "dealstage"])
    assert won["total"] == len(won["deals"]) > 0
    assert {d["properties"]["dealstage"] for d in won["deals"]} == {"closedwon"}
    assert sim.calls("hubspot", "POST", path="/hubspot/crm/v3/objects/deals/search")


def test_update_deal_moves_the_stage(client: HubSpotClient) -> None:
    moved = run(client, "update_deal", id="302", properties={"dealstage": "closedlost"})
    assert moved["properties"]["dealstage"] == "closedlost"
    with pytest.raises(ProviderRejected) as info:
        run(client, "update_deal", id="999999", properties={"dealstage": "closedlost"})
    assert info.value.status == 404 and info.value.provider_code == "OBJECT_NOT_FOUND"


# -- contacts ----------------------------------------------------------------------------------------
def test_create_contact_twice_returns_the_existing_contact(client: HubSpotClient) -> None:
    first = run(client, "create_contact", email="Dup@Example.com", firstname="D")
    again = run(client, "create_contact", email="dup@example.com", firstname="D")
    assert first["created"] is True and again["created"] is False and again["id"] == first["id"]
    found = run(client, "search_contacts", filters=[{"property_name": "email", "operator": "EQ",
                                                     "value": "dup@example.com"}])
    assert found["total"] == 1


def test_search_contacts_pages_to_the_limit(client: HubSpotClient, sim: Any,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(HubSpotClient, "SEARCH_PAGE", 10)
    found = run(client, "search_contacts", query="example.com", limit=25)
    assert found["total"] == 30 and len(found["contacts"]) == 25
    assert len(sim.calls("hubspot", "POST", path="/hubspot/crm/v3/objects/contacts/search")) == 3
    leads = run(client, "search_contacts", filters=[{"property_name": "lifecyclestage", "operator": "IN",
                                                     "values": ["lead", "customer"]}], limit=100)
    assert leads["total"] == 20 and all(c["properties"]["lifecyclestage"] in ("lead", "customer")
                                        for c in leads["contacts"])


def test_batch_upsert_by_email_is_safe_to_repeat(client: HubSpotClient) -> None:
    contacts = [{"id": "up1@example.com", "properties": {"firstname": "U"}},
                {"id": "contact3@example.com", "properties": {"jobtitle": "CFO"}}]
    first = run(client, "batch_upsert_contacts", contacts=contacts)
    again = run(client, "batch_upsert_contacts", contacts=contacts)
    assert (first["created"], first["updated"]) == (1, 1) and (again["created"], again["updated"]) == (0, 2)
    assert {r["id"] for r in first["results"]} == {r["id"] for r in again["results"]}
    assert run(client, "search_contacts", query="up1@example.com")["total"] == 1


# -- e-mail activity and sequences -------------------------------------------------------------------
def test_email_events_follow_the_offset(client: HubSpotClient, sim: Any,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(HubSpotClient, "EVENTS_PAGE", 25)
    events = run(client, "list_email_events", limit=1000)["events"]
    assert len(events) == 60 and len({e["id"] for e in events}) == 60 and events[0]["created"].endswith("Z")
    assert len(sim.calls("hubspot", "GET", path="/hubspot/email/public/v1/events")) == 3
    clicks = run(client, "list_email_events", event_type="CLICK", campaign_id=9001)["events"]
    assert clicks and all(e["type"] == "CLICK" and e["email_campaign_id"] == 9001 for e in clicks)
    assert all(e["url"] for e in clicks)


def test_email_engagements_by_deal_and_time(client: HubSpotClient) -> None:
    by_deal = run(client, "list_email_engagements", deal_id="301")["emails"]
    assert by_deal and all(e["properties"]["hs_email_subject"] for e in by_deal)
    times = [e["properties"]["hs_timestamp"] for e in by_deal]
    assert times == sorted(times, reverse=True)
    recent = run(client, "list_email_engagements", since=times[0])["emails"]
    assert [e["id"] for e in recent] == [by_deal[0]["id"]]


def test_enroll_in_sequence_once(client: HubSpotClient, sim: Any) -> None:
    args = {"sequence_id": "6002", "contact_id": "112", "user_id": "7001",
            "sender_email": "owner1@sim.example"}
    steps = MemorySteps()
    first = run(client, "enroll_in_sequence", steps, **args)
    assert run(client, "enroll_in_sequence", steps, **args)["id"] == first["id"]
    lost = MemorySteps(values={"intent:enroll_in_sequence": True})
    assert run(client, "enroll_in_sequence", lost, **args)["id"] == first["id"]
    assert len(sim.calls("hubspot", "POST", contains="/sequences/enrollments")) == 1
    with pytest.raises(ProviderRejected, match="already enrolled"):
        run(client, "enroll_in_sequence", **args)  # a new job: HubSpot refuses a second active enrollment


# -- marketing ---------------------------------------------------------------------------------------
def test_create_marketing_email_targets_ils_lists_and_is_not_repeated(client: HubSpotClient,
                                                                      sim: Any) -> None:
    args = {"name": "Launch", "subject": "It is here", "list_ids": ["1"],
            "template_path": "@hubspot/email/dnd.html"}
    first = run(client, "create_marketing_email", **args)
    assert first["state"] == "DRAFT" and first["list_ids"] == ["1"] and first["resumed"] is False
    lost = MemorySteps(values={"intent:create_marketing_email": True})
    assert run(client, "create_marketing_email", lost, **args)["id"] == first["id"]
    assert len(sim.calls("hubspot", "POST", path="/hubspot/marketing/v3/emails")) == 1
    drafts = [e for e in run(client, "list_marketing_emails")["emails"] if e["name"] == "Launch"]
    assert len(drafts) == 1 and "stats" not in drafts[0]


def test_email_statistics_aggregate_the_chosen_emails(client: HubSpotClient) -> None:
    window = {"start_time": "2020-01-01T00:00:00Z", "end_time": "2031-01-01T00:00:00Z"}
    everything = run(client, "get_email_statistics", **window)
    one = run(client, "get_email_statistics", email_ids=[5001], **window)
    assert one["email_ids"] == ["5001"] and one["counters"]["sent"] == 1500
    assert everything["counters"]["sent"] == 2500 and 0 < everything["ratios"]["openratio"] < 100
    empty = run(client, "get_email_statistics", start_time="2020-01-01T00:00:00Z",
                end_time="2020-02-01T00:00:00Z")
    assert empty["email_ids"] == [] and empty["counters"] == {}


def test_lists_are_filtered_by_object_type(client: HubSpotClient) -> None:
    contacts = {item["name"] for item in run(client, "list_lists")["lists"]}
    companies = run(client, "list_lists", object_type_id="0-2")["lists"]
    assert contacts == {"Newsletter subscribers", "Customers"}
    assert [c["name"] for c in companies] == ["Target accounts"] and companies[0]["size"] == 1


def test_create_list_is_found_by_name_on_retry(client: HubSpotClient, sim: Any) -> None:
    first = run(client, "create_list", name="Webinar leads")
    lost = MemorySteps(values={"intent:create_list": True})
    assert run(client, "create_list", lost, name="Webinar leads")["id"] == first["id"]
    assert len(sim.calls("hubspot", "POST", path="/hubspot/crm/v3/lists")) == 1
    with pytest.raises(ProviderRejected, match="already exists"):
        run(client, "create_list", name="Webinar leads")  # a new job: the name is taken


def test_adding_to_a_list_twice_is_harmless(client: HubSpotClient) -> None:
    first = run(client, "add_to_list", list_id="1", record_ids=["110", "111"])
    again = run(client, "add_to_list", list_id="1", record_ids=["110", "111"])
    assert first["added"] == ["110", "111"] and again["added"] == [] and again["already_members"] == 2
    with pytest.raises(ProviderRejected, match="MANUAL or SNAPSHOT"):
        run(client, "add_to_list", list_id="2", record_ids=["110"])


def test_workflows_page_and_enrollment_is_not_repeated(client: HubSpotClient, sim: Any,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(HubSpotClient, "PAGE_SIZE", 2)
    flows = run(client, "list_workflows")["workflows"]
    assert [f["name"] for f in flows] == ["Welcome series", "Lead nurturing", "Deal follow-up"]
    run(client, "enroll_in_workflow", workflow_id="1002", email="contact7@example.com")
    lost = MemorySteps(values={"intent:enroll_in_workflow": True})
    again = run(client, "enroll_in_workflow", lost, workflow_id="1002", email="contact7@example.com")
    assert again["resumed"] is True
    assert len(sim.calls("hubspot", "POST", contains="/automation/v2/workflows/")) == 1
    with pytest.raises(ProviderRejected) as info:
        run(client, "enroll_in_workflow", workflow_id="1002", email="nobody@example.com")
    assert info.value.status == 404
