"""LinkedIn results (Soshie's Page and Buddy's company insights): posts, statistics and organizations."""

from __future__ import annotations

from typing import Any

from config.catalog.results.base import Registry, Result, desc, register


class Published(Result):
    """A post or article published as the organization."""

    post_urn: str = desc("The post's URN.")
    url: str = desc("The post on LinkedIn.")
    resumed: bool = desc("True when an earlier attempt of this job had already published it.")


class PostTotals(Result):
    """Share statistics of one post, summed over the range."""

    post_urn: str = desc("The post.")
    impressions: int = desc("Impressions.")
    clicks: int = desc("Clicks.")
    likes: int = desc("Likes.")
    comments: int = desc("Comments.")
    shares: int = desc("Shares.")
    engagement: float = desc("(clicks + likes + comments + shares) / impressions.")


class PostAnalytics(Result):
    """Statistics of the organization's posts (lifetime, or over a date range)."""

    organization_urn: str = desc("The organization.")
    start_date: str | None = desc("First day counted (None: lifetime totals).")
    end_date: str | None = desc("Last day counted (None: lifetime totals).")
    posts: list[PostTotals] = desc("One entry per post asked for.")


class Bucket(Result):
    """Page views and follower gains of one time bucket."""

    start: str | None = desc("First day of the bucket.")
    end: str | None = desc("Day after the bucket.")
    page_views: int = desc("Page views.")
    organic_follower_gain: int = desc("Followers gained organically.")
    paid_follower_gain: int = desc("Followers gained from ads.")


class OrganizationStatistics(Result):
    """The organization Page's statistics over a date range."""

    organization_urn: str = desc("The organization.")
    granularity: str = desc("DAY or MONTH.")
    buckets: list[Bucket] = desc("One per time bucket, in order.")
    totals: dict[str, int] = desc("page_views, organic_follower_gain and paid_follower_gain summed.")
    followers: int | None = desc("Current number of followers.")


class Organization(Result):
    """An organization (fields a non-administrator cannot see are None)."""

    id: str = desc("The organization's id.")
    urn: str = desc("Its URN.")
    name: str | None = desc("Its name.")
    vanity_name: str | None = desc("Its name in its Page's address.")
    website: str | None = desc("Its website.")
    description: str | None = desc("Its description.")
    industries: list[str] | None = desc("Its industries (URNs).")
    staff_count_range: str | None = desc("Its size band.")
    founded_year: int | None = desc("The year it was founded.")
    organization_type: str | None = desc("PUBLIC_COMPANY, PRIVATELY_HELD, ...")
    headquarters: dict[str, Any] | None = desc("The headquarters' address.")
    locations: list[dict[str, Any] | None] = desc("The addresses of its locations.")
    followers: int | None = desc("Current number of followers.")


RESULTS: Registry = register("linkedin", {
    "publish_post": Published, "publish_article": Published, "get_post_analytics": PostAnalytics,
    "get_organization_statistics": OrganizationStatistics, "get_organization": Organization,
}) | register("linkedin_sales", {"get_company_insights": Organization})
