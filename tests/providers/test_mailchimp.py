"""MailchimpClient against the simulator over real HTTP: every action, errors, retries and resumption."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from config.catalog.integrations.mailchimp import SPEC
from simulator.urls import BASES
from workers.credentials.base import Credentials
from workers.errors import (
    AuthError,
    InvalidPayload,
    MalformedResponse,
    ProviderRejected,
    ProviderUnavailable,
    RateLimited,
)
from workers.providers.base import DEFAULT_RETRY_AFTER, CallRecord, MemorySteps
from simulator.providers.mailchimp import SEEDED_CAMPAIGNS
from workers.providers.mailchimp import MailchimpClient, subscriber_hash

LIST = "a1b2c3d4e5"
#: Campaigns every simulated account starts with (the sandbox the catalog's examples use).
SEEDED = {cid: status for cid, status, _ in SEEDED_CAMPAIGNS}
KEY = "0123456789abcdef0123456789abcdef-us21"
SENDER = {"from_name": "Acme", "reply_to": "hello@acme.example"}


def make_client(url: str, key: str = KEY, record: Any = None) -> MailchimpClient:
    http = httpx.Client(base_url=url + BASES["mailchimp"], timeout=10)
    creds = Credentials({"api_key": key, "list_id": LIST}, secret_fields=SPEC.secret_fields)
    return MailchimpClient(http=http, credentials=creds, record=record)


@pytest.fixture
def client(simulator: Any) -> Iterator[MailchimpClient]:
    c = make_client(simulator.url)
    yield c
    c.http.close()


def run(client: MailchimpClient, action: str, steps: MemorySteps | None = None, **params: Any) -> Any:
    return client.run(action, SPEC.action(action).params(**params), steps or MemorySteps())


def at(days: float = 1.0) -> datetime:
    """A future UTC time on a whole hour."""
    return (datetime.now(UTC) + timedelta(days=days)).replace(minute=0, second=0, microsecond=0)


def new_campaign(client: MailchimpClient, **extra: Any) -> str:
    return run(client, "create_campaign", subject_line="Hello", html="<p>Hi</p>", **SENDER, **extra)["id"]


def sequence_params(n: int = 5, start: datetime | None = None) -> dict[str, Any]:
    emails = [{"subject_line": f"Lesson {i}", "preview_text": f"Part {i}", "html": f"<p>Lesson {i}</p>"}
              for i in range(1, n + 1)]
    return {**SENDER, "start_at": start or at(), "emails": emails}


# -- connection and auth -----------------------------------------------------------------------------
def test_connection_with_good_key_returns_account_facts(client: MailchimpClient) -> None:
    facts = client.test_connection()
    assert facts["health_status"] == "Everything's Chimpy!"
    assert facts["account_name"] == "Simulated Co"
    assert KEY not in repr(facts)


def test_connection_with_bad_key_is_auth_error(simulator: Any) -> None:
    with pytest.raises(AuthError) as info:
        make_client(simulator.url, key="bad0000000000000000000000000000-us21").test_connection()
    assert info.value.status == 401
    assert info.value.provider_code == "API Key Invalid"
    assert "bad0000" not in info.value.message


def test_resolve_base_url_fills_datacenter_from_key() -> None:
    creds = Credentials({"api_key": KEY}, secret_fields=SPEC.secret_fields)
    assert MailchimpClient.resolve_base_url(SPEC.base_url, creds) == "https://us21.api.mailchimp.com/3.0"


def test_resolve_base_url_without_datacenter_is_auth_error() -> None:
    creds = Credentials({"api_key": "0123456789abcdef"}, secret_fields=SPEC.secret_fields)
    with pytest.raises(AuthError, match="datacenter suffix"):
        MailchimpClient.resolve_base_url(SPEC.base_url, creds)


# -- campaigns ---------------------------------------------------------------------------------------
def test_create_campaign_with_schedule_is_read_back(client: MailchimpClient) -> None:
    when = at(2)
    created = run(client, "create_campaign", subject_line="Launch", preview_text="Big news",
                  title="Launch day", html="<h1>Launch</h1>", schedule_time=when, **SENDER)
    assert created["status"] == "schedule"
    assert created["list_id"] == LIST
    got = run(client, "get_campaign", campaign_id=created["id"])
    # the title gains the job tag that finds the campaign again after a crash
    assert got["subject_line"] == "Launch" and got["title"].startswith("Launch day [")
    assert datetime.fromisoformat(got["send_time"]) == when
    assert client.json("GET", f"/campaigns/{created['id']}/content")["html"] == "<h1>Launch</h1>"


def test_create_campaign_rejected_field_is_named(client: MailchimpClient) -> None:
    with pytest.raises(ProviderRejected) as info:
        run(client, "create_campaign", list_id="missing01", subject_line="x", html="<p/>", **SENDER)
    assert info.value.status == 400 and "recipients.list_id" in info.value.message


def test_list_campaigns_pages_with_count_and_offset(client: MailchimpClient, sim: Any,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    ids = [new_campaign(client) for _ in range(5)]
    monkeypatch.setattr(MailchimpClient, "PAGE_SIZE", 2)
    listed = run(client, "list_campaigns", limit=5)
    assert listed["total_items"] == 5 + len(SEEDED)
    assert [c["id"] for c in listed["campaigns"]] == ids[::-1]
    assert len(sim.calls("mailchimp", "GET", path=BASES["mailchimp"] + "/campaigns")) == 3
    assert len(run(client, "list_campaigns", limit=3)["campaigns"]) == 3


def test_content_schedule_unschedule_and_send(client: MailchimpClient) -> None:
    cid = new_campaign(client)
    assert run(client, "set_campaign_content", campaign_id=cid, html="<p>v2</p>")["html_length"] == 9
    assert client.json("GET", f"/campaigns/{cid}/content")["html"] == "<p>v2</p>"
    first, second = at(1), at(2)
    assert run(client, "schedule_campaign", campaign_id=cid, schedule_time=first)["changed"] is True
    assert run(client, "schedule_campaign", campaign_id=cid, schedule_time=first)["changed"] is False
    run(client, "schedule_campaign", campaign_id=cid, schedule_time=second)
    assert datetime.fromisoformat(run(client, "get_campaign", campaign_id=cid)["send_time"]) == second
    assert run(client, "unschedule_campaign", campaign_id=cid)["status"] == "save"
    assert run(client, "unschedule_campaign", campaign_id=cid)["changed"] is False
    sent = run(client, "send_campaign", campaign_id=cid)
    assert sent["status"] == "sent" and sent["changed"] is True
    assert run(client, "send_campaign", campaign_id=cid)["changed"] is False
    assert run(client, "get_campaign", campaign_id=cid)["emails_sent"] == 1200


def test_schedule_time_must_be_on_quarter_hour() -> None:
    with pytest.raises(ValidationError, match="quarter hour"):
        SPEC.action("schedule_campaign").params(campaign_id="abc", schedule_time=at().replace(minute=7))


# -- the product example: a 5-email nurturing sequence -----------------------------------------------
def test_create_email_sequence_schedules_one_campaign_per_email(client: MailchimpClient) -> None:
    start = at(1).replace(minute=7, second=30)
    steps = MemorySteps()
    result = run(client, "create_email_sequence", steps, interval_days=2, **sequence_params(5, start))
    times = [datetime.fromisoformat(t) for t in result["schedule_times"]]
    first = start.replace(minute=15, second=0)
    assert times == [first + timedelta(days=2 * i) for i in range(5)]
    assert len(set(result["campaign_ids"])) == 5
    for n, cid in enumerate(result["campaign_ids"], start=1):
        got = run(client, "get_campaign", campaign_id=cid)
        assert got["status"] == "schedule" and got["subject_line"] == f"Lesson {n}"
        assert datetime.fromisoformat(got["send_time"]) == times[n - 1]
    assert ("creating campaign 2/5", 40.0) in steps.seen


def test_email_sequence_rerun_after_midway_fault_creates_nothing_twice(client: MailchimpClient,
                                                                       sim: Any) -> None:
    sim.fault("mailchimp", 503, path="/actions/schedule", after=2)
    steps = MemorySteps()
    params = sequence_params(5)
    with pytest.raises(ProviderUnavailable):
        run(client, "create_email_sequence", steps, **params)
    creates = BASES["mailchimp"] + "/campaigns"
    assert len(sim.calls("mailchimp", "POST", path=creates)) == 3
    result = run(client, "create_email_sequence", steps, **params)
    assert len(sim.calls("mailchimp", "POST", path=creates)) == 5
    campaigns = [c for c in run(client, "list_campaigns", limit=50)["campaigns"] if c["id"] not in SEEDED]
    assert len(campaigns) == 5 and {c["status"] for c in campaigns} == {"schedule"}
    assert sorted(c["id"] for c in campaigns) == sorted(result["campaign_ids"])
    ok_schedules = [c for c in sim.calls("mailchimp", "POST", "/actions/schedule") if c["status"] == 204]
    assert len(ok_schedules) == 5


def test_email_sequence_rerun_checks_status_before_scheduling_again(client: MailchimpClient,
                                                                     sim: Any) -> None:
    steps = MemorySteps()
    params = sequence_params(3)
    first = run(client, "create_email_sequence", steps, **params)
    for n in (1, 2, 3):  # as if the schedule answers were lost before being recorded
        del steps.values[f"email_{n}.scheduled"]
    again = run(client, "create_email_sequence", steps, **params)
    assert again["campaign_ids"] == first["campaign_ids"]
    assert again["schedule_times"] == first["schedule_times"]
    assert len(sim.calls("mailchimp", "POST", "/actions/schedule")) == 3


def test_email_sequence_in_the_past_is_refused_before_creating(client: MailchimpClient, sim: Any) -> None:
    with pytest.raises(InvalidPayload, match="in the past"):
        run(client, "create_email_sequence", **sequence_params(2, at(-1)))
    assert sim.calls("mailchimp", "POST") == []


def test_email_sequence_needs_one_to_twenty_emails() -> None:
    model = SPEC.action("create_email_sequence").params
    with pytest.raises(ValidationError):
        model(**sequence_params(0))
    with pytest.raises(ValidationError):
        model(**sequence_params(21))


# -- automations -------------------------------------------------------------------------------------
def test_automations_list_get_start_and_pause(client: MailchimpClient) -> None:
    listed = run(client, "list_automations")
    assert listed["total_items"] == 2
    welcome = next(a for a in listed["automations"] if a["title"] == "Welcome series")
    assert run(client, "get_automation", workflow_id=welcome["id"])["status"] == "save"
    assert run(client, "start_automation", workflow_id=welcome["id"])["changed"] is True
    assert run(client, "get_automation", workflow_id=welcome["id"])["status"] == "sending"
    assert run(client, "start_automation", workflow_id=welcome["id"])["changed"] is False
    run(client, "pause_automation", workflow_id=welcome["id"])
    assert run(client, "list_automations", status="paused")["total_items"] == 2


# -- segmentation ------------------------------------------------------------------------------------
def test_segments_static_and_conditions(client: MailchimpClient) -> None:
    static = run(client, "create_segment", name="VIPs", static_emails=["a@x.example", "b@x.example"])
    assert static["type"] == "static" and static["member_count"] == 2
    saved = run(client, "create_segment", name="Ada fans", match="any",
                conditions=[{"condition_type": "TextMerge", "field": "FNAME", "op": "is", "value": "Ada"}])
    assert saved["type"] == "saved" and saved["options"]["conditions"][0]["field"] == "FNAME"
    listed = run(client, "list_segments")
    assert {s["name"] for s in listed["segments"]} == {"VIPs", "Ada fans"}
    assert run(client, "list_segments", type="static")["total_items"] == 1


def test_create_segment_needs_exactly_one_kind() -> None:
    with pytest.raises(ValidationError, match="exactly one"):
        SPEC.action("create_segment").params(name="x")


def test_create_segment_rerun_returns_the_stored_segment(client: MailchimpClient, sim: Any) -> None:
    steps = MemorySteps()
    first = run(client, "create_segment", steps, name="VIPs", static_emails=["a@x.example"])
    again = run(client, "create_segment", steps, name="VIPs", static_emails=["a@x.example"])
    assert again["id"] == first["id"]
    assert len(sim.calls("mailchimp", "POST", "/segments")) == 1


def test_upsert_member_puts_by_md5_of_lowercase_email(client: MailchimpClient, sim: Any) -> None:
    first = run(client, "upsert_member", email="Ada@Example.com", merge_fields={"FNAME": "Ada"})
    assert first["id"] == subscriber_hash("ada@example.com") and first["status"] == "subscribed"
    second = run(client, "upsert_member", email="ada@example.com", merge_fields={"LNAME": "Lovelace"})
    assert second["merge_fields"]["FNAME"] == "Ada" and second["merge_fields"]["LNAME"] == "Lovelace"
    assert [c["path"] for c in sim.calls("mailchimp", "PUT")] == [
        f"{BASES['mailchimp']}/lists/{LIST}/members/{first['id']}"] * 2
    assert client.json("GET", f"/lists/{LIST}/members/{first['id']}")["email_address"] == "ada@example.com"


# -- A/B tests and analytics -------------------------------------------------------------------------
def test_create_ab_test_makes_a_variate_campaign(client: MailchimpClient) -> None:
    result = run(client, "create_ab_test", subject_lines=["Hi there", "Last chance"], html="<p>x</p>",
                 winner_criteria="clicks", wait_time=120, test_size=30, schedule_time=at(3), **SENDER)
    assert result["type"] == "variate" and result["status"] == "schedule"
    variate = result["variate_settings"]
    assert variate["winner_criteria"] == "clicks" and variate["wait_time"] == 120
    assert variate["test_size"] == 30 and variate["subject_lines"] == ["Hi there", "Last chance"]


def test_ab_test_needs_two_variants() -> None:
    with pytest.raises(ValidationError, match="at least two"):
        SPEC.action("create_ab_test").params(subject_lines=["one"], html="<p/>", **SENDER)


def test_reports_of_sent_and_scheduled_campaigns(client: MailchimpClient,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    sent = new_campaign(client)
    run(client, "send_campaign", campaign_id=sent)
    new_campaign(client, schedule_time=at(1))
    new_campaign(client)  # a draft has no report
    report = run(client, "get_campaign_report", campaign_id=sent)
    assert report["emails_sent"] == 1200
    assert 0 < report["opens"]["unique_opens"] < 1200 and 0 < report["opens"]["open_rate"] < 1
    assert report["clicks"]["unique_clicks"] > 0
    monkeypatch.setattr(MailchimpClient, "PAGE_SIZE", 1)
    listed = run(client, "list_reports", limit=10)
    seeded = sum(1 for status in SEEDED.values() if status in ("sent", "schedule"))
    assert listed["total_items"] == 2 + seeded and len(listed["reports"]) == 2 + seeded


# -- errors, throttling, audit -----------------------------------------------------------------------
def test_throttle_is_rate_limited_with_default_delay(client: MailchimpClient, sim: Any) -> None:
    sim.fault("mailchimp", 429)
    with pytest.raises(RateLimited) as info:
        run(client, "list_campaigns")
    assert info.value.retry_after == DEFAULT_RETRY_AFTER and "Too Many Requests" in info.value.message


def test_throttle_honours_retry_after(client: MailchimpClient, sim: Any) -> None:
    sim.fault("mailchimp", 429, retry_after=7)
    with pytest.raises(RateLimited) as info:
        client.test_connection()
    assert info.value.retry_after == 7.0


@pytest.mark.parametrize("status", [500, 503])
def test_server_errors_are_provider_unavailable(client: MailchimpClient, sim: Any, status: int) -> None:
    sim.fault("mailchimp", status)
    with pytest.raises(ProviderUnavailable) as info:
        run(client, "get_campaign_report", campaign_id="abc")
    assert info.value.status == status


def test_non_json_body_is_malformed_response(client: MailchimpClient, sim: Any) -> None:
    sim.fault("mailchimp", 200, path="/ping", body="<html>maintenance</html>")
    with pytest.raises(MalformedResponse):
        client.test_connection()


def test_json_without_expected_fields_is_malformed_response(client: MailchimpClient, sim: Any) -> None:
    sim.fault("mailchimp", 200, path="/campaigns", body='{"unexpected": true}',
              content_type="application/json")
    with pytest.raises(MalformedResponse):
        run(client, "list_campaigns")


def test_audit_records_paths_without_query_string(simulator: Any) -> None:
    records: list[CallRecord] = []
    client = make_client(simulator.url, record=records.append)
    client.test_connection()
    run(client, "list_campaigns", limit=3)
    assert [(r.method, r.path, r.status) for r in records] == [
        ("GET", "/ping", 200), ("GET", "/", 200), ("GET", "/campaigns", 200)]
    assert all("?" not in r.path and r.provider == "mailchimp" for r in records)
    assert records[-1].action == "list_campaigns"


def test_a_retry_finds_its_campaign_however_many_were_created_after_the_crash(client: MailchimpClient,
                                                                               sim: Any) -> None:
    """The crash-safe lookup filters by the intent's time (``since_create_time``), not the newest 1,000."""

    class Crash(Exception):
        pass

    class CrashingSteps(MemorySteps):
        def put(self, key: str, value: Any) -> None:
            if not key.startswith("intent:"):
                raise Crash(key)
            super().put(key, value)

    crashing = CrashingSteps()
    with pytest.raises(Crash):
        run(client, "create_campaign", crashing, subject_line="Mine", html="<p>Hi</p>", **SENDER)
    for i in range(1_100):  # other work of the account while the retry waited
        client.json("POST", "/campaigns", json={"type": "regular", "recipients": {"list_id": LIST},
                                                "settings": {"subject_line": f"other {i}", "title": f"o{i}",
                                                             **SENDER}})
    retry = MemorySteps(values=dict(crashing.values), marker=crashing.marker)
    found = run(client, "create_campaign", retry, subject_line="Mine", html="<p>Hi</p>", **SENDER)
    every, _ = client._pages("/campaigns", "campaigns", 10_000)
    mine = [c for c in every if c["settings"]["subject_line"] == "Mine"]
    assert len(mine) == 1 and found["id"] == mine[0]["id"]
