"""Facebook Page results: dicts the client builds from Graph API answers (Graph's own rows kept as sent)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from config.catalog.results.base import Registry, Result, desc, register


class Page(Result):
    """The Page's fields, as asked for."""

    page: dict[str, Any] = desc("The Page object with the requested fields (id, name, about, fan_count, ...).")


class PageUpdate(Result):
    """An update of the Page's info."""

    page_id: str = desc("The Page.")
    updated: list[str] = desc("The fields sent, sorted.")
    success: bool = desc("Graph's success flag.")


class Post(Result):
    """A post published or scheduled on the Page."""

    post_id: str = desc("The post's id (<page id>_<post id>).")
    message: str | None = desc("Its text.")
    permalink_url: str | None = desc("Its address on Facebook.")
    is_published: bool | None = desc("False while it is scheduled.")
    resumed: bool = desc("True when an earlier attempt of this job had already created it.")
    scheduled_publish_time: str | None = desc("When a scheduled post goes out (ISO 8601, UTC).")


class ScheduledPosts(Result):
    """The Page's scheduled posts."""

    page_id: str = desc("The Page.")
    scheduled_posts: list[dict[str, Any]] = desc("Posts (id, message, scheduled_publish_time, permalink_url).")
    count: int = desc("Number of posts returned.")


class CancelledPost(Result):
    """A scheduled post deleted."""

    post_id: str = desc("The post.")
    deleted: bool = desc("Always True once the job succeeds.")


class PageInsights(Result):
    """Page Insights metrics."""

    page_id: str = desc("The Page.")
    period: str = desc("day, week, days_28, ...")
    metrics: dict[str, list[dict[str, Any]]] = desc("Metric name -> values ({end_time, value}) per period.")


class AdsInsights(Result):
    """Ads Insights rows of the ad account."""

    ad_account_id: str = desc("The ad account (act_...).")
    level: str = desc("account, campaign, adset or ad.")
    rows: list[dict[str, Any]] = desc("Insights rows as Graph sends them (numbers are strings).")
    count: int = desc("Number of rows returned.")
    async_: bool = Field(alias="async", description="True when the report ran as an async job.")
    report_run_id: str | None = desc("The async report run, when there was one.")


RESULTS: Registry = register("facebook", {
    "get_page": Page, "update_page_info": PageUpdate, "publish_page_post": Post,
    "list_scheduled_posts": ScheduledPosts, "schedule_post": Post, "cancel_scheduled_post": CancelledPost,
    "get_page_insights": PageInsights, "get_ads_insights": AdsInsights,
})
