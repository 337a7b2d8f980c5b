"""Conformance cases: Buddy / HubSpot CRM and Emmie / HubSpot Marketing (one client, one simulator)."""

from __future__ import annotations

from typing import Any

from config.catalog.integrations.hubspot import CRM_SPEC, MARKETING_SPEC
from tests.providers.cases import ProviderCase
from workers.providers.base import MemorySteps
from workers.providers.hubspot import HubSpotClient

CREDS = {"client_id": "5d3c9e1a-sim-client", "client_secret": "hubspot-client-secret",
         "refresh_token": "na1-simulated-refresh-token", "access_token": "CKSimGoodAccessToken",
         "portal_id": "2000001"}
BAD = {**CREDS, "access_token": "bad-token", "refresh_token": "bad-refresh"}


def _count_deals(client: Any, params: dict[str, Any]) -> int:
    listed = client.run("list_deals", CRM_SPEC.action("list_deals").params(limit=1000), MemorySteps())
    return sum(1 for d in listed["deals"] if d["properties"].get("dealname") == params["dealname"])


def _count_lists(client: Any, params: dict[str, Any]) -> int:
    query = MARKETING_SPEC.action("list_lists").params(query=params["name"])
    listed = client.run("list_lists", query, MemorySteps())
    return sum(1 for item in listed["lists"] if item["name"] == params["name"])


def _deal_has_associations(result: Any) -> None:
    assert result["properties"]["dealname"] == "Big deal" and result["resumed"] is False


def _missing_reported(result: Any) -> None:
    assert result["added"] == ["104"] and result["missing"] == ["999999"]


CRM_CASE = ProviderCase(
    spec=CRM_SPEC, client=HubSpotClient, good=CREDS, bad=BAD,
    actions={
        "create_deal": {"dealname": "Big deal", "dealstage": "appointmentscheduled", "amount": 5000,
                        "closedate": "2026-12-01T00:00:00Z", "contact_ids": ["101"], "company_ids": ["201"]},
        "update_deal": {"id": "301", "properties": {"dealstage": "closedwon"}},
        "list_deals": {"limit": 5},
        "create_contact": {"email": "new.person@example.com", "firstname": "New", "lastname": "Person"},
        "search_contacts": {"query": "contact1", "limit": 5},
        "update_contact": {"id": "101", "properties": {"lifecyclestage": "customer"}},
        "batch_upsert_contacts": {"contacts": [
            {"id": "batch@example.com", "properties": {"firstname": "B"}},
            {"id": "contact0@example.com", "properties": {"jobtitle": "CEO"}}]},
        "list_email_events": {"limit": 20, "event_type": "OPEN"},
        "list_email_engagements": {"contact_id": "101"},
        "enroll_in_sequence": {"sequence_id": "6001", "contact_id": "110", "user_id": "7001",
                               "sender_email": "owner1@sim.example"},
    },
    probe=("list_deals", {"limit": 5}),
    create=("create_deal", {"dealname": "Crash test deal", "dealstage": "qualifiedtobuy"}),
    count_created=_count_deals,
    checks={"create_deal": _deal_has_associations},
)

MARKETING_CASE = ProviderCase(
    spec=MARKETING_SPEC, client=HubSpotClient, good=CREDS, bad=BAD,
    actions={
        "list_marketing_emails": {"include_stats": True},
        "create_marketing_email": {"name": "Autumn", "subject": "Autumn sale", "from_name": "Acme",
                                   "reply_to": "hi@acme.example", "list_ids": ["1"]},
        "get_email_statistics": {"start_time": "2020-01-01T00:00:00Z", "end_time": "2031-01-01T00:00:00Z"},
        "list_lists": {},
        "create_list": {"name": "VIPs"},
        "add_to_list": {"list_id": "1", "record_ids": ["104", "999999"]},
        "list_workflows": {},
        "enroll_in_workflow": {"workflow_id": "1001", "email": "contact5@example.com"},
    },
    probe=("list_workflows", {"limit": 5}),
    create=("create_list", {"name": "Crash list"}),
    count_created=_count_lists,
    checks={"add_to_list": _missing_reported},
)

CASES = [CRM_CASE, MARKETING_CASE]
