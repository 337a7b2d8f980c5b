"""X (Twitter) results: posts and threads published, user and post metrics, search and trends (API v2)."""

from __future__ import annotations

from typing import Any

from config.catalog.results.base import Registry, Result, desc, register


class Published(Result):
    """A post published."""

    post_id: str = desc("The post's id.")
    url: str = desc("The post on x.com.")
    resumed: bool = desc("True when an earlier attempt of this job had already posted it.")


class Thread(Result):
    """A thread published, each post replying to the one before."""

    thread_id: str = desc("The first post's id.")
    post_ids: list[str] = desc("Every post's id, in order.")
    url: str = desc("The thread on x.com.")
    resumed_posts: int = desc("Posts an earlier attempt of this job had already published.")


class User(Result):
    """A user's public metrics."""

    id: str = desc("The user's id.")
    username: str | None = desc("Their handle.")
    name: str | None = desc("Their display name.")
    verified: bool | None = desc("Whether they are verified.")
    created_at: str | None = desc("When the account was created.")
    public_metrics: dict[str, int] = desc("followers_count, following_count, tweet_count, listed_count, ...")


class Post(Result):
    """A post in Sintra's shape."""

    id: str | None = desc("The post's id.")
    text: str | None = desc("Its text.")
    created_at: str | None = desc("When it was posted.")
    author_id: str | None = desc("Its author.")
    public_metrics: dict[str, int] | None = desc("retweet_count, reply_count, like_count, impression_count, ...")


class PostMetrics(Result):
    """Metrics of posts by id."""

    posts: list[Post] = desc("The posts found (private metrics too, when asked and allowed).")
    missing: list[str] = desc("Ids X returned no post for.")
    errors: list[dict[str, Any]] = desc("X's per-post problems, summarised.")


class SearchPost(Post):
    """A post found by search."""

    author_username: str | None = desc("Its author's handle.")


class Search(Result):
    """Recent posts matching a query (last 7 days)."""

    query: str = desc("The query.")
    posts: list[SearchPost] = desc("The posts, newest first.")
    result_count: int = desc("Number returned.")


class Trend(Result):
    """A trend."""

    name: str = desc("The trend.")
    post_count: int | None = desc("Posts about it, when X says.")


class Trends(Result):
    """Trends of a place."""

    woeid: int = desc("The place (Yahoo! Where On Earth id).")
    trends: list[Trend] = desc("The trends, up to max_trends.")


RESULTS: Registry = register("x", {
    "publish_post": Published, "publish_thread": Thread, "get_user_metrics": User,
    "get_post_metrics": PostMetrics, "search_recent": Search, "get_trends": Trends,
})
