"""XClient against the simulator over real HTTP: threads that resume, partial errors, rate limits, tokens."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from config.catalog.integrations.x import SPEC
from simulator.providers import x as sim_x
from simulator.urls import TOKENS
from tests.providers.cases.x import GOOD
from workers.credentials.base import Credentials
from workers.errors import (
    AuthError,
    CredentialsUnavailable,
    ProviderRejected,
    ProviderUnavailable,
    RateLimited,
)
from workers.providers.base import MemorySteps
from workers.providers.x import XClient, replied_to, shown_text

TOKEN_PATH = TOKENS["x"]


class CrashOn(MemorySteps):
    """A step log whose worker dies right after the post stored under ``key`` was created."""

    def __init__(self, key: str) -> None:
        super().__init__()
        self.key = key

    def put(self, key: str, value: Any) -> None:
        if key == self.key:
            raise RuntimeError(f"worker died before recording {key}")
        super().put(key, value)


def make_client(url: str, requests: list[httpx.Request] | None = None, **creds: str) -> XClient:
    hooks = {"request": [requests.append]} if requests is not None else {}
    http = httpx.Client(base_url=url + "/x", timeout=10, event_hooks=hooks)
    values = {k: v for k, v in {**GOOD, **creds}.items() if v}
    return XClient(http=http, credentials=Credentials(values, secret_fields=SPEC.secret_fields),
                   token_url=url + TOKEN_PATH)


@pytest.fixture
def client(simulator: Any) -> Iterator[XClient]:
    c = make_client(simulator.url)
    yield c
    c.http.close()


def run(client: XClient, action: str, steps: MemorySteps | None = None, **params: Any) -> Any:
    return client.run(action, SPEC.action(action).params(**params), steps or MemorySteps())


def post_calls(sim: Any) -> int:
    return len(sim.calls("x", "POST", path="/x/2/tweets"))


# -- threads ---------------------------------------------------------------------------------------
def test_thread_posts_form_a_reply_chain(client: XClient) -> None:
    texts = ["Launch day 1/3 https://sintra.ai/launch?utm=x & more", "2/3 <details>", "3/3 done"]
    result = run(client, "publish_thread", texts=texts)
    by_id = {p["id"]: p for p in client.recent_posts(10)}
    chain = [by_id[i] for i in result["post_ids"]]
    assert [shown_text(p) for p in chain] == texts
    assert [replied_to(p) for p in chain] == [None, *result["post_ids"][:2]]
    assert result["thread_id"] == result["post_ids"][0] and result["resumed_posts"] == 0


def test_thread_crash_after_a_post_resumes_the_chain_without_reposting(client: XClient, sim: Any,
                                                                       simulator: Any) -> None:
    texts = ["Resume 1/4 https://example.com/a", "Resume 2/4 & co", "Resume 3/4", "Resume 4/4"]
    crashing = CrashOn("post_2.id")
    with pytest.raises(RuntimeError):
        run(client, "publish_thread", crashing, texts=texts)
    assert post_calls(sim) == 2
    retry = MemorySteps(values=dict(crashing.values), marker=crashing.marker)
    result = run(make_client(simulator.url), "publish_thread", retry, texts=texts)  # a new worker
    assert post_calls(sim) == 4  # posts 3 and 4 only: post 1 came from the log, post 2 was found again
    assert result["resumed_posts"] == 2
    by_id = {p["id"]: p for p in client.recent_posts(10)}
    assert [replied_to(by_id[i]) for i in result["post_ids"]] == [None, *result["post_ids"][:3]]
    assert [shown_text(by_id[i]) for i in result["post_ids"]] == texts


def test_finished_thread_retried_posts_nothing(client: XClient, sim: Any) -> None:
    steps = MemorySteps()
    first = run(client, "publish_thread", steps, texts=["Once 1/2", "Once 2/2"])
    again = run(client, "publish_thread", steps, texts=["Once 1/2", "Once 2/2"])
    assert again["post_ids"] == first["post_ids"] and again["resumed_posts"] == 2
    assert post_calls(sim) == 2
    assert [p for p in steps.seen if p[0] == "thread posted"] == [("thread posted", 100.0)] * 2


def test_failed_post_after_intent_is_looked_up_then_created(client: XClient, sim: Any) -> None:
    sim.fault("x", 503, path="/x/2/tweets", method="POST")
    steps = MemorySteps()
    with pytest.raises(ProviderUnavailable):
        run(client, "publish_post", steps, text="Flaky network")
    result = run(client, "publish_post", steps, text="Flaky network")
    assert result["resumed"] is False and len(sim.calls("x", "GET", contains="/tweets")) == 1


def test_own_post_missing_from_the_timeline_is_retried_not_reposted(client: XClient, sim: Any,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    steps = MemorySteps()
    first = run(client, "publish_post", steps, text="Eventually listed")["post_id"]
    lost = MemorySteps(values={"intent:post": True}, marker=steps.marker)  # the id was never recorded
    monkeypatch.setattr(XClient, "LOOKBACK", 0)  # and the timeline does not show the post yet
    with pytest.raises(ProviderUnavailable, match="earlier attempt"):
        run(client, "publish_post", lost, text="Eventually listed")
    monkeypatch.setattr(XClient, "LOOKBACK", 20)
    again = run(client, "publish_post", lost, text="Eventually listed")
    assert (again["post_id"], again["resumed"]) == (first, True) and post_calls(sim) == 2


def test_duplicate_text_without_our_intent_is_rejected_not_auth(client: XClient) -> None:
    run(client, "publish_post", text="Same words")
    with pytest.raises(ProviderRejected) as info:
        run(client, "publish_post", text="Same words")
    assert info.value.status == 403 and "duplicate content" in info.value.message


def test_reply_to_unknown_post_names_the_parameter(client: XClient) -> None:
    with pytest.raises(ProviderRejected) as info:
        run(client, "publish_post", text="Hi", reply_to_post_id="42")
    assert info.value.provider_code == "invalid-request" and info.value.status == 400


# -- errors inside 200s ------------------------------------------------------------------------------
def test_post_metrics_keep_data_and_report_partial_errors(client: XClient) -> None:
    own = run(client, "publish_post", text="Metrics please")["post_id"]
    public = run(client, "search_recent", query="Thoughts", limit=10)["posts"][0]["id"]
    result = run(client, "get_post_metrics", post_ids=[own, public, "1234"], include_private=True)
    posts = {p["id"]: p for p in result["posts"]}
    assert set(posts) == {own, public} and result["missing"] == ["1234"]
    assert "non_public_metrics" in posts[own] and "non_public_metrics" not in posts[public]
    kinds = {(e["resource_id"], e["type"]) for e in result["errors"]}
    assert ("1234", "resource-not-found") in kinds and (public, "not-authorized-for-field") in kinds


def test_200_with_only_errors_is_rejected(client: XClient) -> None:
    with pytest.raises(ProviderRejected) as info:
        run(client, "get_user_metrics", user_id="99990001")
    assert info.value.status == 200 and info.value.provider_code == "resource-not-found"
    assert "Could not find user" in info.value.message


def test_user_metrics_of_another_user(client: XClient) -> None:
    result = run(client, "get_user_metrics", user_id="12345")
    assert result["id"] == "12345" and result["public_metrics"]["followers_count"] >= 100


# -- pagination ------------------------------------------------------------------------------------
def test_search_pages_with_next_token_up_to_limit(client: XClient, sim: Any,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(XClient, "PAGE_SIZE", 10)
    result = run(client, "search_recent", query="Thoughts", limit=25)
    assert len(result["posts"]) == 25 and len({p["id"] for p in result["posts"]}) == 25
    assert len(sim.calls("x", "GET", path="/x/2/tweets/search/recent")) == 3
    assert all(p["author_username"].startswith("sim_public") for p in result["posts"])
    assert len(run(client, "search_recent", query="Thoughts", limit=5)["posts"]) == 5


def test_search_older_than_seven_days_is_rejected(client: XClient) -> None:
    with pytest.raises(ProviderRejected) as info:
        run(client, "search_recent", query="Thoughts", start_time="2020-01-01T00:00:00Z")
    assert info.value.status == 400


# -- rate limits -----------------------------------------------------------------------------------
def test_rate_limit_headers_give_an_epoch_reset_as_a_delay() -> None:
    reset = int(time.time()) + 120
    response = httpx.Response(200, headers={"x-rate-limit-limit": "75", "x-rate-limit-remaining": "3",
                                            "x-rate-limit-reset": str(reset)})
    rl = XClient.rate_limit(XClient.__new__(XClient), response)  # the headers alone decide
    assert rl is not None and (rl.limit, rl.remaining) == (75, 3)
    assert rl.reset_after == pytest.approx(120, abs=2)


def test_spent_window_is_rate_limited_until_its_reset(client: XClient,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sim_x.LIMITS, "GET /2/tweets/search/recent", 1)
    run(client, "search_recent", query="Thoughts", limit=10)
    with pytest.raises(RateLimited) as info:
        run(client, "search_recent", query="Thoughts", limit=10)
    assert info.value.retry_after == pytest.approx(sim_x.WINDOW_S, abs=5)


# -- tokens ----------------------------------------------------------------------------------------
def test_refresh_rotates_and_the_used_refresh_token_is_dead(simulator: Any) -> None:
    requests: list[httpx.Request] = []
    client = make_client(simulator.url, requests, access_token="", refresh_token="acme.rt-first")
    run(client, "get_user_metrics")
    rotated = client.credentials["refresh_token"]
    assert rotated != "acme.rt-first" and float(client.credentials["expires_at"]) > time.time() + 7000
    token_call = next(r for r in requests if r.url.path == TOKEN_PATH)
    assert token_call.headers["authorization"].startswith("Basic ")  # a confidential app
    stale = make_client(simulator.url, access_token="", refresh_token="acme.rt-first")
    with pytest.raises(AuthError):
        run(stale, "get_user_metrics")


def test_public_client_sends_client_id_in_the_body(simulator: Any) -> None:
    requests: list[httpx.Request] = []
    client = make_client(simulator.url, requests, access_token="", client_secret="", refresh_token="acme.rt-p")
    run(client, "get_user_metrics")
    token_call = next(r for r in requests if r.url.path == TOKEN_PATH)
    assert "authorization" not in token_call.headers
    assert b"client_id=sintra-x-app" in token_call.content


def test_trends_use_the_app_token_and_never_refresh(simulator: Any, sim: Any) -> None:
    requests: list[httpx.Request] = []
    client = make_client(simulator.url, requests)
    trends = run(client, "get_trends", woeid=23424977, max_trends=3)["trends"]
    assert len(trends) == 3 and trends[0]["post_count"] > 0
    assert requests[-1].headers["authorization"] == f"Bearer {GOOD['bearer_token']}"
    with pytest.raises(AuthError):
        run(make_client(simulator.url, bearer_token="bad-app-token"), "get_trends", woeid=1)
    assert not sim.calls("x", "POST", path=TOKEN_PATH)


def test_trends_without_app_token_is_a_missing_credential(simulator: Any) -> None:
    with pytest.raises(CredentialsUnavailable):
        run(make_client(simulator.url, bearer_token=""), "get_trends", woeid=1)


def test_client_forbidden_is_an_auth_error(client: XClient, sim: Any) -> None:
    sim.fault("x", 403, path="/x/2/users/me")
    with pytest.raises(AuthError) as info:
        run(client, "get_user_metrics")
    assert info.value.provider_code == "client-forbidden"
