"""ZendeskClient against the simulator: idempotent creates, audit-stamped comments, paging, errors, limits."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from config.catalog.integrations.zendesk import SPEC
from simulator.providers._zendesk_data import PERMISSION_GROUP, SECTION_BILLING, SECTION_FAQ
from simulator.urls import BASES
from workers.credentials.base import Credentials
from workers.errors import AuthError, MalformedResponse, ProviderRejected, ProviderUnavailable, RateLimited
from workers.providers.base import CallRecord, MemorySteps, RateLimit
from workers.providers.zendesk import ZendeskClient
from workers.runner import will_retry

PREFIX = BASES["zendesk"]
CREDS = {"subdomain": "acme", "email": "agent@acme.example", "api_token": "0123456789abcdefToken"}


class Crash(Exception):
    """The worker died right after the provider answered, before the result was recorded."""


class CrashingSteps(MemorySteps):
    """Records intents, then dies on the first result it should record."""

    def put(self, key: str, value: Any) -> None:
        if not key.startswith("intent:"):
            raise Crash(key)
        super().put(key, value)


def make(url: str, record: Any = None, sent: list[httpx.Request] | None = None,
         **creds: str) -> ZendeskClient:
    hooks = {"request": [sent.append]} if sent is not None else {}
    http = httpx.Client(base_url=url + PREFIX, timeout=10, event_hooks=hooks)
    credentials = Credentials({**CREDS, **creds}, secret_fields=SPEC.secret_fields)
    return ZendeskClient(http=http, credentials=credentials, record=record)


@pytest.fixture
def client(simulator: Any) -> Iterator[ZendeskClient]:
    c = make(simulator.url)
    yield c
    c.http.close()


def run(client: ZendeskClient, action: str, steps: MemorySteps | None = None, **params: Any) -> Any:
    return client.run(action, SPEC.action(action).params(**params), steps or MemorySteps())


def new_ticket(client: ZendeskClient, **extra: Any) -> int:
    params = {"subject": "Broken login", "body": "I cannot log in", "requester_email": "new@customer.example"}
    return int(run(client, "create_ticket", **{**params, **extra})["id"])


def comments(client: ZendeskClient, ticket_id: int) -> list[dict[str, Any]]:
    audits = client.json("GET", f"/tickets/{ticket_id}/audits")["audits"]
    return [e for a in audits for e in a["events"] if e["type"] == "Comment"]


# -- connection and auth ---------------------------------------------------------------------------------
def test_connection_returns_the_tokens_agent(client: ZendeskClient) -> None:
    facts = client.test_connection()
    assert facts["email"] == "agent@acme.example" and facts["role"] == "admin" and facts["user_id"]
    assert CREDS["api_token"] not in repr(facts)


def test_bad_token_is_auth_error_with_zendesks_message(simulator: Any) -> None:
    with pytest.raises(AuthError) as info:
        make(simulator.url, api_token="bad-token-0001").test_connection()
    assert info.value.status == 401 and info.value.provider_code == "Couldn't authenticate you"
    assert "bad-token" not in info.value.message


def test_anonymous_user_is_treated_as_bad_credentials(client: ZendeskClient, sim: Any) -> None:
    sim.fault("zendesk", 200, path="/users/me", content_type="application/json",
              body='{"user": {"id": null, "name": "Anonymous user", "role": "end-user"}}')
    with pytest.raises(AuthError, match="anonymous"):
        client.test_connection()


def test_basic_auth_is_email_slash_token_and_base_url_has_the_subdomain(simulator: Any) -> None:
    sent: list[httpx.Request] = []
    make(simulator.url, sent=sent).test_connection()
    assert sent[0].headers["authorization"] == httpx.BasicAuth(
        "agent@acme.example/token", CREDS["api_token"])._auth_header
    creds = Credentials(CREDS, secret_fields=SPEC.secret_fields)
    assert ZendeskClient.resolve_base_url(SPEC.base_url, creds) == "https://acme.zendesk.com/api/v2"


# -- tickets -------------------------------------------------------------------------------------------------
def test_create_ticket_sends_idempotency_key_and_external_id(simulator: Any) -> None:
    sent: list[httpx.Request] = []
    client, steps = make(simulator.url, sent=sent), MemorySteps()
    created = run(client, "create_ticket", steps, subject="Refund", body="Please refund", priority="high",
                  requester_email="zoe@customer.example", requester_name="Zoe", tags=["refund"])
    post = next(r for r in sent if r.method == "POST")
    assert post.headers["idempotency-key"] == f"{steps.marker}:ticket" == created["external_id"]
    assert created["created"] is True and created["status"] == "new" and created["priority"] == "high"
    assert steps.values["ticket_id"] == created["id"]


def test_replayed_create_returns_the_same_ticket(client: ZendeskClient, sim: Any) -> None:
    first = MemorySteps()
    created = run(client, "create_ticket", first, subject="Once", body="only once")
    # same job, but its step log lost everything (e.g. restored from an old snapshot): the key replays
    replay = run(client, "create_ticket", MemorySteps(marker=first.marker), subject="Once", body="only once")
    assert replay["id"] == created["id"] and replay["created"] is False
    assert [c["status"] for c in sim.calls("zendesk", "POST", path=f"{PREFIX}/tickets")] == [201, 201]


def test_same_idempotency_key_with_other_parameters_is_rejected(client: ZendeskClient) -> None:
    steps = MemorySteps()
    run(client, "create_ticket", steps, subject="A", body="one")
    with pytest.raises(ProviderRejected) as info:
        run(client, "create_ticket", MemorySteps(marker=steps.marker), subject="B", body="two")
    assert info.value.status == 400 and info.value.provider_code == "IdempotentRequestError"


def test_create_ticket_after_crash_finds_it_by_external_id(client: ZendeskClient, sim: Any) -> None:
    crashing = CrashingSteps()
    with pytest.raises(Crash):
        run(client, "create_ticket", crashing, subject="Crashy", body="x")
    retry = MemorySteps(values=dict(crashing.values), marker=crashing.marker)
    again = run(client, "create_ticket", retry, subject="Crashy", body="x")
    assert again["created"] is False and retry.values["ticket_id"] == again["id"]
    assert len(sim.calls("zendesk", "POST", path=f"{PREFIX}/tickets")) == 1


def test_update_reply_and_note(client: ZendeskClient) -> None:
    tid = new_ticket(client)
    updated = run(client, "update_ticket", ticket_id=tid, status="open", priority="urgent", tags=["vip"])
    assert (updated["status"], updated["priority"], updated["tags"]) == ("open", "urgent", ["vip"])
    reply = run(client, "reply_to_ticket", ticket_id=tid, body="Looking into it", status="pending")
    assert reply["status"] == "pending" and reply["changed"] is True and reply["audit_id"]
    run(client, "add_internal_note", ticket_id=tid, body="Check the logs")
    posted = [(c["body"], c["public"]) for c in comments(client, tid)][1:]
    assert posted == [("Looking into it", True), ("Check the logs", False)]


def test_reply_is_stamped_and_not_repeated_after_a_crash(client: ZendeskClient) -> None:
    tid = new_ticket(client)
    crashing = CrashingSteps()
    with pytest.raises(Crash):
        run(client, "reply_to_ticket", crashing, ticket_id=tid, body="Only once please")
    audits = client.json("GET", f"/tickets/{tid}/audits")["audits"]
    assert audits[-1]["metadata"]["custom"] == {"sintra_ref": f"{crashing.marker}:reply"}
    retry = MemorySteps(values=dict(crashing.values), marker=crashing.marker)
    result = run(client, "reply_to_ticket", retry, ticket_id=tid, body="Only once please")
    assert result["changed"] is False and result["audit_id"] == audits[-1]["id"]
    assert [c["body"] for c in comments(client, tid)].count("Only once please") == 1


def test_update_of_a_closed_ticket_names_the_field(client: ZendeskClient) -> None:
    tid = new_ticket(client)
    run(client, "update_ticket", ticket_id=tid, status="closed")
    with pytest.raises(ProviderRejected) as info:
        run(client, "add_internal_note", ticket_id=tid, body="too late")
    assert info.value.status == 422 and info.value.provider_code == "RecordInvalid"
    assert "status: Status: closed prevents ticket update" in info.value.message


def test_search_pages_with_per_page_and_next_page(client: ZendeskClient, sim: Any,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ZendeskClient, "PAGE_SIZE", 2)
    found = run(client, "search_tickets", query="status<solved", limit=5, sort_by="created_at",
                sort_order="asc")
    assert len(found["tickets"]) == 5 and found["count"] == 24
    assert {t["status"] for t in found["tickets"]} <= {"new", "open", "pending", "hold"}
    created = [t["created_at"] for t in found["tickets"]]
    assert created == sorted(created)
    assert len(sim.calls("zendesk", "GET", path=f"{PREFIX}/search")) == 3


def test_pagination_link_to_another_host_is_refused(client: ZendeskClient, sim: Any) -> None:
    body = '{"macros": [{"id": 1, "title": "x"}], "meta": {"has_more": true}, ' \
           '"links": {"next": "https://evil.example/api/v2/macros?page[after]=x"}}'
    sim.fault("zendesk", 200, path="/macros", body=body, content_type="application/json")
    with pytest.raises(MalformedResponse, match="another host"):
        run(client, "list_macros", limit=10)


# -- help center ---------------------------------------------------------------------------------------------
def test_search_articles_in_all_locales_or_one_section(client: ZendeskClient) -> None:
    everywhere = run(client, "search_articles", query="password")
    assert {a["locale"] for a in everywhere["articles"]} == {"en-us", "fr"}
    assert "<em>" in everywhere["articles"][0]["snippet"]
    billing = run(client, "search_articles", query="billing", locale="en-us", section_id=SECTION_BILLING)
    assert billing["articles"] and {a["section_id"] for a in billing["articles"]} == {SECTION_BILLING}


def test_create_article_after_crash_is_found_by_title(client: ZendeskClient, sim: Any) -> None:
    params = {"section_id": SECTION_FAQ, "title": "Resetting 2FA", "body": "<p>Steps</p>",
              "permission_group_id": PERMISSION_GROUP, "label_names": ["2fa"]}
    crashing = CrashingSteps()
    with pytest.raises(Crash):
        run(client, "create_article", crashing, **params)
    retry = MemorySteps(values=dict(crashing.values), marker=crashing.marker)
    article = run(client, "create_article", retry, **params)
    assert article["created"] is False and article["draft"] is True and article["label_names"] == ["2fa"]
    assert len(sim.calls("zendesk", "POST", contains="/articles")) == 1


def test_create_article_with_unknown_permission_group_is_rejected(client: ZendeskClient) -> None:
    with pytest.raises(ProviderRejected, match="permission_group_id"):
        run(client, "create_article", section_id=SECTION_FAQ, title="x", body="y", permission_group_id=1)


# -- macros and satisfaction ---------------------------------------------------------------------------------
def test_list_macros_pages_and_filters(client: ZendeskClient, sim: Any,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ZendeskClient, "PAGE_SIZE", 2)
    active = run(client, "list_macros", limit=50)["macros"]
    assert len(active) == 6 and all(m["active"] for m in active)
    assert len(sim.calls("zendesk", "GET", path=f"{PREFIX}/macros")) == 3
    assert len(run(client, "list_macros", active_only=False, limit=50)["macros"]) == 7
    triage = run(client, "list_macros", category="triage")["macros"]
    assert {m["title"] for m in triage} == {"Triage::Escalate to tier 2", "Triage::Mark urgent"}


def test_apply_macro_saves_its_changes_and_comment_once(client: ZendeskClient, sim: Any) -> None:
    tid = new_ticket(client)
    macros = run(client, "list_macros")["macros"]
    macro = next(m for m in macros if m["title"] == "Triage::Escalate to tier 2")
    steps = MemorySteps()
    result = run(client, "apply_macro", steps, ticket_id=tid, macro_id=macro["id"])
    assert result["priority"] == "high" and result["tags"] == ["escalated", "tier2"]
    last = comments(client, tid)[-1]
    assert last["body"] == "Escalating to tier 2." and not last["public"]
    again = run(client, "apply_macro", steps, ticket_id=tid, macro_id=macro["id"])
    assert again["changed"] is False
    assert len(sim.calls("zendesk", "PUT", path=f"{PREFIX}/tickets/{tid}")) == 1


def test_satisfaction_ratings_filter_by_score_and_time(client: ZendeskClient, sim: Any) -> None:
    everything = run(client, "get_satisfaction_ratings", limit=100)
    assert everything["count"] == 25 and everything["by_score"]["good"] == 15
    assert everything["csat_pct"] == pytest.approx(100 * 15 / 20, abs=0.1)
    since = datetime.now(UTC) - timedelta(days=10)
    recent = run(client, "get_satisfaction_ratings", score="bad", start_time=since)
    assert recent["ratings"] and all(r["score"] == "bad" and r["created_at"] >= since.strftime("%Y-%m-%d")
                                     for r in recent["ratings"])


# -- rate limits and errors ----------------------------------------------------------------------------------
def test_rate_limit_headers_are_read_into_the_audit(simulator: Any) -> None:
    records: list[CallRecord] = []
    make(simulator.url, record=records.append).test_connection()
    limit = records[0].rate_limit
    assert limit is not None and limit.limit == 700 and limit.remaining == 699 and 0 < limit.reset_after <= 60


def test_rate_limit_prefers_retry_after_then_ratelimit_reset() -> None:
    client = ZendeskClient(http=httpx.Client(),
                           credentials=Credentials(CREDS, secret_fields=SPEC.secret_fields))
    both = httpx.Response(429, headers={"Retry-After": "7", "ratelimit-reset": "41", "x-rate-limit": "700",
                                        "x-rate-limit-remaining": "0"})
    assert client.rate_limit(both) == RateLimit(limit=700, remaining=0, reset_after=7.0)
    reset_only = httpx.Response(429, headers={"ratelimit-limit": "200", "ratelimit-remaining": "0",
                                              "ratelimit-reset": "41"})
    error = client.error_for(reset_only)
    assert isinstance(error, RateLimited) and error.retry_after == 41.0


def test_plain_text_429_is_rate_limited_with_retry_after(client: ZendeskClient, sim: Any) -> None:
    sim.fault("zendesk", 429, retry_after=13)
    with pytest.raises(RateLimited) as info:
        run(client, "list_macros")
    assert info.value.retry_after == 13.0 and "Rate limit exceeded" in info.value.message


def test_409_concurrent_change_is_retried(client: ZendeskClient, sim: Any) -> None:
    tid = new_ticket(client)
    sim.fault("zendesk", 409, path=f"/tickets/{tid}", method="PUT", content_type="application/json",
              body='{"error": "UpdateConflict", "description": "The ticket was updated by another request"}')
    steps = MemorySteps()
    with pytest.raises(ProviderUnavailable) as info:
        run(client, "reply_to_ticket", steps, ticket_id=tid, body="Retry me")
    assert info.value.status == 409 and will_retry(0, info.value, 5)
    assert run(client, "reply_to_ticket", steps, ticket_id=tid, body="Retry me")["changed"] is True
    assert [c["body"] for c in comments(client, tid)].count("Retry me") == 1


def test_error_title_and_message_shape_is_read(client: ZendeskClient, sim: Any) -> None:
    sim.fault("zendesk", 400, path="/search", content_type="application/json",
              body='{"error": {"title": "Invalid attribute", "message": "page must be an integer"}}')
    with pytest.raises(ProviderRejected) as info:
        run(client, "search_tickets", query="status:open")
    assert info.value.provider_code == "Invalid attribute" and "page must be an integer" in info.value.message
