"""X (Twitter) API v2 as Soshie uses it: posts, threads, metrics, recent search and trends."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import ConfigDict, Field

from config.catalog.base import LIMIT, IntegrationSpec, Params, act, field, token

#: Longest post text X accepts (280 for standard accounts, longer posts need X Premium).
MAX_POST_TEXT = 25_000

PostText = Annotated[str, Field(min_length=1, max_length=MAX_POST_TEXT)]
#: X's ids (posts, users, media) are decimal numbers up to 19 digits, sent as strings.
XId = Annotated[str, Field(pattern=r"^[0-9]{1,19}$")]
#: The @XDevelopers account's public user id (any numeric id answers in the simulator).
SANDBOX_USER = "2244994945"


class PublishPost(Params):
    """Parameters of ``publish_post``."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "text": "Our spring collection is live: https://acme.example/spring", "reply_settings": "following"}]})

    text: PostText = Field(description="Post text: 280 characters unless the account has X Premium.")
    media_ids: list[XId] = Field(default_factory=list, max_length=4,
                                 description="Ids returned by POST /2/media/upload (up to 4).")
    reply_to_post_id: XId | None = Field(default=None, description="Post id to reply to.")
    quote_post_id: XId | None = Field(default=None, description="Post id to quote.")
    reply_settings: Literal["following", "mentionedUsers", "subscribers"] | None = Field(
        default=None, description="Who may reply; everyone when omitted.")


class PublishThread(Params):
    """Parameters of ``publish_thread``."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"texts": [
        "How we plan a product launch, a thread (1/3)", "First, we talk to ten customers (2/3)",
        "Then we ship the smallest useful thing (3/3)"]}]})

    texts: list[PostText] = Field(min_length=2, max_length=25,
                                  description="Post texts in order; each one replies to the previous.")
    media_ids: list[XId] = Field(default_factory=list, max_length=4,
                                 description="Media for the first post only.")


class GetUserMetrics(Params):
    """Parameters of ``get_user_metrics``."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"user_id": SANDBOX_USER}]})

    user_id: XId | None = Field(default=None,
                                description="User id; the authenticated user (GET /2/users/me) when omitted.")


class GetPostMetrics(Params):
    """Parameters of ``get_post_metrics``."""

    # the example names the first two public posts the simulator's sandbox is seeded with
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"post_ids": ["1950000000000000000", "1950000000000000001"]}]})

    post_ids: list[XId] = Field(min_length=1, max_length=100, description="Post ids to look up.")
    include_private: bool = Field(
        default=False,
        description="Also ask for non_public_metrics and organic_metrics (own posts of the last 30 days "
                    "only).")


class SearchRecent(Params):
    """Parameters of ``search_recent``."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"query": "Thoughts", "limit": 20}]})

    query: str = Field(min_length=1, max_length=512, description="X search query (operators allowed).")
    start_time: datetime | None = Field(default=None, description="Oldest post time (at most 7 days ago).")
    end_time: datetime | None = Field(default=None, description="Newest post time.")
    limit: int = LIMIT


class GetTrends(Params):
    """Parameters of ``get_trends``."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"woeid": 23424977, "max_trends": 10}]})

    woeid: int = Field(ge=1, description="Yahoo! Where On Earth id: 1 worldwide, 23424977 United States.")
    max_trends: int = Field(default=20, ge=1, le=50, description="Number of trends to return.")


SPEC = IntegrationSpec(
    id="x",
    provider="x",
    name="X (Twitter)",
    credential_fields=(
        field("client_id", example="M1M5R3BMVy13QmpScXkzTUt5OE46MTpjaQ",
              description="OAuth 2.0 client id of the X app."),
        field("client_secret", secret=True, required=False,
              example="0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN",
              description="OAuth 2.0 client secret (confidential apps only; PKCE public apps have none)."),
        token("refresh_token", example="bWVtYmVyLXJlZnJlc2gtdG9rZW4tMDEyMzQ1Njc4OQ",
              description="User-context refresh token (scopes tweet.read tweet.write users.read "
                          "offline.access media.write); set by Connect with X."),
        token("access_token", example="bWVtYmVyLWFjY2Vzcy10b2tlbi0wMTIzNDU2Nzg5",
              description="Current user access token, if any."),
        token("bearer_token", example="AAAAAAAAAAAAAAAAAAAAA0123456789abcdef",
              description="App-only Bearer token, used for get_trends."),
    ),
    actions=(
        act("publish_post", "Publish one post (POST /2/tweets); the returned post id is stored for retries.",
            PublishPost, side_effect=True),
        act("publish_thread",
            "Publish a thread: each post replies to the previous one via reply.in_reply_to_tweet_id. Posted "
            "ids are stored step by step so a retry resumes after the last one.",
            PublishThread, side_effect=True),
        act("get_user_metrics",
            "Follower, following, post and listed counts (user.fields=public_metrics).", GetUserMetrics),
        act("get_post_metrics",
            "Public metrics of posts (GET /2/tweets?ids=...&tweet.fields=public_metrics), plus private ones "
            "for the user's own recent posts when asked.", GetPostMetrics),
        act("search_recent",
            "Posts of the last 7 days matching a query (GET /2/tweets/search/recent, paged by next_token).",
            SearchRecent),
        act("get_trends",
            "Trending topics for a location (GET /2/trends/by/woeid/{woeid}) with the app-only Bearer token; "
            "billed per request under X's pay-per-use credits.", GetTrends, requires=("bearer_token",)),
    ),
    reason="Needs an X developer app with pay-per-use credits: every request is billed (a post about $0.015, "
           "reads per resource).",
    implemented=True,
)
