"""Posts and users of the simulated X: how X stores and shows them (t.co links, escaped text, fields)."""

from __future__ import annotations

import hashlib
import html
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from simulator.control import hex_id

URL = re.compile(r"https?://\S+")
#: Longest text of a standard (non-Premium) account; every URL counts as 23 characters.
MAX_WEIGHTED = 280
TOPICS = ("AI agents", "marketing automation", "product launch", "remote work", "climate tech", "web3",
          "customer support", "SaaS pricing")
DEFAULT_FIELDS = ("id", "text", "edit_history_tweet_ids")
TWEET_FIELDS = frozenset({"created_at", "author_id", "public_metrics", "lang", "conversation_id",
                          "referenced_tweets", "entities", "reply_settings", "note_tweet", "non_public_metrics",
                          "organic_metrics"})
USER_FIELDS = frozenset({"created_at", "description", "public_metrics", "verified", "username", "name"})


def number(key: str, low: int, high: int) -> int:
    """A stable pseudo-random number in ``[low, high]`` for ``key``."""
    return low + int(hashlib.sha256(key.encode()).hexdigest()[:12], 16) % (high - low + 1)


def stamp(when: datetime) -> str:
    """X's timestamp form, e.g. ``2026-09-01T12:00:00.000Z``."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def parse_time(value: str) -> datetime:
    """An RFC 3339 time as X accepts it (raises ValueError)."""
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def make_user(key: str, name: str | None = None) -> dict[str, Any]:
    """A user whose numbers are stable for ``key``."""
    uid = str(number("user" + key, 10**17, 10**18 - 1))
    handle = re.sub(r"[^A-Za-z0-9_]", "", key)[:11] or "user"
    return {"id": uid, "username": f"sim_{handle}", "name": name or f"Simulated {handle}",
            "created_at": "2019-04-01T10:00:00.000Z", "description": "A simulated X account", "verified": False,
            "public_metrics": {"followers_count": number(key + "f", 100, 90000),
                               "following_count": number(key + "g", 10, 3000),
                               "tweet_count": number(key + "t", 50, 20000),
                               "listed_count": number(key + "l", 0, 400), "like_count": number(key + "k", 0, 9000),
                               "media_count": number(key + "m", 0, 800)}}


def weighted_length(text: str) -> int:
    """Text length as X counts it: each URL is 23 characters."""
    return len(URL.sub("x" * 23, text))


def _links(raw: str, media_ids: list[str], username: str, post_id: str) -> tuple[str, list[dict[str, Any]]]:
    """Text with every URL (and attached media) replaced by a t.co link, and the ``entities.urls``."""
    urls: list[dict[str, Any]] = []

    def shorten(match: re.Match[str]) -> str:
        short = f"https://t.co/{hex_id(10)}"
        urls.append({"url": short, "expanded_url": match.group(0),
                     "display_url": match.group(0).split("://", 1)[1][:25]})
        return short

    text = URL.sub(shorten, raw)
    for n, media_id in enumerate(media_ids[:1]):
        short = f"https://t.co/{hex_id(10)}"
        text += f" {short}"
        urls.append({"url": short, "expanded_url": f"https://x.com/{username}/status/{post_id}/photo/{n + 1}",
                     "display_url": f"pic.x.com/{hex_id(10)}", "media_key": f"3_{media_id}"})
    shown = html.escape(text, quote=False)
    for url in urls:
        url["start"] = shown.find(url["url"])
        url["end"] = url["start"] + len(url["url"])
    return shown, urls


def make_post(post_id: str, raw: str, author: dict[str, Any], *, reply_to: dict[str, Any] | None = None,
              quote_id: str | None = None, media_ids: list[str] | None = None, age: timedelta = timedelta(),
              reply_settings: str = "everyone") -> dict[str, Any]:
    """A post as X stores it: shown text with t.co links and HTML escapes, metrics starting at zero."""
    text, urls = _links(raw, media_ids or [], author["username"], post_id)
    refs = []
    if reply_to is not None:
        refs.append({"type": "replied_to", "id": reply_to["id"]})
    if quote_id:
        refs.append({"type": "quoted", "id": quote_id})
    seeded = age > timedelta()
    post: dict[str, Any] = {
        "id": post_id, "text": text, "raw": raw, "author_id": author["id"], "lang": "en",
        "created": datetime.now(UTC) - age, "edit_history_tweet_ids": [post_id],
        "conversation_id": reply_to["conversation_id"] if reply_to else post_id, "reply_settings": reply_settings,
        "public_metrics": {k: number(post_id + k, 0, 900) if seeded else 0
                           for k in ("retweet_count", "reply_count", "like_count", "quote_count",
                                     "bookmark_count", "impression_count")}}
    if urls:
        post["entities"] = {"urls": urls}
    if refs:
        post["referenced_tweets"] = refs
    return post


def view(post: dict[str, Any], fields: set[str], *, owner: bool) -> dict[str, Any]:
    """The post with X's default fields plus the requested ``tweet.fields`` (private ones for the owner)."""
    out = {k: post[k] for k in DEFAULT_FIELDS}
    extra = {**post, "created_at": stamp(post["created"])}
    if owner:
        impressions = number(post["id"] + "imp", 10, 5000)
        extra["non_public_metrics"] = {"impression_count": impressions, "url_link_clicks": impressions // 40,
                                       "user_profile_clicks": impressions // 60}
        extra["organic_metrics"] = {"impression_count": impressions, **{
            k: post["public_metrics"][k] for k in ("like_count", "reply_count", "retweet_count")},
            "url_link_clicks": impressions // 40, "user_profile_clicks": impressions // 60}
    for name in fields & TWEET_FIELDS:
        if name in extra:
            out[name] = extra[name]
    return out


def user_view(user: dict[str, Any], fields: set[str]) -> dict[str, Any]:
    """The user with ``id, name, username`` plus the requested ``user.fields``."""
    return {**{k: user[k] for k in ("id", "name", "username")}, **{f: user[f] for f in fields & USER_FIELDS}}


def matches(post: dict[str, Any], query: str) -> bool:
    """A small subset of X search: quoted phrases and words must appear, ``-word`` must not, operators pass."""
    text = post["raw"].lower()
    phrases = re.findall(r'"([^"]+)"', query)
    words = [w for w in re.sub(r'"[^"]*"', " ", query).split() if ":" not in w and w.upper() != "OR"]
    must = [p.lower() for p in phrases] + [w.lower().strip("()") for w in words if not w.startswith("-")]
    never = [w[1:].lower() for w in words if w.startswith("-") and len(w) > 1]
    return all(m in text for m in must if m) and not any(n in text for n in never)


def corpus() -> list[tuple[str, str, int]]:
    """Public posts of other users the search finds: (author key, text, hours ago)."""
    out = []
    for n in range(48):
        topic = TOPICS[n % len(TOPICS)]
        out.append((f"public{n % 9}", f"Thoughts on {topic} #{topic.split()[0].lower()} take {n}", 2 + n * 3))
    return out


def trends(woeid: int, count: int) -> list[dict[str, Any]]:
    """Trending topics for a place: stable per WOEID."""
    names = [f"#{t.replace(' ', '')}" for t in TOPICS] + [f"Topic {woeid % 97}-{n}" for n in range(50)]
    return [{"trend_name": name, "tweet_count": number(f"{woeid}{name}", 1000, 250000)} for name in names[:count]]
