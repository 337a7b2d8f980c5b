"""TikTok for Business (Business API v1.3) for Soshie: account analytics, audience and videos."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from pydantic import ConfigDict, Field

from config.catalog.base import LIMIT, IntegrationSpec, Params, act, field, ordered, token


def _yesterday() -> date:
    """Yesterday in UTC, the last full day of metrics."""
    return datetime.now(UTC).date() - timedelta(days=1)


def _week_ago() -> date:
    """The first day of the last seven full days (UTC)."""
    return _yesterday() - timedelta(days=6)


#: Default dates: TikTok keeps about 60 days of account metrics, so fixed dates (and examples) would go stale.
Start = Field(default_factory=_week_ago, description="First day; default: seven days before yesterday.")
End = Field(default_factory=_yesterday, description="Last day; default: yesterday (UTC).")


class PerformanceAnalytics(Params):
    """Parameters of ``get_performance_analytics``."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"fields": ["video_views", "likes", "comments", "shares", "followers_count"]}]})

    start_date: date = Start
    end_date: date = End
    fields: list[str] = Field(
        default_factory=lambda: ["followers_count", "profile_views", "video_views", "likes", "comments",
                                 "shares"],
        min_length=1, description="Account metrics to return (GET /business/get/ fields).")

    _range = ordered("start_date", "end_date")


class AudienceInsights(Params):
    """Parameters of ``get_audience_insights``."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"fields": ["audience_countries", "audience_genders"]}]})

    start_date: date = Start
    end_date: date = End
    fields: list[str] = Field(
        default_factory=lambda: ["audience_countries", "audience_genders", "audience_activity"],
        min_length=1, description="Audience fields of GET /business/get/.")

    _range = ordered("start_date", "end_date")


class ListVideos(Params):
    """Parameters of ``list_videos``."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"fields": ["item_id", "create_time", "caption", "video_views", "likes"], "limit": 10}]})

    fields: list[str] = Field(
        default_factory=lambda: ["item_id", "create_time", "caption", "video_views", "likes", "comments",
                                 "shares", "share_url"],
        min_length=1, description="Video fields to return.")
    limit: int = LIMIT


class TrendingHashtags(Params):
    """Parameters of ``trending_hashtags``."""

    country_code: str = Field(default="US", pattern=r"^[A-Z]{2}$", description="ISO country code.")
    limit: int = LIMIT


SPEC = IntegrationSpec(
    id="tiktok",
    provider="tiktok",
    name="TikTok for Business",
    credential_fields=(
        field("client_id", pattern="[0-9]{1,20}", pattern_hint="the numeric app id", example="7300000000000000001",
              description="TikTok developer app id (app_id)."),
        field("client_secret", secret=True, example="0123456789abcdef0123456789abcdef01234567",
              description="TikTok developer app secret."),
        token("refresh_token", example="rft.0123456789abcdef0123456789abcdef",
              description="Business-account refresh token (about 1 year)."),
        token("access_token", example="act.0123456789abcdef0123456789abcdef",
              description="Current access token (about 24 h), sent as the Access-Token header."),
        field("business_id", required=False, example="-000AbCdEfGh1234IjKlMnOpQrStUvWxYz",
              description="Open id of the TikTok business account (from the token answer when "
                          "connected with OAuth)."),
        field("advertiser_id", required=False, pattern="[0-9]{1,20}", pattern_hint="the numeric advertiser id",
              example="7000000000000000001", description="Advertiser id, for Marketing API reporting."),
    ),
    actions=(
        act("get_performance_analytics",
            "Daily account metrics: views, likes, comments, shares, followers, profile views "
            "(GET /business/get/ with start_date/end_date).", PerformanceAnalytics),
        act("get_audience_insights",
            "Audience countries, genders and activity hours of the account (GET /business/get/).",
            AudienceInsights),
        act("list_videos", "The account's videos with their metrics (GET /business/video/list/, cursor "
                           "paging).",
            ListVideos),
        act("trending_hashtags", "Trending hashtags in a country.", TrendingHashtags,
            restricted="No public endpoint for hashtag trends: Creative Center trends are UI-only and the "
                       "Research API is for academic researchers only."),
    ),
    implemented=True,
)
