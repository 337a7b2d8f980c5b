"""IntercomClient against the simulator: version pinning, regions, cursors, replay-safe parts, exports."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from config.catalog.integrations.intercom import SPEC
from config.providers import definition
from simulator.providers._intercom_data import ME, TEAM, TEAMMATE, WORKFLOW_ID
from workers.credentials.base import Credentials
from workers.errors import (
    AuthError,
    IntegrationUnavailable,
    MalformedResponse,
    ProviderRejected,
    ProviderUnavailable,
    RateLimited,
)
from workers.providers._intercom_shapes import parts, plain
from workers.providers.base import CallRecord, MemorySteps
from workers.providers.intercom import IntercomClient

PREFIX = "/intercom"
CREDS = {"access_token": "dG9rOmdvb2QtdG9rZW4tMDAwMQ==", "region": "us", "admin_id": ME}
OPEN_CONVERSATION, OTHER_OPEN, CLOSED = "100004", "100005", "100002"


class Crash(Exception):
    """The worker died right after the provider answered, before the result was recorded."""


class CrashingSteps(MemorySteps):
    """Records intents, then dies on the first result it should record."""

    def put(self, key: str, value: Any) -> None:
        if not key.startswith("intent:"):
            raise Crash(key)
        super().put(key, value)


def make(url: str, record: Any = None, sent: list[httpx.Request] | None = None,
         **creds: str) -> IntercomClient:
    hooks = {"request": [sent.append]} if sent is not None else {}
    http = httpx.Client(base_url=url + PREFIX, timeout=10, event_hooks=hooks)
    values = {k: v for k, v in {**CREDS, **creds}.items() if v}
    return IntercomClient(http=http, credentials=Credentials(values, secret_fields=SPEC.secret_fields),
                          record=record)


@pytest.fixture
def client(simulator: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[IntercomClient]:
    monkeypatch.setattr(IntercomClient, "POLL_INTERVAL", 0.01)
    c = make(simulator.url)
    yield c
    c.http.close()


def run(client: IntercomClient, action: str, steps: MemorySteps | None = None, **params: Any) -> Any:
    return client.run(action, SPEC.action(action).params(**params), steps or MemorySteps())


def bodies(client: IntercomClient, conversation_id: str, part_type: str) -> list[str]:
    conversation = client.json("GET", f"/conversations/{conversation_id}")
    return [plain(p["body"]) for p in parts(conversation) if p["part_type"] == part_type]


def period(days: int = 30) -> dict[str, datetime]:
    return {"start_time": datetime.now(UTC) - timedelta(days=days), "end_time": datetime.now(UTC)}


# -- connection, auth, version and region --------------------------------------------------------------------
def test_connection_returns_admin_and_workspace(client: IntercomClient) -> None:
    facts = client.test_connection()
    assert facts == {"admin_id": ME, "name": "Sim Admin", "email": "sim@sim.example",
                     "workspace_id": "sim0app1", "workspace_name": "Sim Workspace", "region": "US"}


def test_bad_token_is_auth_error_with_the_error_list_code(simulator: Any) -> None:
    with pytest.raises(AuthError) as info:
        make(simulator.url, access_token="bad-token-0002").test_connection()
    assert info.value.status == 401 and info.value.provider_code == "unauthorized"
    assert "Access Token Invalid" in info.value.message and "bad-token" not in info.value.message


def test_every_request_pins_the_api_version(simulator: Any) -> None:
    sent: list[httpx.Request] = []
    client = make(simulator.url, sent=sent)
    client.test_connection()
    run(client, "list_tags")
    assert {(r.headers["intercom-version"], r.headers["authorization"]) for r in sent} == {
        ("2.15", f"Bearer {CREDS['access_token']}")}


def test_exports_need_the_pinned_version(client: IntercomClient, pin_header: Any) -> None:
    pin_header(IntercomClient, "Intercom-Version", "2.14")
    with pytest.raises(ProviderRejected) as info:
        run(client, "export_workflow", workflow_id=WORKFLOW_ID)
    assert info.value.status == 404 and "2.15" in info.value.message


@pytest.mark.parametrize(("region", "host"), [
    ("us", definition("intercom").base_url), ("EU", "https://api.eu.intercom.io"),
    ("au", "https://api.au.intercom.io"), ("", definition("intercom").base_url)])
def test_base_url_follows_the_region(region: str, host: str) -> None:
    creds = Credentials({**CREDS, "region": region}, secret_fields=SPEC.secret_fields)
    assert IntercomClient.resolve_base_url(SPEC.base_url, creds) == host


def test_unknown_region_is_refused() -> None:
    creds = Credentials({**CREDS, "region": "mars"}, secret_fields=SPEC.secret_fields)
    with pytest.raises(IntegrationUnavailable, match="region"):
        IntercomClient.resolve_base_url(SPEC.base_url, creds)


# -- rate limits ------------------------------------------------------------------------------------------
def test_rate_limit_reset_is_epoch_seconds() -> None:
    client = IntercomClient(http=httpx.Client(),
                            credentials=Credentials(CREDS, secret_fields=SPEC.secret_fields))
    reset = int(time.time()) + 8
    limit = client.rate_limit(httpx.Response(200, headers={"X-RateLimit-Limit": "10000",
                                                           "X-RateLimit-Remaining": "9998",
                                                           "X-RateLimit-Reset": str(reset)}))
    assert limit is not None and (limit.limit, limit.remaining) == (10000, 9998)
    assert limit.reset_after == pytest.approx(8, abs=1.1)
    past = client.rate_limit(httpx.Response(200, headers={"X-RateLimit-Reset": str(reset - 60)}))
    assert past is not None and past.reset_after == 0.0


def test_429_waits_until_the_reset_epoch(client: IntercomClient, sim: Any) -> None:
    sim.fault("intercom", 429, retry_after=7)
    with pytest.raises(RateLimited) as info:
        run(client, "list_tags")
    assert info.value.retry_after == pytest.approx(7, abs=1.1)
    assert info.value.provider_code == "rate_limit_exceeded"


def test_rate_limit_headers_are_audited(simulator: Any) -> None:
    records: list[CallRecord] = []
    make(simulator.url, record=records.append).test_connection()
    assert records[0].rate_limit is not None and records[0].rate_limit.limit == 10000


# -- conversations ----------------------------------------------------------------------------------------
def test_reply_and_note_are_posted_as_the_admin(client: IntercomClient) -> None:
    reply = run(client, "reply_to_conversation", conversation_id=OPEN_CONVERSATION, body="Hello <b>Ada</b>",
                attachment_urls=["https://files.example/a.png"])
    assert reply["changed"] is True and reply["part_id"] and reply["state"] == "open"
    run(client, "add_note", conversation_id=OPEN_CONVERSATION, body="Internal only")
    assert bodies(client, OPEN_CONVERSATION, "comment") == ["Hello Ada"]
    assert bodies(client, OPEN_CONVERSATION, "note") == ["Internal only"]


def test_reply_without_admin_id_uses_the_tokens_admin(simulator: Any) -> None:
    client = make(simulator.url, admin_id="")
    run(client, "reply_to_conversation", conversation_id=OPEN_CONVERSATION, body="From me")
    conversation = client.json("GET", f"/conversations/{OPEN_CONVERSATION}")
    assert parts(conversation)[-1]["author"]["id"] == ME


def test_reply_after_a_crash_is_not_posted_twice(client: IntercomClient, sim: Any) -> None:
    crashing = CrashingSteps()
    with pytest.raises(Crash):
        run(client, "reply_to_conversation", crashing, conversation_id=OPEN_CONVERSATION, body="Only once")
    retry = MemorySteps(values=dict(crashing.values), marker=crashing.marker)
    again = run(client, "reply_to_conversation", retry, conversation_id=OPEN_CONVERSATION, body="Only once")
    assert again["changed"] is False and again["part_id"]
    assert run(client, "reply_to_conversation", retry, conversation_id=OPEN_CONVERSATION,
               body="Only once")["changed"] is False
    assert bodies(client, OPEN_CONVERSATION, "comment") == ["Only once"]
    assert len(sim.calls("intercom", "POST", contains="/reply")) == 1


def test_assign_to_admin_team_and_unassign_only_when_needed(client: IntercomClient, sim: Any) -> None:
    first = run(client, "assign_conversation", conversation_id=OPEN_CONVERSATION, assignee_id=TEAMMATE,
                body="Over to you")
    assert first["changed"] is True and str(first["admin_assignee_id"]) == TEAMMATE
    assert run(client, "assign_conversation", conversation_id=OPEN_CONVERSATION,
               assignee_id=TEAMMATE)["changed"] is False
    team = run(client, "assign_conversation", conversation_id=OPEN_CONVERSATION, assignee_id=TEAM,
               assignee_type="team")
    assert team["team_assignee_id"] == TEAM and str(team["admin_assignee_id"]) == TEAMMATE
    cleared = run(client, "assign_conversation", conversation_id=OPEN_CONVERSATION, assignee_id="0")
    assert cleared["changed"] is True and cleared["admin_assignee_id"] is None
    assert len(sim.calls("intercom", "POST", contains="/parts")) == 3


def test_close_is_idempotent(client: IntercomClient, sim: Any) -> None:
    closed = run(client, "close_conversation", conversation_id=OTHER_OPEN, body="Solved, thanks!")
    assert closed == {"conversation_id": OTHER_OPEN, "state": "closed", "changed": True}
    assert run(client, "close_conversation", conversation_id=CLOSED)["changed"] is False
    assert run(client, "close_conversation", conversation_id=OTHER_OPEN)["changed"] is False
    assert len(sim.calls("intercom", "POST", contains="/parts")) == 1


def test_unknown_conversation_is_rejected_with_intercoms_message(client: IntercomClient) -> None:
    with pytest.raises(ProviderRejected) as info:
        run(client, "add_note", conversation_id="999", body="x")
    assert info.value.status == 404 and "Conversation Not Found" in info.value.message


# -- segmentation -----------------------------------------------------------------------------------------
def test_search_contacts_follows_starting_after(client: IntercomClient, sim: Any,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(IntercomClient, "PAGE_SIZE", 2)
    users = [{"field": "role", "operator": "=", "value": "user"}]
    found = run(client, "search_contacts", filters=users, limit=5)
    assert len(found["contacts"]) == 5 and found["total_count"] == 80
    assert len({c["id"] for c in found["contacts"]}) == 5
    assert len(sim.calls("intercom", "POST", path=f"{PREFIX}/contacts/search")) == 3


def test_search_combines_conditions(client: IntercomClient) -> None:
    pro_users = run(client, "search_contacts", combine="AND", limit=200, filters=[
        {"field": "role", "operator": "=", "value": "user"},
        {"field": "custom_attributes.plan", "operator": "IN", "value": ["pro", "free"]}])
    assert pro_users["total_count"] == 40
    either = run(client, "search_conversations", combine="OR", limit=200, filters=[
        {"field": "state", "operator": "=", "value": "closed"},
        {"field": "state", "operator": "=", "value": "snoozed"}])
    assert either["total_count"] == 20
    assert {c["state"] for c in either["conversations"]} == {"closed", "snoozed"}
    assert either["conversations"][0]["body"].startswith("Hello, I need help")


def test_tag_contact_by_name_creates_the_tag_once(client: IntercomClient) -> None:
    contact = run(client, "search_contacts", filters=[{"field": "email", "operator": "=",
                                                       "value": "customer1@example.com"}])["contacts"][0]
    first = run(client, "tag_contact", contact_id=contact["id"], tag_name="refund-requested")
    again = run(client, "tag_contact", contact_id=contact["id"], tag_name="refund-requested")
    assert first["tag"] == again["tag"] and first["tag"]["name"] == "refund-requested"
    assert [t["name"] for t in run(client, "list_tags")["tags"]].count("refund-requested") == 1
    by_id = [{"field": "id", "operator": "=", "value": contact["id"]}]
    tagged = run(client, "search_contacts", filters=by_id)
    assert tagged["contacts"][0]["tag_ids"] == [first["tag"]["id"]]


def test_segments_with_counts(client: IntercomClient) -> None:
    segments = run(client, "list_segments", include_count=True, limit=3)["segments"]
    assert [s["name"] for s in segments] == ["Active", "New", "Slipping Away"] and segments[0]["count"] == 80
    assert run(client, "list_segments")["segments"][0]["count"] is None


# -- reporting and workflows ------------------------------------------------------------------------------
def test_conversation_analytics_enqueues_polls_and_downloads(client: IntercomClient, sim: Any) -> None:
    steps = MemorySteps()
    result = run(client, "conversation_analytics", steps, **period(30))
    assert result["row_count"] == 40 and result["job_identifier"] == steps.values["export_job"]
    assert result["metrics"]["conversation_rating"]["count"] == 10
    assert "conversation_id" not in result["metrics"] and len(result["rows"]) == 40
    assert [s for s, _ in steps.seen][0] == "reporting export queued" and steps.seen[-1][1] == 100.0
    assert len(sim.calls("intercom", "GET", contains="/export/reporting_data/")) == 2


def test_conversation_analytics_resumes_the_stored_job(client: IntercomClient, sim: Any,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(IntercomClient, "POLL_TIMEOUT", 0.0)
    steps = MemorySteps()
    with pytest.raises(ProviderUnavailable, match="still 'pending'"):
        run(client, "conversation_analytics", steps, **period(10))
    monkeypatch.setattr(IntercomClient, "POLL_TIMEOUT", 5.0)
    result = run(client, "conversation_analytics", steps, **period(10))
    assert result["row_count"] == 20
    assert len(sim.calls("intercom", "POST", contains="/enqueue")) == 1


def test_unreadable_export_is_malformed(client: IntercomClient, sim: Any) -> None:
    sim.fault("intercom", 200, path="/download/reporting_data/", body="PK\x03\x04not-a-zip",
              content_type="application/octet-stream")
    with pytest.raises(MalformedResponse, match="not a readable CSV"):
        run(client, "conversation_analytics", **period(5))


def test_analytics_period_must_be_ordered() -> None:
    with pytest.raises(ValueError, match="end_time"):
        SPEC.action("conversation_analytics").params(start_time=datetime.now(UTC),
                                                     end_time=datetime.now(UTC) - timedelta(days=1))


def test_export_workflow_returns_its_definition(client: IntercomClient) -> None:
    exported = run(client, "export_workflow", workflow_id=WORKFLOW_ID)
    assert exported["workflow"]["title"] == "Route billing questions" and exported["workflow"]["steps"]


@pytest.mark.parametrize(("action", "params"),
                         [("list_workflows", {}), ("run_workflow", {"workflow_id": "1"})])
def test_workflow_listing_and_running_are_restricted(client: IntercomClient, sim: Any, action: str,
                                                     params: dict[str, Any]) -> None:
    with pytest.raises(IntegrationUnavailable, match="no endpoint to list, trigger or run"):
        run(client, action, **params)
    assert sim.calls("intercom") == []
