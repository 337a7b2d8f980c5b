"""SendGridClient against the simulator over real HTTP: mail dedupe, marketing, templates, stats, errors."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from config.catalog.integrations.sendgrid import SPEC
from config.providers import definition
from workers.credentials.base import Credentials
from workers.errors import (
    AuthError,
    IntegrationUnavailable,
    InvalidPayload,
    PermanentError,
    ProviderRejected,
    ProviderUnavailable,
    RateLimited,
)
from workers.providers.base import CallRecord, MemorySteps
from workers.providers.sendgrid import SendGridClient
from workers.runner import will_retry

KEY = "SG.test-key.0123456789"
SENDER = {"email": "hello@acme.example", "name": "Acme"}
MAIL = {"to": [{"email": "ada@example.com"}], "sender": SENDER, "subject": "Hello", "html": "<p>Hi</p>"}
SEND = "/sendgrid/v3/mail/send"


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


def make_client(url: str, key: str = KEY, record: Any = None, **creds: str) -> SendGridClient:
    http = httpx.Client(base_url=url + "/sendgrid", timeout=10)
    return SendGridClient(http=http, credentials=Credentials({"api_key": key, **creds},
                                                             secret_fields=SPEC.secret_fields), record=record)


@pytest.fixture
def client(simulator: Any) -> Iterator[SendGridClient]:
    c = make_client(simulator.url)
    yield c
    c.http.close()


def run(client: SendGridClient, action: str, steps: MemorySteps | None = None, **params: Any) -> Any:
    return client.run(action, SPEC.action(action).params(**params), steps or MemorySteps())


def retry_of(steps: MemorySteps) -> MemorySteps:
    """The same job on its next attempt: what was durably recorded, and the same marker."""
    return MemorySteps(values=dict(steps.values), marker=steps.marker)


# -- connection, region, subusers --------------------------------------------------------------------
def test_connection_reports_what_the_key_may_do(client: SendGridClient) -> None:
    facts = client.test_connection()
    assert facts["can_send_mail"] and facts["can_use_marketing"] and facts["can_read_stats"]
    assert facts["region"] == "global" and KEY not in repr(facts)


def test_bad_key_is_an_auth_error_without_the_key(simulator: Any) -> None:
    with pytest.raises(AuthError) as info:
        make_client(simulator.url, key="bad.key.0123456789").test_connection()
    assert info.value.status == 401 and "revoked" in info.value.message
    assert "bad.key" not in info.value.message


def test_eu_region_uses_the_eu_host() -> None:
    creds = Credentials({"api_key": KEY, "region": "eu"}, secret_fields=SPEC.secret_fields)
    assert SendGridClient.resolve_base_url(SPEC.base_url, creds) == "https://api.eu.sendgrid.com"
    creds = Credentials({"api_key": KEY}, secret_fields=SPEC.secret_fields)
    assert SendGridClient.resolve_base_url(SPEC.base_url, creds) == definition("sendgrid").base_url
    with pytest.raises(IntegrationUnavailable):
        SendGridClient.resolve_base_url(SPEC.base_url, Credentials({"api_key": KEY, "region": "mars"},
                                                                   secret_fields=SPEC.secret_fields))


def test_on_behalf_of_acts_in_the_subusers_account(simulator: Any) -> None:
    sub = make_client(simulator.url, on_behalf_of="shop-eu")
    run(sub, "create_template", name="Subuser only")
    assert run(sub, "list_templates")["count"] == 1
    assert run(make_client(simulator.url), "list_templates")["count"] == 0


# -- transactional mail ------------------------------------------------------------------------------
def test_send_mail_stamps_the_job_marker_and_records_the_message_id(client: SendGridClient, sim: Any) -> None:
    steps = MemorySteps()
    result = run(client, "send_mail", steps, custom_args={"order": "42"}, categories=["receipts"], **MAIL)
    assert result["message_id"] and steps.get("mail")["message_id"] == result["message_id"]
    query = f"unique_args['sintra_job']=\"{steps.marker}\" AND unique_args['order']=\"42\""
    found = client.json("GET", "/v3/messages", params={"query": query})["messages"]
    assert [m["msg_id"].split(".")[0] for m in found] == [result["message_id"]]
    again = run(client, "send_mail", steps, **MAIL)
    assert again["deduplicated"] and again["message_id"] == result["message_id"]
    assert len(sim.calls("sendgrid", "POST", path=SEND)) == 1


def test_crash_after_send_is_found_in_email_activity_not_sent_twice(client: SendGridClient, sim: Any) -> None:
    steps = CrashOn("mail")
    with pytest.raises(Crash):
        run(client, "send_mail", steps, **MAIL)
    result = run(client, "send_mail", retry_of(steps), **MAIL)
    assert result["deduplicated"] and result["message_id"]
    assert len(sim.calls("sendgrid", "POST", path=SEND)) == 1


def test_crash_without_email_activity_refuses_to_send_again(simulator: Any, sim: Any) -> None:
    client = make_client(simulator.url, key="SG.basic-plan.0123456789")
    assert client.test_connection()["can_send_mail"]
    steps = CrashOn("mail")
    with pytest.raises(Crash):
        run(client, "send_mail", steps, **MAIL)
    with pytest.raises(PermanentError) as info:
        run(client, "send_mail", retry_of(steps), **MAIL)
    assert "not sending it a second time" in info.value.message
    assert not will_retry(0, info.value, 5)
    assert len(sim.calls("sendgrid", "POST", path=SEND)) == 1


def test_retry_whose_first_send_never_arrived_sends_once(client: SendGridClient, sim: Any) -> None:
    sim.fault("sendgrid", 503, path=SEND)
    steps = MemorySteps()
    with pytest.raises(ProviderUnavailable):
        run(client, "send_mail", steps, **MAIL)
    assert run(client, "send_mail", steps, **MAIL)["message_id"]
    assert [c["status"] for c in sim.calls("sendgrid", "POST", path=SEND)] == [503, 202]


def test_unverified_sender_is_a_rejected_request_not_an_auth_error(client: SendGridClient) -> None:
    with pytest.raises(ProviderRejected) as info:
        run(client, "send_mail", **{**MAIL, "sender": {"email": "someone@gmail.com"}})
    assert info.value.status == 403 and info.value.provider_code == "from"
    assert "verified Sender Identity" in info.value.message


def test_access_forbidden_is_an_auth_error(client: SendGridClient, sim: Any) -> None:
    sim.fault("sendgrid", 403, path="/v3/templates")
    with pytest.raises(AuthError):
        run(client, "list_templates")


def test_send_at_more_than_72_hours_ahead_is_refused_before_calling(client: SendGridClient, sim: Any) -> None:
    with pytest.raises(InvalidPayload, match="72 hours"):
        run(client, "send_mail", send_at=datetime.now(UTC) + timedelta(days=4), **MAIL)
    later = run(client, "send_mail", send_at=datetime.now(UTC) + timedelta(hours=2), **MAIL)
    assert isinstance(later["send_at"], int)
    assert len(sim.calls("sendgrid", "POST", path=SEND)) == 1


def test_mail_needs_a_subject_unless_a_template_carries_it() -> None:
    model = SPEC.action("send_mail").params
    with pytest.raises(ValidationError, match="subject"):
        model(**{**MAIL, "subject": None})
    assert model(**{**MAIL, "subject": None, "template_id": "d-" + "0" * 32})


# -- Single Sends ------------------------------------------------------------------------------------
SINGLE = {"name": "Launch", "sender_id": 1, "subject": "Launch", "html_content": "<p>x</p>",
          "list_ids": ["7a1b2c3d-0000-4000-8000-000000000001"]}


def test_single_send_created_tagged_and_resumed_after_a_crash(client: SendGridClient, sim: Any) -> None:
    steps = CrashOn("single_send_id")
    with pytest.raises(Crash):
        run(client, "create_single_send", steps, **SINGLE)
    result = run(client, "create_single_send", retry_of(steps), **SINGLE)
    assert result["status"] == "draft" and result["name"].startswith("Launch [")
    assert len(sim.calls("sendgrid", "POST", path="/sendgrid/v3/marketing/singlesends")) == 1


def test_schedule_single_send_is_idempotent_and_reschedules(client: SendGridClient, sim: Any) -> None:
    sid = run(client, "create_single_send", **SINGLE)["id"]
    first = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
    assert run(client, "schedule_single_send", single_send_id=sid, send_at=first)["status"] == "scheduled"
    assert run(client, "schedule_single_send", single_send_id=sid, send_at=first)["changed"] is False
    moved = run(client, "schedule_single_send", single_send_id=sid, send_at=first + timedelta(hours=1))
    assert moved["changed"]
    assert moved["send_at"].startswith((first + timedelta(hours=1)).strftime("%Y-%m-%dT%H"))
    assert run(client, "schedule_single_send", single_send_id=sid, send_at="now")["status"] == "triggered"
    assert run(client, "schedule_single_send", single_send_id=sid, send_at="now")["changed"] is False
    with pytest.raises(InvalidPayload, match="past"):
        run(client, "schedule_single_send", single_send_id=sid,
            send_at=datetime.now(UTC) - timedelta(hours=1))


def test_single_send_with_unverified_sender_cannot_be_scheduled(client: SendGridClient) -> None:
    sid = run(client, "create_single_send", **{**SINGLE, "sender_id": 2})["id"]
    with pytest.raises(ProviderRejected) as info:
        run(client, "schedule_single_send", single_send_id=sid, send_at="now")
    assert info.value.provider_code == "email_config.sender_id"


# -- templates ---------------------------------------------------------------------------------------
def test_list_templates_follows_page_tokens_up_to_limit(client: SendGridClient, sim: Any,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    for n in range(5):
        run(client, "create_template", name=f"T{n}")
    monkeypatch.setattr(SendGridClient, "TEMPLATE_PAGE", 2)
    listed = run(client, "list_templates", limit=5)
    assert listed["count"] == 5 and len({t["id"] for t in listed["templates"]}) == 5
    assert len(sim.calls("sendgrid", "GET", path="/sendgrid/v3/templates")) == 3
    assert len(run(client, "list_templates", limit=3)["templates"]) == 3
    assert run(client, "list_templates", generation="legacy")["count"] == 0


def test_create_template_with_first_version_resumes_after_crashes(client: SendGridClient, sim: Any) -> None:
    params = {"name": "Welcome", "subject": "Hi {{name}}", "html_content": "<p>Hi {{name}}</p>"}
    steps = CrashOn("template_id")
    with pytest.raises(Crash):
        run(client, "create_template", steps, **params)
    second = CrashOn("version_id")
    second.values, second.marker = dict(steps.values), steps.marker
    with pytest.raises(Crash):
        run(client, "create_template", second, **params)
    result = run(client, "create_template", retry_of(second), **params)
    assert result["generation"] == "dynamic" and result["name"].startswith("Welcome [")
    assert [(v["subject"], v["active"]) for v in result["versions"]] == [("Hi {{name}}", True)]
    assert len(sim.calls("sendgrid", "POST", path="/sendgrid/v3/templates")) == 1
    assert len(sim.calls("sendgrid", "POST", contains="/versions")) == 1


# -- statistics --------------------------------------------------------------------------------------
def test_stats_totals_and_rates_include_our_sends(client: SendGridClient) -> None:
    today = datetime.now(UTC).date()
    before = run(client, "get_stats", start_date=today)["totals"]["all"]
    run(client, "send_mail", categories=["receipts"], **MAIL)
    after = run(client, "get_stats", start_date=today)
    assert after["end_date"] == today.isoformat()
    assert after["totals"]["all"]["requests"] == before["requests"] + 1
    assert 0.9 < after["totals"]["all"]["delivery_rate"] <= 1
    by_category = run(client, "get_stats", start_date=today - timedelta(days=13), aggregated_by="week",
                      categories=["receipts", "welcome"])
    assert set(by_category["totals"]) == {"receipts", "welcome"}
    assert 2 <= len(by_category["periods"]) <= 3


def test_stats_end_before_start_is_refused(client: SendGridClient) -> None:
    with pytest.raises(ValidationError, match="end_date"):  # the parameter model refuses it, as the API does
        run(client, "get_stats", start_date="2026-02-02", end_date="2026-02-01")


# -- rate limits and audit ---------------------------------------------------------------------------
def test_rate_limit_headers_are_read_with_an_epoch_reset(simulator: Any) -> None:
    records: list[CallRecord] = []
    client = make_client(simulator.url, record=records.append)
    run(client, "list_templates")
    rl = records[-1].rate_limit
    assert rl is not None and rl.limit == 600 and rl.remaining is not None and rl.remaining < 600
    assert rl.reset_after is not None and 0 <= rl.reset_after <= 60
    assert records[-1].path == "/v3/templates"


def test_429_waits_until_the_epoch_reset(client: SendGridClient, sim: Any) -> None:
    sim.fault("sendgrid", 429, retry_after=20)
    with pytest.raises(RateLimited) as info:
        run(client, "list_templates")
    assert 18.5 <= info.value.retry_after <= 21 and "too many requests" in info.value.message
    reset = str(int(time.time()) + 40)
    sim.fault("sendgrid", 429, headers={"X-RateLimit-Reset": reset, "Retry-After": "5"})
    with pytest.raises(RateLimited) as info:
        run(client, "list_templates")
    assert info.value.retry_after == 5.0  # Retry-After, when sent, wins
