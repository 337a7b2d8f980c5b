"""Instagram API with Instagram Login (Graph v25.0): publishing, insights and comment moderation.

Publishing is container -> poll until FINISHED -> ``media_publish``; media must sit on a public HTTPS URL
(Meta fetches it). Metrics use ``views``: ``impressions`` and ``plays`` were retired in 2025.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from config.catalog.base import LIMIT, IntegrationSpec, Params, act, exactly_one, examples, field, token

#: Instagram's caption limit, hashtags included.
MAX_CAPTION = 2200
#: Instagram's limit on hashtags in one post.
MAX_HASHTAGS = 30
_TAG = re.compile(r"^\w{1,100}$")
_TAG_IN_TEXT = re.compile(r"#\w+")

GraphId = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^\d+$", description="Graph object id.")]
MediaUrl = Annotated[str, Field(max_length=2048, pattern=r"^https://\S+$",
                                description="Public HTTPS URL Meta can fetch the media from.")]
MediaMetric = Literal["views", "reach", "likes", "comments", "saved", "shares", "total_interactions",
                      "follows", "profile_visits", "profile_activity", "replies", "navigation",
                      "ig_reels_avg_watch_time", "ig_reels_video_view_total_time"]
AccountMetric = Literal["reach", "views", "follower_count", "online_followers", "accounts_engaged",
                        "total_interactions", "likes", "comments", "shares", "saves", "replies",
                        "follows_and_unfollows", "profile_links_taps"]


def normalise_hashtag(tag: str) -> str:
    """``tag`` without its leading ``#``, or a validation error when Instagram would not link it."""
    tag = tag.strip().removeprefix("#")
    if not _TAG.match(tag) or tag.isdigit():
        raise ValueError(f"invalid hashtag {tag!r}: letters, digits and _ only, not all digits, <= 100 chars")
    return tag


class Captioned(Params):
    """Caption plus hashtags appended as ``#tags``, within Instagram's limits."""

    caption: str = Field(default="", max_length=MAX_CAPTION, description="Post caption.")
    hashtags: list[str] = Field(default_factory=list, max_length=MAX_HASHTAGS,
                                description="Hashtags (with or without #) appended to the caption.")

    @field_validator("hashtags")
    @classmethod
    def _tags(cls, tags: list[str]) -> list[str]:
        return list(dict.fromkeys(normalise_hashtag(t) for t in tags))

    @model_validator(mode="after")
    def _limits(self) -> Captioned:
        text = self.full_caption()
        if len(text) > MAX_CAPTION:
            raise ValueError(f"caption with hashtags is {len(text)} chars; Instagram allows {MAX_CAPTION}")
        if len(_TAG_IN_TEXT.findall(text)) > MAX_HASHTAGS:
            raise ValueError(f"Instagram allows at most {MAX_HASHTAGS} hashtags per post")
        return self

    def full_caption(self) -> str:
        """The caption as published: text, a blank line, then the hashtags."""
        tags = " ".join(f"#{t}" for t in self.hashtags)
        return "\n\n".join(part for part in (self.caption.strip(), tags) if part)


class PublishPhoto(Captioned):
    """A single-image feed post."""

    model_config = examples({"image_url": "https://cdn.example.com/a.jpg", "caption": "Hello", "hashtags": ["a", "b"]})

    image_url: MediaUrl
    alt_text: str | None = Field(default=None, max_length=1000, description="Alternative text of the image.")


class PublishReel(Captioned):
    """A reel (video)."""

    model_config = examples({"video_url": "https://cdn.example.com/v.mp4", "caption": "Reel"})

    video_url: MediaUrl
    share_to_feed: bool = Field(default=True, description="Also show the reel in the feed grid.")
    cover_url: MediaUrl | None = Field(default=None, description="Cover image URL.")
    thumb_offset: int | None = Field(default=None, ge=0, description="Cover frame offset in milliseconds.")


class _OneMedia(Params):
    image_url: MediaUrl | None = Field(default=None, description="Public HTTPS URL of the image (or give video_url).")
    video_url: MediaUrl | None = Field(default=None, description="Public HTTPS URL of the video (or give image_url).")

    _exactly_one = exactly_one("image_url", "video_url")


class PublishStory(_OneMedia):
    """A story (image or video; stories take no caption)."""

    model_config = examples({"image_url": "https://cdn.example.com/a.jpg"})


class CarouselItem(_OneMedia):
    """One image or video of a carousel."""

    alt_text: str | None = Field(default=None, max_length=1000, description="Alternative text (images only).")

    @model_validator(mode="after")
    def _alt_for_images(self) -> CarouselItem:
        if self.alt_text and self.video_url:
            raise ValueError("alt_text is supported on images only")
        return self


class PublishCarousel(Captioned):
    """A carousel post of 2 to 10 images and videos."""

    model_config = examples(
        {"caption": "Carousel",
         "children": [{"image_url": "https://cdn.example.com/a.jpg"}, {"image_url": "https://cdn.example.com/b.jpg"}]},
    )

    children: list[CarouselItem] = Field(min_length=2, max_length=10, description="Carousel items, in order.")


class MediaInsights(Params):
    """Metrics of one media object."""

    model_config = examples({"media_id": "17890000000000001"})

    media_id: GraphId
    metrics: list[MediaMetric] = Field(default=["views", "reach", "likes", "comments", "saved", "shares"],
                                       min_length=1, description="Metrics to read.")


class AccountInsights(Params):
    """Metrics of the account."""

    model_config = examples({"metrics": ["reach", "views"], "period": "day"})

    metrics: list[AccountMetric] = Field(default=["reach", "views", "accounts_engaged", "total_interactions"],
                                         min_length=1, description="Metrics to read.")
    period: Literal["day", "week", "days_28", "lifetime"] = Field(default="day",
                                                                  description="Aggregation period.")
    metric_type: Literal["time_series", "total_value"] = Field(
        default="total_value",
        description="total_value: one number per metric (most metrics need it); "
                    "time_series: dated values (reach, follower_count, online_followers only).")
    since: datetime | None = Field(default=None, description="Start of the range.")
    until: datetime | None = Field(default=None, description="End of the range.")


class ListMedia(Params):
    """The account's feed media and reels, newest first."""

    model_config = examples({"limit": 5})

    limit: int = LIMIT


class ListComments(Params):
    """Top-level comments of one media object."""

    model_config = examples({"media_id": "17890000000000001"})

    media_id: GraphId
    limit: int = LIMIT


class ReplyToComment(Params):
    """Reply to a comment."""

    model_config = examples({"comment_id": "17859000000000001", "message": "Thanks!"})

    comment_id: GraphId
    message: str = Field(min_length=1, max_length=MAX_CAPTION, description="Reply text.")


class HideComment(Params):
    """Hide or unhide a comment."""

    model_config = examples({"comment_id": "17859000000000002"})

    comment_id: GraphId
    hide: bool = Field(default=True, description="True hides, False shows again.")


class CommentRef(Params):
    """One comment."""

    model_config = examples({"comment_id": "17859000000000003"})

    comment_id: GraphId


SPEC = IntegrationSpec(
    id="instagram",
    provider="instagram",
    name="Instagram",
    implemented=True,
    credential_fields=(
        field("client_id", required=False, description="Instagram app id (for \"Connect with Instagram\").",
              pattern=r"\d{5,20}", pattern_hint="the numeric Instagram app id", example="990000000000001"),
        field("client_secret", secret=True, required=False, description="Instagram app secret (code exchange).",
              example="00000000000000000000000000000000"),
        token("access_token",
              description="Long-lived Instagram User access token (set by \"Connect with Instagram\").",
              example="IGAAsandbox0000000000000"),
        field("ig_user_id", required=False,
              description="Instagram professional account id (from the token answer when connected with OAuth).",
              pattern=r"\d{5,25}", pattern_hint="the numeric Instagram account id", example="17841400000000001"),
    ),
    actions=(
        act("publish_photo", "Publish a single-image post.", PublishPhoto, side_effect=True),
        act("publish_reel", "Publish a reel (a video shown in Reels, and in the feed unless share_to_feed is "
            "false).", PublishReel, side_effect=True),
        act("publish_story", "Publish a story (one image or video, visible for 24 hours, no caption).",
            PublishStory, side_effect=True),
        act("publish_carousel", "Publish a carousel of 2-10 images/videos.", PublishCarousel,
            side_effect=True),
        act("get_media_insights", "Read engagement metrics of one post.", MediaInsights),
        act("get_account_insights", "Read account metrics over a period.", AccountInsights),
        act("list_media", "List the account's media (paginated).", ListMedia),
        act("list_comments", "List a post's comments (paginated).", ListComments),
        act("reply_to_comment", "Reply to a comment.", ReplyToComment, side_effect=True),
        act("hide_comment", "Hide or unhide a comment.", HideComment, side_effect=True),
        act("delete_comment", "Delete a comment.", CommentRef, side_effect=True),
    ),
)
