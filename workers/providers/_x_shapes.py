"""X API v2 wire shapes: problem entries, post text as typed, reply targets, timestamps and result views."""

from __future__ import annotations

import html
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any


from workers.providers._parse import json_dict as json_dict  # re-exported for the X client


def problem_summary(error: Mapping[str, Any]) -> dict[str, Any]:
    """One entry of X's ``errors[]`` in a short, stable form."""
    kind = str(error.get("type") or "")
    return {"resource_id": error.get("resource_id") or error.get("value"), "title": error.get("title"),
            "detail": error.get("detail") or error.get("message"), "type": kind.rsplit("/", 1)[-1] or None}


def shown_text(post: Mapping[str, Any]) -> str:
    """A post's text as its author typed it: t.co links expanded, media links dropped, HTML unescaped."""
    text = str((post.get("note_tweet") or {}).get("text") or post.get("text") or "")
    for url in (post.get("entities") or {}).get("urls") or []:
        if url.get("url"):
            text = text.replace(url["url"], "" if url.get("media_key") else url.get("expanded_url", url["url"]))
    return html.unescape(text).strip()


def replied_to(post: Mapping[str, Any]) -> str | None:
    """The id of the post this one replies to, if any."""
    refs = post.get("referenced_tweets") or []
    return next((str(r["id"]) for r in refs if r.get("type") == "replied_to" and r.get("id")), None)


def x_time(value: datetime) -> str:
    """An RFC 3339 UTC timestamp as X expects it; a naive time is taken as UTC."""
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def post_view(post: Mapping[str, Any], users: Mapping[str, str] | None = None) -> dict[str, Any]:
    """A post in Sintra's shape, with its author's username when the page expanded it."""
    view = {k: post.get(k) for k in ("id", "text", "created_at", "author_id", "lang", "public_metrics")}
    if users is not None:
        view["author_username"] = users.get(str(post.get("author_id")))
    for extra in ("non_public_metrics", "organic_metrics"):
        if extra in post:
            view[extra] = post[extra]
    return view
