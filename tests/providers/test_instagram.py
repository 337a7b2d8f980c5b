"""InstagramClient against the simulator over real HTTP: publishing, insights, comments, errors, resuming."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from config.catalog.integrations.instagram import SPEC
from simulator.urls import BASES
from workers.credentials.base import Credentials
from workers.errors import AuthError, MalformedResponse, ProviderRejected, ProviderUnavailable, RateLimited
from workers.providers.base import DEFAULT_RETRY_AFTER, CallRecord, MemorySteps
from workers.providers.instagram import InstagramClient

TOKEN = "IGAAsimulatedLongLivedToken0001"
IG_USER = "17841400000000001"
PHOTO = "https://cdn.example.com/sunset.jpg"
VIDEO = "https://cdn.example.com/clip.mp4"


@pytest.fixture(autouse=True)
def fast_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(InstagramClient, "POLL_INTERVAL", 0.01)


def account_id(url: str, token: str = TOKEN) -> str:
    """The simulated account id of ``token`` (what the user would enter as ig_user_id)."""
    me = httpx.get(url + BASES["instagram"] + "/me", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    return me.json()["id"]


def make_client(url: str, token: str = TOKEN, record: Any = None, **http: Any) -> InstagramClient:
    client = httpx.Client(base_url=url + BASES["instagram"], timeout=10, **http)
    creds = Credentials({"access_token": token, "ig_user_id": IG_USER}, secret_fields=SPEC.secret_fields)
    return InstagramClient(http=client, credentials=creds, record=record)


@pytest.fixture
def client(simulator: Any) -> Iterator[InstagramClient]:
    c = make_client(simulator.url)
    yield c
    c.http.close()


def run(client: InstagramClient, action: str, steps: MemorySteps | None = None, **params: Any) -> Any:
    return client.run(action, SPEC.action(action).params(**params), steps or MemorySteps())


def photo(client: InstagramClient, caption: str = "Sunset", **extra: Any) -> dict[str, Any]:
    return run(client, "publish_photo", image_url=PHOTO, caption=caption, **extra)


def feed(client: InstagramClient) -> list[dict[str, Any]]:
    return run(client, "list_media", limit=100)["media"]


# -- connection and auth -----------------------------------------------------------------------------
def test_connection_with_good_token_returns_account(client: InstagramClient, simulator: Any) -> None:
    facts = client.test_connection()
    assert facts["id"] == account_id(simulator.url) and facts["username"].startswith("sim_")
    assert facts["ig_user_id"] == IG_USER


def test_connection_with_bad_token_is_auth_error(simulator: Any) -> None:
    with pytest.raises(AuthError) as info:
        make_client(simulator.url, token="bad-token").test_connection()
    assert info.value.provider_code == "190" and "Cannot parse access token" in info.value.message


def test_token_travels_in_the_header_never_in_the_url(simulator: Any) -> None:
    requests: list[httpx.Request] = []
    client = make_client(simulator.url, event_hooks={"request": [requests.append]})
    photo(client)
    feed(client)
    assert requests and all(TOKEN not in str(r.url) and "access_token" not in str(r.url) for r in requests)
    assert all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in requests)


# -- publishing --------------------------------------------------------------------------------------
def test_publish_photo_polls_the_container_then_publishes(client: InstagramClient, sim: Any) -> None:
    steps = MemorySteps()
    result = run(client, "publish_photo", steps, image_url=PHOTO, caption="Sunset",
                 hashtags=["#travel", "sunset"], alt_text="Orange sky over the sea")
    assert result["media_type"] == "IMAGE" and result["permalink"].startswith("https://www.instagram.com/p/")
    assert steps.values == {"container_id": result["container_id"], "media_id": result["media_id"]}
    polls = sim.calls("instagram", "GET", path=f"{BASES['instagram']}/{result['container_id']}")
    assert len(polls) == 2
    [media] = feed(client)
    assert media["id"] == result["media_id"] and media["caption"] == "Sunset\n\n#travel #sunset"


def test_hashtags_are_validated() -> None:
    model = SPEC.action("publish_photo").params
    with pytest.raises(ValidationError):
        model(image_url=PHOTO, hashtags=[f"tag{i}" for i in range(31)])
    with pytest.raises(ValidationError, match="invalid hashtag"):
        model(image_url=PHOTO, hashtags=["two words"])
    caption = " ".join(f"#c{i}" for i in range(20))
    with pytest.raises(ValidationError, match="at most 30"):
        model(image_url=PHOTO, caption=caption, hashtags=[f"h{i}" for i in range(11)])


def test_container_error_is_a_clear_permanent_error(client: InstagramClient) -> None:
    with pytest.raises(ProviderRejected, match="Media download has failed"):
        run(client, "publish_photo", image_url="https://cdn.example.com/unreachable.jpg")


def test_poll_timeout_is_transient_and_the_rerun_resumes_the_container(
        client: InstagramClient, sim: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    steps = MemorySteps()
    monkeypatch.setattr(InstagramClient, "POLL_TIMEOUT", 0.0)
    with pytest.raises(ProviderUnavailable, match="IN_PROGRESS"):
        run(client, "publish_photo", steps, image_url=PHOTO)
    monkeypatch.setattr(InstagramClient, "POLL_TIMEOUT", 5.0)
    result = run(client, "publish_photo", steps, image_url=PHOTO)
    assert result["container_id"] == steps.get("container_id")
    assert len(sim.calls("instagram", "POST", contains="/media")) == 2  # one container, one publish


def test_publish_photo_rerun_after_publish_fault_publishes_once(client: InstagramClient, sim: Any) -> None:
    sim.fault("instagram", 500, path="/media_publish")
    steps = MemorySteps()
    with pytest.raises(ProviderUnavailable):
        run(client, "publish_photo", steps, image_url=PHOTO, caption="Once")
    assert steps.get("container_id") and steps.get("media_id") is None
    result = run(client, "publish_photo", steps, image_url=PHOTO, caption="Once")
    user = client.ig_user_id
    assert len(sim.calls("instagram", "POST", path=f"{BASES['instagram']}/{user}/media")) == 1
    assert [m["id"] for m in feed(client)] == [result["media_id"]]


def test_publish_with_stored_media_id_does_not_publish_again(client: InstagramClient, sim: Any) -> None:
    steps = MemorySteps()
    first = run(client, "publish_photo", steps, image_url=PHOTO)
    again = run(client, "publish_photo", steps, image_url=PHOTO)
    assert again["media_id"] == first["media_id"] and again["resumed"] is True
    assert len(sim.calls("instagram", "POST")) == 2 and len(feed(client)) == 1


def test_publish_reel(client: InstagramClient) -> None:
    result = run(client, "publish_reel", video_url=VIDEO, caption="Behind the scenes", hashtags=["bts"],
                 share_to_feed=False)
    assert result["media_type"] == "VIDEO"
    [media] = feed(client)
    assert media["media_product_type"] == "REELS" and media["caption"].endswith("#bts")


def test_publish_story_takes_exactly_one_media(client: InstagramClient) -> None:
    with pytest.raises(ValidationError, match="exactly one"):
        SPEC.action("publish_story").params(image_url=PHOTO, video_url=VIDEO)
    result = run(client, "publish_story", video_url=VIDEO)
    stories = client.json("GET", f"/{client.ig_user_id}/stories", params={"fields": "id,media_product_type"})
    assert [s["id"] for s in stories["data"]] == [result["media_id"]]
    assert feed(client) == []


def test_publish_carousel_creates_children_once(client: InstagramClient, sim: Any) -> None:
    children = [{"image_url": PHOTO, "alt_text": "one"}, {"image_url": PHOTO}, {"video_url": VIDEO}]
    sim.fault("instagram", 503, path="/media_publish")
    steps = MemorySteps()
    with pytest.raises(ProviderUnavailable):
        run(client, "publish_carousel", steps, children=children, caption="Trip")
    result = run(client, "publish_carousel", steps, children=children, caption="Trip")
    assert result["media_type"] == "CAROUSEL_ALBUM"
    assert len(sim.calls("instagram", "POST", path=f"{BASES['instagram']}/{client.ig_user_id}/media")) == 4
    assert len(feed(client)) == 1


def test_carousel_needs_two_to_ten_children() -> None:
    model = SPEC.action("publish_carousel").params
    with pytest.raises(ValidationError):
        model(children=[{"image_url": PHOTO}])
    with pytest.raises(ValidationError):
        model(children=[{"image_url": PHOTO}] * 11)


# -- insights and media ------------------------------------------------------------------------------
def test_media_insights_default_metrics(client: InstagramClient) -> None:
    media_id = photo(client)["media_id"]
    result = run(client, "get_media_insights", media_id=media_id)
    assert set(result["metrics"]) == {"views", "reach", "likes", "comments", "saved", "shares"}
    assert all(isinstance(v, int) and v > 0 for v in result["metrics"].values())
    with pytest.raises(ValidationError):
        SPEC.action("get_media_insights").params(media_id=media_id, metrics=["impressions"])


def test_account_insights_total_value_and_time_series(client: InstagramClient) -> None:
    totals = run(client, "get_account_insights")
    assert set(totals["metrics"]) == {"reach", "views", "accounts_engaged", "total_interactions"}
    assert all(isinstance(v, int) for v in totals["metrics"].values())
    series = run(client, "get_account_insights", metrics=["reach"], period="day", metric_type="time_series")
    assert len(series["metrics"]["reach"]) == 2 and "end_time" in series["metrics"]["reach"][0]
    with pytest.raises(ProviderRejected, match="metric_type=total_value"):
        run(client, "get_account_insights", metrics=["views"], metric_type="time_series")


def test_list_media_follows_cursors_and_honours_limit(client: InstagramClient, sim: Any,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    ids = [photo(client, caption=f"Post {i}")["media_id"] for i in range(3)]
    monkeypatch.setattr(InstagramClient, "PAGE_SIZE", 1)
    path = f"{BASES['instagram']}/{client.ig_user_id}/media"
    before = len(sim.calls("instagram", "GET", path=path))
    assert [m["id"] for m in run(client, "list_media", limit=2)["media"]] == ids[::-1][:2]
    assert len(sim.calls("instagram", "GET", path=path)) - before == 2
    assert [m["id"] for m in run(client, "list_media", limit=10)["media"]] == ids[::-1]
    assert len(sim.calls("instagram", "GET", path=path)) - before == 5


# -- comments ----------------------------------------------------------------------------------------
def test_comment_moderation(client: InstagramClient, sim: Any) -> None:
    media_id = photo(client)["media_id"]
    comments = run(client, "list_comments", media_id=media_id)["comments"]
    assert len(comments) == 3 and not any(c["hidden"] for c in comments)
    first, second = comments[0]["id"], comments[1]["id"]
    steps = MemorySteps()
    reply = run(client, "reply_to_comment", steps, comment_id=first, message="Thanks!")
    assert run(client, "reply_to_comment", steps, comment_id=first, message="Thanks!") == reply
    replies = client.json("GET", f"/{first}/replies", params={"fields": "id,text"})["data"]
    assert replies == [{"id": reply["reply_id"], "text": "Thanks!"}]
    assert run(client, "hide_comment", comment_id=first)["success"] is True
    steps = MemorySteps()
    run(client, "delete_comment", steps, comment_id=second)
    run(client, "delete_comment", steps, comment_id=second)
    after = run(client, "list_comments", media_id=media_id)["comments"]
    assert [(c["id"], c["hidden"]) for c in after] == [(first, True), (comments[2]["id"], False)]
    assert len(sim.calls("instagram", "DELETE")) == 1


def test_unknown_comment_is_rejected(client: InstagramClient) -> None:
    with pytest.raises(ProviderRejected) as info:
        run(client, "hide_comment", comment_id="123")
    assert info.value.provider_code == "100" and "does not exist" in info.value.message


# -- throttling, errors, audit -----------------------------------------------------------------------
def test_throttle_is_rate_limited_with_default_delay(client: InstagramClient, sim: Any) -> None:
    sim.fault("instagram", 429)
    with pytest.raises(RateLimited) as info:
        feed(client)
    assert info.value.retry_after == DEFAULT_RETRY_AFTER and info.value.provider_code == "4"


def test_throttle_delay_from_business_use_case_header(client: InstagramClient, sim: Any) -> None:
    usage = {client.ig_user_id: [{"type": "instagram", "call_count": 100, "total_cputime": 10,
                                  "total_time": 12, "estimated_time_to_regain_access": 3}]}
    sim.fault("instagram", 429, headers={"X-Business-Use-Case-Usage": json.dumps(usage)})
    with pytest.raises(RateLimited) as info:
        feed(client)
    assert info.value.retry_after == 180.0


def test_throttle_honours_retry_after(client: InstagramClient, sim: Any) -> None:
    sim.fault("instagram", 429, retry_after=9)
    with pytest.raises(RateLimited) as info:
        client.test_connection()
    assert info.value.retry_after == 9.0


def test_throttle_code_in_a_400_is_still_rate_limited(client: InstagramClient, sim: Any) -> None:
    body = {"error": {"message": "(#17) User request limit reached", "type": "OAuthException", "code": 17}}
    sim.fault("instagram", 400, body=json.dumps(body), content_type="application/json")
    with pytest.raises(RateLimited):
        client.test_connection()


def test_usage_headers_become_rate_limit(client: InstagramClient) -> None:
    usage = '{"call_count":72,"total_cputime":10,"total_time":15}'
    response = httpx.Response(200, headers={"X-App-Usage": usage})
    rl = client.rate_limit(response)
    assert rl is not None and rl.limit == 100 and rl.remaining == 28 and rl.reset_after is None


@pytest.mark.parametrize("status", [500, 503])
def test_server_errors_are_provider_unavailable(client: InstagramClient, sim: Any, status: int) -> None:
    sim.fault("instagram", status)
    with pytest.raises(ProviderUnavailable):
        feed(client)


def test_non_json_body_is_malformed_response(client: InstagramClient, sim: Any) -> None:
    sim.fault("instagram", 200, path="/me", body="<html>oops</html>")
    with pytest.raises(MalformedResponse):
        client.test_connection()


def test_audit_records_paths_without_query_string(simulator: Any) -> None:
    records: list[CallRecord] = []
    client = make_client(simulator.url, record=records.append)
    client.test_connection()
    media_id = run(client, "publish_photo", image_url=PHOTO)["media_id"]
    assert records[0].path == "/me" and records[0].status == 200
    assert all("?" not in r.path and TOKEN not in r.path for r in records)
    assert ("GET", f"/{media_id}") in [(r.method, r.path) for r in records]
    assert {r.action for r in records[1:]} == {"publish_photo"}
