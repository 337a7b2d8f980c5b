"""TikTok results: Business API account metrics, audience and videos."""

from __future__ import annotations

from typing import Any

from config.catalog.results.base import Registry, Result, desc, register


class _Range(Result):
    business_id: str = desc("The TikTok business account.")
    start_date: str = desc("First day.")
    end_date: str = desc("Last day.")


class Performance(_Range):
    """Account metrics per day over a date range."""

    account: dict[str, Any] = desc("Account-level fields asked for (followers_count, ...).")
    daily: list[dict[str, Any]] = desc("Per day: date and the daily metrics asked for.")
    totals: dict[str, float] = desc("Additive metrics (video_views, likes, comments, shares, ...) summed.")


class Audience(_Range):
    """The account's audience."""

    audience: dict[str, Any] = desc("audience_countries, audience_genders, ... as TikTok sends them.")
    activity_by_hour: dict[str, int] | None = desc("Active followers per hour of day (when asked for).", None)


class Videos(Result):
    """The account's videos with their metrics."""

    business_id: str = desc("The TikTok business account.")
    videos: list[dict[str, Any]] = desc("Videos (item_id, create_time, caption and the metrics asked for).")
    count: int = desc("Number returned.")


RESULTS: Registry = register("tiktok", {
    "get_performance_analytics": Performance, "get_audience_insights": Audience, "list_videos": Videos,
})
