"""Conformance case: Soshie / Instagram."""

from __future__ import annotations

from typing import Any

from config.catalog.integrations.instagram import SPEC
from tests.providers.cases import ProviderCase
from workers.providers.base import MemorySteps
from workers.providers.instagram import InstagramClient

InstagramClient.POLL_INTERVAL = 0.02
IMG = "https://cdn.example.com/a.jpg"


def _media(client: Any) -> str:
    params = SPEC.action("publish_photo").params(image_url=IMG, caption="fixture")
    return str(client.run("publish_photo", params, MemorySteps())["media_id"])


def _comment(client: Any) -> str:
    media = _media(client)
    listed = client.run("list_comments", SPEC.action("list_comments").params(media_id=media), MemorySteps())
    return str(listed["comments"][0]["id"])


def _count_posts(client: Any, params: dict[str, Any]) -> int:
    listed = client.run("list_media", SPEC.action("list_media").params(limit=100), MemorySteps())
    return sum(1 for m in listed["media"] if (m.get("caption") or "").startswith(params["caption"]))


CASE = ProviderCase(
    spec=SPEC, client=InstagramClient,
    good={"access_token": "IGAAgoodToken0001", "ig_user_id": "17841400000000001"},
    bad={"access_token": "badToken0001", "ig_user_id": "17841400000000001"},
    actions={
        "publish_photo": {"image_url": IMG, "caption": "Hello", "hashtags": ["a", "b"]},
        "publish_reel": {"video_url": "https://cdn.example.com/v.mp4", "caption": "Reel"},
        "publish_story": {"image_url": IMG},
        "publish_carousel": {"caption": "Carousel", "children": [{"image_url": IMG}, {"image_url": IMG}]},
        "get_media_insights": lambda c: {"media_id": _media(c)},
        "get_account_insights": {},
        "list_media": {"limit": 5},
        "list_comments": lambda c: {"media_id": _media(c)},
        "reply_to_comment": lambda c: {"comment_id": _comment(c), "message": "Thanks!"},
        "hide_comment": lambda c: {"comment_id": _comment(c)},
        "delete_comment": lambda c: {"comment_id": _comment(c)},
    },
    probe=("list_media", {"limit": 5}),
    create=("publish_photo", {"image_url": IMG, "caption": "Crash test"}),
    count_created=_count_posts,
)
