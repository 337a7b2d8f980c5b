"""Conformance case: Buddy / Salesforce."""

from __future__ import annotations

from typing import Any

from config.catalog.integrations.salesforce import SPEC
from simulator.providers._salesforce_seed import REPORT_IDS
from tests.providers.cases import ProviderCase
from workers.providers.base import MemorySteps
from workers.providers.salesforce import LIMIT_EXCEEDED_DELAY, SalesforceClient

CREDS = {"client_id": "3MVG9simulatedConsumerKey", "client_secret": "sf-consumer-secret",
         "refresh_token": "5Aep861simulatedRefreshToken", "access_token": "00D5g000004SIM!goodAccessToken",
         "instance_url": "https://acme.my.salesforce.com"}
ACCOUNTS = "SELECT Id, Name FROM Account ORDER BY Name"


def _lead(client: Any) -> str:
    fields = {"LastName": "Fixture", "Company": "Fx"}
    params = SPEC.action("create_record").params(sobject="Lead", fields=fields)
    return str(client.run("create_record", params, MemorySteps())["id"])


def _count_leads(client: Any, params: dict[str, Any]) -> int:
    soql = f"SELECT Id FROM Lead WHERE Company = '{params['fields']['Company']}'"
    result = client.run("query", SPEC.action("query").params(soql=soql, limit=100), MemorySteps())
    return int(result["total_size"])


def _has_rows(result: Any) -> None:
    assert result["rows"] and result["groupings"] and result["columns"][0]["name"] == "OPPORTUNITY_NAME"


def _five_accounts(result: Any) -> None:
    assert [r["Name"] for r in result["records"]][:2] == ["Acme Corp", "Globex"] and result["total_size"] == 5


def _open_only(result: Any) -> None:
    assert result["opportunities"] and not any(o["is_closed"] for o in result["opportunities"])


CASE = ProviderCase(
    spec=SPEC, client=SalesforceClient,
    good=CREDS, bad={**CREDS, "access_token": "bad-session", "refresh_token": "bad-refresh"},
    actions={
        "create_record": {"sobject": "Lead",
                          "fields": {"LastName": "Doe", "Company": "Acme", "Email": "d@a.io"}},
        "update_record": lambda c: {"sobject": "Lead", "record_id": _lead(c),
                                    "fields": {"Status": "Working"}},
        "upsert_record": {"sobject": "Contact", "external_id_field": "Sintra_Id__c", "external_id": "job-1",
                          "fields": {"LastName": "Doe", "Email": "doe@example.com"}},
        "query": {"soql": ACCOUNTS, "limit": 10},
        "list_opportunities": {"limit": 10},
        "pipeline_summary": {"group_by": "close_month"},
        "run_report": {"report_id": REPORT_IDS[0]},
    },
    probe=("query", {"soql": ACCOUNTS, "limit": 5}),
    create=("create_record", {"sobject": "Lead",
                              "fields": {"LastName": "Crash", "Company": "Crash test Inc"}}),
    count_created=_count_leads,
    checks={"query": _five_accounts, "list_opportunities": _open_only, "run_report": _has_rows},
    retry_after=LIMIT_EXCEEDED_DELAY,
)
