"""Instagram results: published media, insights and comments from the Instagram Graph API."""

from __future__ import annotations

from typing import Any

from config.catalog.results.base import Registry, Result, desc, register


class Published(Result):
    """A photo, reel, story or carousel published."""

    media_id: str = desc("The published media's id.")
    container_id: str | None = desc("The media container it was published from.")
    permalink: str | None = desc("Its address on Instagram (stories have none).")
    media_type: str | None = desc("IMAGE, VIDEO or CAROUSEL_ALBUM.")
    timestamp: str | None = desc("When it was published.")
    caption: str | None = desc("Its caption.")
    resumed: bool = desc("True when an earlier attempt of this job had already published it.")


class MediaInsights(Result):
    """Insights of one media."""

    media_id: str = desc("The media.")
    metrics: dict[str, Any] = desc("Metric -> value (views, reach, likes, comments, saved, shares, ...).")


class AccountInsights(Result):
    """Insights of the account."""

    ig_user_id: str = desc("The Instagram professional account.")
    period: str = desc("day, week, days_28, ...")
    metrics: dict[str, Any] = desc("Metric -> value (a number, or dated values).")


class Media(Result):
    """The account's latest media."""

    media: list[dict[str, Any]] = desc("Media (id, caption, media_type, permalink, timestamp, like_count, ...).")
    count: int = desc("Number returned.")


class Comments(Result):
    """Comments on one media."""

    media_id: str = desc("The media.")
    comments: list[dict[str, Any]] = desc("Comments (id, text, username, timestamp, like_count, hidden).")
    count: int = desc("Number returned.")


class Reply(Result):
    """A reply to a comment."""

    comment_id: str = desc("The comment replied to.")
    reply_id: str = desc("The reply's id.")


class Hidden(Result):
    """A comment hidden or shown."""

    comment_id: str = desc("The comment.")
    hidden: bool = desc("Whether it is now hidden.")
    success: bool = desc("Graph's success flag.")


class Deleted(Result):
    """A comment deleted."""

    comment_id: str = desc("The comment.")
    deleted: bool = desc("Always True once the job succeeds.")


RESULTS: Registry = register("instagram", {
    "publish_photo": Published, "publish_reel": Published, "publish_story": Published,
    "publish_carousel": Published, "get_media_insights": MediaInsights, "get_account_insights": AccountInsights,
    "list_media": Media, "list_comments": Comments, "reply_to_comment": Reply, "hide_comment": Hidden,
    "delete_comment": Deleted,
})
