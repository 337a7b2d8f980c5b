"""Facebook Graph API for Soshie: Page management, scheduled posts, Page and Ads insights."""

from __future__ import annotations

from datetime import date
from typing import Literal

from datetime import timedelta

from pydantic import Field, ValidationInfo, model_validator

from config.catalog.base import LIMIT, IntegrationSpec, Later, Params, act, ahead, examples, field, token


class GetPage(Params):
    """Parameters of ``get_page``."""

    model_config = examples({"fields": ["id", "name", "about", "fan_count"]})

    fields: list[str] = Field(
        default_factory=lambda: ["id", "name", "about", "category", "fan_count", "followers_count", "link",
                                 "website"],
        min_length=1, description="Page fields to read.")


class UpdatePageInfo(Params):
    """Parameters of ``update_page_info``: at least one field."""

    model_config = examples({"about": "Fresh bread daily", "emails": ["hello@bakery.example"]})

    about: str | None = Field(default=None, max_length=255, description="Short 'About' text.")
    description: str | None = Field(default=None, description="Long description.")
    website: str | None = Field(default=None, pattern=r"^https?://", description="Website URL.")
    phone: str | None = Field(default=None, description="Phone number.")
    emails: list[str] | None = Field(default=None, description="Contact e-mail addresses.")

    @model_validator(mode="after")
    def _something(self) -> UpdatePageInfo:
        if all(value is None for value in self.model_dump().values()):
            raise ValueError("give at least one Page field to change")
        return self


class PublishPagePost(Params):
    """Parameters of ``publish_page_post``."""

    model_config = examples({"message": "Hello from Sintra", "link": "https://bakery.example"})

    message: str = Field(min_length=1, max_length=63_206, description="Post text.")
    link: str | None = Field(default=None, pattern=r"^https?://", description="Link to attach.")


class ListScheduledPosts(Params):
    """Parameters of ``list_scheduled_posts``."""

    model_config = examples({"limit": 5})

    limit: int = LIMIT


class SchedulePost(Params):
    """Parameters of ``schedule_post``."""

    model_config = examples({"message": "Launch day", "publish_at": "+2d"})

    message: str = Field(min_length=1, max_length=63_206, description="Post text.")
    link: str | None = Field(default=None, pattern=r"^https?://", description="Link to attach.")
    publish_at: Later = Field(
        description="When to publish (timezone-aware, or relative to when the job runs: +2d, +3h, +45m): at "
                    "least 10 minutes and at most about 30 days ahead.")

    @model_validator(mode="after")
    def _aware(self, info: ValidationInfo) -> SchedulePost:
        if self.publish_at.utcoffset() is None:
            raise ValueError("publish_at needs a timezone (e.g. 2031-01-01T09:00:00Z)")
        ahead(info, "publish_at", self.publish_at, at_least=timedelta(minutes=10))  # Meta's rule
        return self


class CancelScheduledPost(Params):
    """Parameters of ``cancel_scheduled_post``."""

    model_config = examples({"post_id": "100000000000001_900000000000001"})

    post_id: str = Field(min_length=1, description="Id of the scheduled post ({page_id}_{post_id}).")


DatePreset = Literal["today", "yesterday", "last_7d", "last_14d", "last_28d", "last_30d", "last_90d",
                     "this_month", "last_month"]


class GetAdsInsights(Params):
    """Parameters of ``get_ads_insights``."""

    model_config = examples({"level": "campaign", "date_preset": "last_7d"})

    level: Literal["account", "campaign", "adset", "ad"] = Field(default="campaign",
                                                                 description="Aggregation level.")
    fields: list[str] = Field(
        default_factory=lambda: ["campaign_name", "spend", "impressions", "reach", "clicks", "ctr", "cpc"],
        min_length=1, description="Insights fields.")
    date_preset: DatePreset | None = Field(default="last_7d",
                                           description="Preset range; ignored with since/until.")
    since: date | None = Field(default=None, description="First day (with until).")
    until: date | None = Field(default=None, description="Last day (with since).")
    time_increment: int | Literal["monthly", "all_days"] = Field(default=1,
                                                                 description="Days per row, or a bucket.")
    limit: int = LIMIT

    @model_validator(mode="after")
    def _range(self) -> GetAdsInsights:
        if (self.since is None) != (self.until is None):
            raise ValueError("give both since and until, or neither")
        if self.since and self.until and self.until < self.since:
            raise ValueError("until must be on or after since")
        return self


#: Page Insights metrics Meta retired (15 Jun and 15 Nov 2025), with the metric that replaces each.
RETIRED_PAGE_METRICS: dict[str, str | None] = {
    "page_impressions": "page_media_view", "page_impressions_unique": "page_total_media_view_unique",
    "page_impressions_paid": "page_media_view", "page_impressions_paid_unique": None,
    "page_impressions_viral": None, "page_impressions_viral_unique": None, "page_impressions_nonviral": None,
    "page_impressions_nonviral_unique": None, "page_posts_impressions": None,
    "page_posts_impressions_unique": None, "page_posts_impressions_paid": None,
    "page_posts_impressions_organic_unique": None, "page_fans": "page_follows",
    "page_fans_city": "page_follows_city", "page_fans_country": "page_follows_country",
    "page_fans_locale": None, "page_fan_adds": None, "page_fan_adds_unique": None, "page_fan_removes": None,
    "page_fan_removes_unique": None,
}
#: Longest since/until window Page Insights answers.
MAX_INSIGHTS_DAYS = 90


class GetPageInsights(Params):
    """Parameters of ``get_page_insights``."""

    model_config = examples({"metrics": ["page_media_view", "page_follows"], "period": "day"})

    metrics: list[str] = Field(
        default_factory=lambda: ["page_media_view", "page_total_media_view_unique", "page_post_engagements",
                                 "page_follows"],
        min_length=1,
        description="Page Insights metric names. Page impressions and page_fans were retired on 15 Nov 2025: "
                    "use the views metrics (page_media_view, page_total_media_view_unique) and page_follows.")
    period: Literal["day", "week", "days_28", "lifetime"] = Field(default="day",
                                                                  description="Aggregation period.")
    since: date | None = Field(default=None, description="First day.")
    until: date | None = Field(default=None, description="Last day (at most 90 days after since).")

    @model_validator(mode="after")
    def _check(self) -> GetPageInsights:
        for metric in self.metrics:
            if metric.lower() in RETIRED_PAGE_METRICS:
                instead = RETIRED_PAGE_METRICS[metric.lower()]
                hint = f"; use {instead}" if instead else ""
                raise ValueError(f"Meta retired the Page metric {metric}{hint}")
        if self.since and self.until and not 0 <= (self.until - self.since).days <= MAX_INSIGHTS_DAYS:
            raise ValueError(f"until must be on or after since and at most {MAX_INSIGHTS_DAYS} days later")
        return self


SPEC = IntegrationSpec(
    id="facebook",
    provider="facebook",
    name="Facebook Pages",
    credential_fields=(
        field("client_id", description="Meta app id.",
              pattern=r"\d{5,20}", pattern_hint="the numeric Meta app id", example="1234567890"),
        field("client_secret", secret=True, description="Meta app secret (token exchange and "
                                                        "appsecret_proof).",
              example="00000000000000000000000000000000"),
        token("access_token",
              description="Set by Connect with Facebook, or paste a long-lived user token or system-user "
                          "token (Meta issues no refresh tokens); the "
                          "Page token is derived from it.",
              example="EAAG0000000000000000"),
        field("page_id", description="Facebook Page id.",
              pattern=r"\d{5,20}", pattern_hint="the numeric Page id", example="100000000000001"),
        field("ad_account_id", required=False, description="Ad account id (act_<id>), for get_ads_insights.",
              pattern=r"(?:act_)?\d{5,20}", pattern_hint="act_ followed by the ad account number",
              example="act_9988776655"),
    ),
    actions=(
        act("get_page", "Read the Page's profile (GET /{page_id}?fields=...).", GetPage),
        act("update_page_info", "Change the Page's about, description, website, phone or e-mails "
            "(POST /{page_id}, Page token with pages_manage_metadata).", UpdatePageInfo, side_effect=True),
        act("publish_page_post", "Publish a post now (POST /{page_id}/feed); the post id is stored for "
                                 "retries.",
            PublishPagePost, side_effect=True),
        act("list_scheduled_posts", "Posts waiting to be published (GET /{page_id}/scheduled_posts).",
            ListScheduledPosts),
        act("schedule_post", "Schedule a post (POST /{page_id}/feed with published=false and "
                             "scheduled_publish_time). Before a retry, scheduled_posts is checked so it is "
                             "not scheduled twice.",
            SchedulePost, side_effect=True),
        act("cancel_scheduled_post", "Delete a scheduled post before it goes out (DELETE /{post_id}).",
            CancelScheduledPost, side_effect=True),
        act("get_ads_insights", "Spend, reach and clicks of the ad account (GET /act_{id}/insights, "
                                "ads_read; large ranges use the async report_run_id flow).", GetAdsInsights,
            requires=("ad_account_id",)),
        act("get_page_insights", "Page metrics over time (GET /{page_id}/insights, read_insights).",
            GetPageInsights),
    ),
    reason="Needs Meta App Review for pages_manage_posts, pages_read_engagement, read_insights and ads_read "
           "(for users outside the app's roles).",
    implemented=True,
)
