"""FreshdeskClient against the simulator over real HTTP: what the shared conformance suite does not cover."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from config.catalog.integrations.freshdesk import SPEC
from simulator.urls import BASES
from tests.providers.cases.freshdesk import FOLDER
from workers.credentials.base import Credentials
from workers.errors import (
    AuthError,
    CredentialsUnavailable,
    IntegrationUnavailable,
    MalformedResponse,
    ProviderRejected,
    RateLimited,
)
from workers.providers._freshdesk_shapes import job_tag, next_page
from workers.providers.base import CallRecord, MemorySteps
from workers.providers.freshdesk import FreshdeskClient

KEY = "fdKey0123456789"
PREFIX = BASES["freshdesk"]


def make_client(url: str, key: str = KEY, record: Any = None) -> FreshdeskClient:
    http = httpx.Client(base_url=url + PREFIX, timeout=10)
    creds = Credentials({"domain": "acme", "api_key": key}, secret_fields=SPEC.secret_fields)
    return FreshdeskClient(http=http, credentials=creds, record=record)


@pytest.fixture
def client(simulator: Any) -> Iterator[FreshdeskClient]:
    c = make_client(simulator.url)
    yield c
    c.http.close()


def run(client: FreshdeskClient, action: str, steps: MemorySteps | None = None, **params: Any) -> Any:
    return client.run(action, SPEC.action(action).params(**params), steps or MemorySteps())


def new_ticket(client: FreshdeskClient, **extra: Any) -> dict[str, Any]:
    fields = {"subject": "Hello", "description": "<p>Hi</p>", "email": "ada@example.com"} | extra
    return run(client, "create_ticket", **fields)


# -- auth, domain, rate limits, errors ---------------------------------------------------------------
def test_basic_auth_uses_the_api_key_as_user_and_x_as_password(client: FreshdeskClient) -> None:
    header = client.auth_headers()["Authorization"]
    assert base64.b64decode(header.removeprefix("Basic ")).decode() == f"{KEY}:X"
    facts = client.test_connection()
    assert facts["agent_id"] and facts["email"] == "agent@example.com" and facts["domain"] == "acme"
    assert KEY not in repr(facts)


def test_bad_key_is_an_auth_error_with_freshdesks_code(simulator: Any) -> None:
    with pytest.raises(AuthError) as info:
        make_client(simulator.url, key="badKey").test_connection()
    assert info.value.status == 401 and info.value.provider_code == "invalid_credentials"
    assert "logged in" in info.value.message


@pytest.mark.parametrize("given", ["acme", "ACME.freshdesk.com", "https://acme.freshdesk.com/a/tickets"])
def test_base_url_takes_the_subdomain_in_any_spelling(given: str) -> None:
    creds = Credentials({"domain": given, "api_key": KEY}, secret_fields=SPEC.secret_fields)
    assert FreshdeskClient.resolve_base_url(SPEC.base_url, creds) == "https://acme.freshdesk.com/api/v2"


@pytest.mark.parametrize("given", ["", "evil.example.com", "a_b"])
def test_base_url_refuses_what_is_not_a_helpdesk_subdomain(given: str) -> None:
    creds = Credentials({"domain": given, "api_key": KEY}, secret_fields=SPEC.secret_fields)
    with pytest.raises(CredentialsUnavailable):
        FreshdeskClient.resolve_base_url(SPEC.base_url, creds)


def test_rate_limit_headers_are_read_into_every_call_record(simulator: Any) -> None:
    records: list[CallRecord] = []
    client = make_client(simulator.url, record=records.append)
    client.test_connection()
    run(client, "list_sla_policies")
    assert [r.rate_limit.limit for r in records if r.rate_limit] == [400, 400]
    assert records[1].rate_limit and records[1].rate_limit.remaining == 398
    assert all("?" not in r.path for r in records)


def test_throttle_answers_429_with_retry_after(client: FreshdeskClient, sim: Any) -> None:
    sim.fault("freshdesk", 429, retry_after=17)
    with pytest.raises(RateLimited) as info:
        run(client, "list_contacts")
    assert info.value.retry_after == 17.0 and "limit of requests" in info.value.message


def test_validation_error_names_the_field_and_code(client: FreshdeskClient) -> None:
    with pytest.raises(ProviderRejected) as info:
        new_ticket(client, type="Bogus")
    assert info.value.status == 400 and info.value.provider_code == "invalid_value"
    assert "type:" in info.value.message and "Validation failed" in info.value.message


def test_plan_gated_feature_is_unavailable_not_an_auth_error(client: FreshdeskClient, sim: Any) -> None:
    body = '{"code":"require_feature","message":"The SLA Management feature is not supported in your plan."}'
    sim.fault("freshdesk", 403, path="/sla_policies", body=body, content_type="application/json")
    with pytest.raises(IntegrationUnavailable) as info:
        run(client, "list_sla_policies")
    assert info.value.provider_code == "require_feature"


def test_redirect_to_a_login_page_is_rejected_with_a_hint(client: FreshdeskClient, sim: Any) -> None:
    sim.fault("freshdesk", 302, body="", headers={"Location": "https://acme.freshdesk.com/login"})
    with pytest.raises(ProviderRejected, match="helpdesk domain"):
        run(client, "list_tickets")


def test_a_list_answered_with_an_object_is_malformed(client: FreshdeskClient, sim: Any) -> None:
    sim.fault("freshdesk", 200, path="/contacts", body='{"oops": 1}', content_type="application/json")
    with pytest.raises(MalformedResponse):
        run(client, "list_contacts")


# -- tickets -----------------------------------------------------------------------------------------
def test_link_header_next_page_number_only() -> None:
    assert next_page('<https://acme.freshdesk.com/api/v2/tickets?page=3&per_page=2>; rel="next"') == 3
    assert next_page('<https://evil.example/x?page=2>; rel="prev"') is None
    assert next_page(None) is None


def test_list_tickets_follows_link_headers_up_to_the_limit(client: FreshdeskClient, sim: Any,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    made = [new_ticket(client, subject=f"T{i}")["id"] for i in range(4)]
    monkeypatch.setattr(FreshdeskClient, "PAGE_SIZE", 2)
    listed = run(client, "list_tickets", limit=6)
    assert [t["id"] for t in listed["tickets"]][:4] == made[::-1]  # newest first
    assert len(listed["tickets"]) == 6
    assert len(sim.calls("freshdesk", "GET", path=f"{PREFIX}/tickets")) == 3
    assert len(run(client, "list_tickets", limit=3)["tickets"]) == 3


def test_channel_filter_keeps_only_that_source_across_pages(client: FreshdeskClient,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    for channel in ("phone", "chat", "phone", "email"):
        new_ticket(client, channel=channel)
    monkeypatch.setattr(FreshdeskClient, "PAGE_SIZE", 2)
    phone = run(client, "list_tickets", channel="phone")["tickets"]
    assert len(phone) == 3 and {t["channel"] for t in phone} == {"phone"}
    assert {t["source"] for t in phone} == {3}
    chats = run(client, "list_tickets", channel="chat")["tickets"]
    assert {t["subject"] for t in chats} == {"Hello", "Billing question"}


def test_ticket_carries_the_job_tag_and_a_retry_reuses_it(client: FreshdeskClient, sim: Any) -> None:
    steps = MemorySteps()
    first = run(client, "create_ticket", steps, subject="Tagged", description="<p>x</p>",
                email="ada@example.com", tags=["vip"])
    assert first["tags"] == ["vip", job_tag(steps.marker, "ticket")]
    again = MemorySteps(values={"intent:ticket": True}, marker=steps.marker)  # the id was never recorded
    assert run(client, "create_ticket", again, subject="Tagged", description="<p>x</p>",
               email="ada@example.com")["id"] == first["id"]
    assert len(sim.calls("freshdesk", "POST", path=f"{PREFIX}/tickets")) == 1


def test_retry_for_a_new_requester_creates_when_nothing_was_created(client: FreshdeskClient,
                                                                    sim: Any) -> None:
    steps = MemorySteps(values={"intent:ticket": True})  # the first attempt died before its POST
    created = run(client, "create_ticket", steps, subject="New person", description="<p>x</p>",
                  email="newbie@example.com")
    assert created["requester_id"] and steps.values["ticket_id"] == created["id"]
    assert len(sim.calls("freshdesk", "POST", path=f"{PREFIX}/tickets")) == 1


def test_update_ticket_sends_only_the_changes(client: FreshdeskClient) -> None:
    ticket_id = new_ticket(client)["id"]
    updated = run(client, "update_ticket", ticket_id=ticket_id, status=4, tags=["done"])
    assert updated["status_name"] == "resolved" and updated["tags"] == ["done"]
    assert updated["changed"] == ["status", "tags"] and updated["priority"] == 1


def test_reply_is_not_sent_twice_on_retry(client: FreshdeskClient, sim: Any) -> None:
    ticket_id = new_ticket(client)["id"]
    first = run(client, "reply_to_ticket", ticket_id=ticket_id, body="<p>We are  on it.</p>",
                cc_emails=["boss@example.com"])
    assert first["changed"] is True
    retry = MemorySteps(values={"intent:reply": True})
    again = run(client, "reply_to_ticket", retry, ticket_id=ticket_id, body="<div>We are on it.</div>")
    assert again == {"ticket_id": ticket_id, "reply_id": first["reply_id"], "changed": False}
    assert len(sim.calls("freshdesk", "POST", contains="/reply")) == 1


# -- SLA ---------------------------------------------------------------------------------------------
def test_sla_policies_name_their_targets_by_priority(client: FreshdeskClient) -> None:
    policies = run(client, "list_sla_policies")["sla_policies"]
    assert [p["name"] for p in policies] == ["Default", "Enterprise"]
    assert policies[1]["targets"]["urgent"] == {"respond_within": 900, "resolve_within": 3600,
                                                "business_hours": False, "escalation_enabled": True}
    assert policies[1]["applicable_to"] == {"company_ids": [43000700001]}


def test_overdue_search_keeps_only_tickets_past_due_at_the_exact_time(client: FreshdeskClient) -> None:
    urgent = new_ticket(client, subject="Server down", priority=4)  # due in 4 hours
    due = datetime.fromisoformat(urgent["due_by"].replace("Z", "+00:00"))
    later = run(client, "search_overdue_tickets", as_of=due + timedelta(minutes=1))
    assert urgent["id"] in {t["id"] for t in later["tickets"]}
    before = run(client, "search_overdue_tickets", as_of=due - timedelta(minutes=1))
    assert urgent["id"] not in {t["id"] for t in before["tickets"]}
    assert {t["subject"] for t in before["tickets"]} >= {"Cannot log in", "Billing question"}
    assert all(t["status"] in (2, 3) for t in before["tickets"])  # resolved tickets are never overdue
    dues = [t["due_by"] for t in before["tickets"]]
    assert dues == sorted(dues)


def test_overdue_first_response_uses_fr_due_by_and_the_limit(client: FreshdeskClient, sim: Any) -> None:
    result = run(client, "search_overdue_tickets", due="first_response", limit=1)
    assert result["due"] == "fr_due_by" and result["count"] == 1
    assert result["tickets"][0]["overdue_seconds"] > 0
    assert result["search_total"] >= 2
    assert len(sim.calls("freshdesk", "GET", path=f"{PREFIX}/search/tickets")) == 1


def test_search_query_must_be_quoted_as_freshdesk_requires(client: FreshdeskClient) -> None:
    with pytest.raises(ProviderRejected, match="double quotes"):
        client.json("GET", "/search/tickets", params={"query": "status:2"})


# -- knowledge base and contacts ---------------------------------------------------------------------
def test_articles_created_listed_and_searched(client: FreshdeskClient) -> None:
    created = run(client, "create_solution_article", folder_id=FOLDER, title="Reset 2FA",
                  description="<p>Open settings.</p>", status="published", tags=["security"])
    assert created["status"] == "published" and created["description_text"] == "Open settings."
    listed = run(client, "list_solution_articles", folder_id=FOLDER)
    assert {a["title"] for a in listed["articles"]} == {"How to reset your password", "Billing FAQ",
                                                        "Reset 2FA"}
    found = run(client, "list_solution_articles", term="reset")
    assert {a["title"] for a in found["articles"]} == {"How to reset your password", "Reset 2FA"}


def test_article_retry_reuses_the_one_created_earlier(client: FreshdeskClient, sim: Any) -> None:
    first = run(client, "create_solution_article", folder_id=FOLDER, title="Once", description="<p>x</p>")
    again = run(client, "create_solution_article", MemorySteps(values={"intent:article": True}),
                folder_id=FOLDER, title="Once", description="<p>x</p>")
    assert again["id"] == first["id"] and len(sim.calls("freshdesk", "POST", contains="/articles")) == 1


def test_unknown_folder_is_rejected(client: FreshdeskClient) -> None:
    with pytest.raises(ProviderRejected) as info:
        run(client, "list_solution_articles", folder_id=999)
    assert info.value.status == 404


def test_contact_retry_finds_it_by_email_and_duplicates_are_rejected(client: FreshdeskClient,
                                                                     sim: Any) -> None:
    first = run(client, "create_contact", name="Grace", email="grace@example.com", mobile="+1555")
    again = run(client, "create_contact", MemorySteps(values={"intent:contact": True}), name="Grace",
                email="grace@example.com")
    assert again["id"] == first["id"]
    with pytest.raises(ProviderRejected) as info:
        run(client, "create_contact", name="Grace 2", email="grace@example.com")
    assert info.value.status == 409 and info.value.provider_code == "duplicate_value"
    assert len(sim.calls("freshdesk", "POST", path=f"{PREFIX}/contacts")) == 2


def test_list_contacts_filters(client: FreshdeskClient) -> None:
    run(client, "create_contact", name="Lin", phone="+4400")
    ada = run(client, "list_contacts", email="ada@example.com")["contacts"]
    assert [c["name"] for c in ada] == ["Ada Customer"]
    recent = run(client, "list_contacts", updated_since=datetime.now(UTC) - timedelta(minutes=5))
    assert {c["name"] for c in recent["contacts"]} == {"Ada Customer", "Lin"}
    assert run(client, "list_contacts", state="blocked")["count"] == 0
