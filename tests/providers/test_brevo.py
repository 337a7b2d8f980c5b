"""BrevoClient against the simulator over real HTTP: idempotent sends, campaigns, events, contacts, errors."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from config.catalog.integrations.brevo import SPEC
from simulator.urls import BASES
from workers.credentials.base import Credentials
from workers.errors import AuthError, IntegrationUnavailable, InvalidPayload, ProviderRejected, RateLimited
from workers.providers.base import CallRecord, MemorySteps
from workers.providers.brevo import BrevoClient

KEY = "xkeysib-test0123456789"
SENDER = {"email": "news@acme.example", "name": "Acme"}
MAIL = {"to": [{"email": "ada@example.com"}], "sender": SENDER, "subject": "Receipt",
        "html_content": "<p>x</p>"}
SMTP = BASES["brevo"] + "/smtp/email"


class Crash(Exception):
    """The worker died right after the provider created something."""


class CrashOn(MemorySteps):
    """Steps that crash when recording ``key`` (intents are still recorded)."""

    def __init__(self, key: str) -> None:
        super().__init__()
        self.crash_key = key

    def put(self, key: str, value: Any) -> None:
        if key == self.crash_key:
            raise Crash(key)
        super().put(key, value)


def make_client(url: str, key: str = KEY, record: Any = None) -> BrevoClient:
    http = httpx.Client(base_url=url + BASES["brevo"], timeout=10)
    return BrevoClient(http=http, credentials=Credentials({"api_key": key}, secret_fields=SPEC.secret_fields),
                       record=record)


@pytest.fixture
def client(simulator: Any) -> Iterator[BrevoClient]:
    c = make_client(simulator.url)
    yield c
    c.http.close()


def run(client: BrevoClient, action: str, steps: MemorySteps | None = None, **params: Any) -> Any:
    return client.run(action, SPEC.action(action).params(**params), steps or MemorySteps())


def retry_of(steps: MemorySteps) -> MemorySteps:
    """The same job on its next attempt: what was durably recorded, and the same marker."""
    return MemorySteps(values=dict(steps.values), marker=steps.marker)


def log_of(client: BrevoClient, email: str = "ada@example.com") -> list[dict[str, Any]]:
    return client.json("GET", "/smtp/emails", params={"email": email})["transactionalEmails"]


# -- connection --------------------------------------------------------------------------------------
def test_connection_reports_account_and_plan(client: BrevoClient) -> None:
    facts = client.test_connection()
    assert facts["company_name"] == "Acme" and facts["plan"][0]["credits_type"] == "sendLimit"
    assert KEY not in repr(facts)


def test_bad_key_is_an_auth_error(simulator: Any) -> None:
    with pytest.raises(AuthError) as info:
        make_client(simulator.url, key="bad-key-0123").test_connection()
    assert info.value.status == 401 and info.value.provider_code == "unauthorized"
    assert "Key not found" in info.value.message and "bad-key" not in info.value.message


# -- transactional e-mail ----------------------------------------------------------------------------
def test_transactional_email_carries_a_uuid_idempotency_key_from_the_job(client: BrevoClient,
                                                                          sim: Any) -> None:
    steps = MemorySteps()
    first = run(client, "send_transactional_email", steps, **MAIL)
    assert first["message_id"].startswith("<") and uuid.UUID(first["idempotency_key"])
    same_job_elsewhere = run(client, "send_transactional_email", MemorySteps(marker=steps.marker), **MAIL)
    assert same_job_elsewhere["idempotency_key"] == first["idempotency_key"]
    assert same_job_elsewhere["deduplicated"] is True  # Brevo answered duplicate_parameter
    assert [c["status"] for c in sim.calls("brevo", "POST", path=SMTP)] == [201, 400]
    assert len(log_of(client)) == 1
    assert run(client, "send_transactional_email", steps, **MAIL)["message_id"] == first["message_id"]
    assert len(sim.calls("brevo", "POST", path=SMTP)) == 2


def test_given_idempotency_key_is_used_or_turned_into_a_uuid(client: BrevoClient) -> None:
    given = str(uuid.uuid4())
    assert run(client, "send_transactional_email", idempotency_key=given, **MAIL)["idempotency_key"] == given
    derived = run(client, "send_transactional_email", idempotency_key="order-42-receipt", **MAIL)
    assert uuid.UUID(derived["idempotency_key"]) and derived["idempotency_key"] != given


def test_crash_after_send_is_found_by_its_tag_not_sent_again(client: BrevoClient, sim: Any) -> None:
    steps = CrashOn("transactional")
    with pytest.raises(Crash):
        run(client, "send_transactional_email", steps, tags=["receipts"], **MAIL)
    result = run(client, "send_transactional_email", retry_of(steps), tags=["receipts"], **MAIL)
    assert result["deduplicated"] and result["message_id"] == log_of(client)[0]["messageId"]
    assert log_of(client)[0]["tags"] == ["receipts", result["tag"]]
    assert len(sim.calls("brevo", "POST", path=SMTP)) == 1


def test_transactional_email_needs_exactly_one_content() -> None:
    model = SPEC.action("send_transactional_email").params
    with pytest.raises(ValidationError, match="exactly one"):
        model(**{**MAIL, "template_id": 3})


def test_unverified_sender_is_rejected_with_brevos_code(client: BrevoClient) -> None:
    with pytest.raises(ProviderRejected) as info:
        run(client, "send_transactional_email", **{**MAIL, "sender": {"email": "x@gmail.com"}})
    assert info.value.status == 400 and info.value.provider_code == "invalid_parameter"


# -- campaigns ---------------------------------------------------------------------------------------
CAMPAIGN = {"name": "Spring", "subject": "Spring sale", "sender": SENDER, "html_content": "<p>x</p>",
            "list_ids": [2]}


def test_email_campaign_scheduled_then_sent_once(client: BrevoClient, sim: Any) -> None:
    when = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)
    created = run(client, "create_email_campaign", scheduled_at=when, **CAMPAIGN)
    assert created["status"] == "queued" and created["name"].startswith("Spring [sintra-")
    assert created["list_ids"] == [2] and created["scheduled_at"].startswith(when.strftime("%Y-%m-%dT%H:%M"))
    steps = MemorySteps()
    sent = run(client, "send_email_campaign", steps, campaign_id=created["id"])
    assert sent == {"campaign_id": created["id"], "status": "sent", "changed": True}
    assert run(client, "send_email_campaign", MemorySteps(), campaign_id=created["id"])["changed"] is False
    assert len(sim.calls("brevo", "POST", contains="/sendNow")) == 1
    stats = client.json("GET", f"/emailCampaigns/{created['id']}")["statistics"]["globalStats"]
    assert stats["sent"] == 120


def test_email_campaign_in_the_past_or_unknown_list_is_refused(client: BrevoClient, sim: Any) -> None:
    with pytest.raises(InvalidPayload, match="past"):
        run(client, "create_email_campaign", scheduled_at=datetime.now(UTC) - timedelta(hours=1), **CAMPAIGN)
    with pytest.raises(ProviderRejected) as info:
        run(client, "create_email_campaign", **{**CAMPAIGN, "list_ids": [99]})
    assert info.value.provider_code == "document_not_found"


def test_sms_campaign_resumes_after_a_crash(client: BrevoClient, sim: Any) -> None:
    params = {"name": "Flash", "sender": "Acme", "content": "Today only", "list_ids": [2, 7]}
    steps = CrashOn("sms_campaign_id")
    with pytest.raises(Crash):
        run(client, "create_sms_campaign", steps, **params)
    result = run(client, "create_sms_campaign", retry_of(steps), **params)
    assert result["status"] == "draft" and result["content"] == "Today only" and result["list_ids"] == [2, 7]
    assert len(sim.calls("brevo", "POST", path=BASES["brevo"] + "/smsCampaigns")) == 1


# -- automation events -------------------------------------------------------------------------------
def test_track_event_is_stamped_and_not_repeated_after_a_crash(client: BrevoClient, sim: Any) -> None:
    params = {"event_name": "cart_abandoned", "email": "ada@example.com", "event_properties": {"total": 42},
              "contact_properties": {"FIRSTNAME": "Ada"}}
    steps = CrashOn("event")
    with pytest.raises(Crash):
        run(client, "track_event", steps, **params)
    result = run(client, "track_event", retry_of(steps), **params)
    assert result["deduplicated"] is True
    contact = client.json("GET", "/contacts/ada@example.com")
    events = client.json("GET", "/events", params={"contact_id": contact["id"]})["events"]
    assert len(events) == 1 and events[0]["event_properties"] == {"total": 42, "sintra_ref": result["ref"]}
    assert contact["attributes"]["FIRSTNAME"] == "Ada"


def test_event_name_follows_brevos_rules() -> None:
    with pytest.raises(ValidationError):
        SPEC.action("track_event").params(event_name="cart abandoned!", email="a@example.com")
    with pytest.raises(ValidationError, match="email or contact_id"):
        SPEC.action("track_event").params(event_name="x")


def test_automation_workflows_are_restricted(client: BrevoClient) -> None:
    action = SPEC.action("list_automation_workflows")
    assert action is not None and action.restricted and "track_event" in action.restricted
    with pytest.raises(IntegrationUnavailable):
        client.run("list_automation_workflows", action.params(), MemorySteps())


# -- contacts ----------------------------------------------------------------------------------------
def test_create_contact_upserts_and_refuses_duplicates_without_update(client: BrevoClient) -> None:
    first = run(client, "create_contact", email="Grace@Example.com", attributes={"FIRSTNAME": "Grace"},
                list_ids=[7])
    assert first["created"] is True and first["email"] == "grace@example.com" and first["list_ids"] == [7]
    again = run(client, "create_contact", email="grace@example.com", attributes={"LASTNAME": "Hopper"},
                list_ids=[2])
    assert again["created"] is False and again["id"] == first["id"]
    assert again["attributes"] == {"FIRSTNAME": "Grace", "LASTNAME": "Hopper"} and again["list_ids"] == [2, 7]
    with pytest.raises(ProviderRejected) as info:
        run(client, "create_contact", email="grace@example.com", update_enabled=False)
    assert info.value.provider_code == "duplicate_parameter"


def test_create_contact_without_update_survives_a_crash(client: BrevoClient) -> None:
    steps = CrashOn("contact")
    with pytest.raises(Crash):
        run(client, "create_contact", steps, email="linus@example.com", update_enabled=False)
    result = run(client, "create_contact", retry_of(steps), email="linus@example.com", update_enabled=False)
    assert result["created"] is False and result["email"] == "linus@example.com"


def test_update_contact_by_email_or_id(client: BrevoClient) -> None:
    contact = run(client, "create_contact", email="ada@example.com", list_ids=[2, 7])
    moved = run(client, "update_contact", identifier="ada@example.com", attributes={"FIRSTNAME": "Ada"},
                unlink_list_ids=[2])
    assert moved["attributes"] == {"FIRSTNAME": "Ada"} and moved["list_ids"] == [7]
    assert run(client, "update_contact", identifier=str(contact["id"]), list_ids=[2])["list_ids"] == [2, 7]
    with pytest.raises(ValidationError, match="attributes"):  # the parameter model refuses it, as the API does
        run(client, "update_contact", identifier="ada@example.com")
    with pytest.raises(ProviderRejected) as info:
        run(client, "update_contact", identifier="nobody@example.com", attributes={"X": 1})
    assert info.value.status == 404 and info.value.provider_code == "document_not_found"


def test_list_contacts_pages_with_limit_and_offset(client: BrevoClient, sim: Any,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(BrevoClient, "LIST_CONTACT_PAGE", 50)
    listed = run(client, "list_contacts", list_id=2, limit=120)
    assert listed["count"] == 120 and len({c["id"] for c in listed["contacts"]}) == 120
    assert len(sim.calls("brevo", "GET", path=BASES["brevo"] + "/contacts/lists/2/contacts")) == 3
    assert len(run(client, "list_contacts", limit=7)["contacts"]) == 7
    run(client, "create_contact", email="fresh@example.com")
    recent = run(client, "list_contacts", modified_since=datetime.now(UTC) - timedelta(minutes=5))
    assert [c["email"] for c in recent["contacts"]] == ["fresh@example.com"] and recent["count"] == 1


# -- rate limits -------------------------------------------------------------------------------------
def test_rate_limit_headers_are_read_with_a_reset_in_seconds(simulator: Any) -> None:
    records: list[CallRecord] = []
    client = make_client(simulator.url, record=records.append)
    client.test_connection()
    rl = records[-1].rate_limit
    assert rl is not None and rl.limit == 36000 and rl.remaining is not None
    assert rl.reset_after is not None and 0 < rl.reset_after <= 3600


def test_429_waits_for_the_reset_seconds(client: BrevoClient, sim: Any) -> None:
    sim.fault("brevo", 429, retry_after=45)
    with pytest.raises(RateLimited) as info:
        run(client, "list_contacts")
    assert info.value.retry_after == 45.0 and info.value.provider_code == "too_many_requests"
