"""LinkedIn wire shapes: little-text commentary, Rest.li URNs, lists and time ranges, and result views."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import quote

#: Characters LinkedIn's "little" text format reserves in post commentary (unescaped, the text is cut).
_RESERVED = re.compile(r"[\\|{}@\[\]()<>*_~]|#(?!\w)")
_URL = re.compile(r"https?://\S+")
#: LinkedIn's answer to a post it already has names the existing post.
DUPLICATE = re.compile(r"duplicate of (urn:li:(?:share|ugcPost):\d+)")
STAT_KEYS = {"impressionCount": "impressions", "uniqueImpressionsCount": "unique_impressions",
             "clickCount": "clicks", "likeCount": "likes", "commentCount": "comments", "shareCount": "shares"}


def little_text(text: str) -> str:
    """Commentary in LinkedIn's little format: reserved characters escaped, URLs and #hashtags kept."""
    out, pos = [], 0
    for match in _URL.finditer(text):
        out += [_RESERVED.sub(lambda m: "\\" + m.group(0), text[pos: match.start()]), match.group(0)]
        pos = match.end()
    return "".join(out) + _RESERVED.sub(lambda m: "\\" + m.group(0), text[pos:])


def urn_param(urn: str) -> str:
    """A URN as Rest.li 2.0 wants it inside a URL: fully percent-encoded."""
    return quote(urn, safe="")


def restli_list(values: list[str]) -> str:
    """A Rest.li ``List(...)`` of encoded values (the parentheses and commas stay literal)."""
    return "List(" + ",".join(urn_param(v) for v in values) + ")"


def epoch_ms(day: date) -> int:
    """Midnight UTC of ``day`` in epoch milliseconds."""
    return int(datetime.combine(day, time.min, UTC).timestamp() * 1000)


def time_intervals(start: date, end: date, granularity: str) -> str:
    """``timeIntervals`` covering ``start`` through ``end`` (inclusive; LinkedIn's end is exclusive)."""
    return (f"(timeRange:(start:{epoch_ms(start)},end:{epoch_ms(end + timedelta(days=1))}),"
            f"timeGranularityType:{granularity})")


def until_utc_midnight(now: datetime | None = None) -> float:
    """Seconds until LinkedIn's daily limits reset (00:00 UTC)."""
    now = now or datetime.now(UTC)
    return (datetime.combine(now.date() + timedelta(days=1), time.min, UTC) - now).total_seconds()


def iso_day(ms: Any) -> str | None:
    """An epoch-milliseconds time as an ISO date (UTC)."""
    return datetime.fromtimestamp(int(ms) / 1000, UTC).date().isoformat() if ms is not None else None


def company(org: dict[str, Any]) -> dict[str, Any]:
    """An organization in Sintra's shape (fields a non-administrator cannot see are None)."""
    hq = next((loc for loc in org.get("locations") or [] if loc.get("locationType") == "HEADQUARTERS"), None)
    return {"id": str(org["id"]), "urn": f"urn:li:organization:{org['id']}", "name": org.get("localizedName"),
            "vanity_name": org.get("vanityName"), "website": org.get("localizedWebsite"),
            "description": org.get("localizedDescription"), "industries": org.get("industries"),
            "staff_count_range": org.get("staffCountRange"),
            "founded_year": (org.get("foundedOn") or {}).get("year"),
            "organization_type": org.get("organizationType"),
            "headquarters": (hq or {}).get("address"),
            "locations": [loc.get("address") for loc in org.get("locations") or []]}


def post_totals(elements: list[dict[str, Any]], urns: list[str]) -> list[dict[str, Any]]:
    """Share statistics summed per post (over time buckets), with the engagement rate recomputed."""
    totals = {urn: dict.fromkeys(STAT_KEYS.values(), 0) for urn in urns}
    for element in elements:
        post = totals.get(element.get("share") or element.get("ugcPost") or "")
        for key, name in STAT_KEYS.items():
            if post is not None:
                post[name] += element["totalShareStatistics"].get(key, 0)
    out = []
    for urn, t in totals.items():
        engaged = t["clicks"] + t["likes"] + t["comments"] + t["shares"]
        out.append({"post_urn": urn, **t, "engagement": round(engaged / t["impressions"], 4) if t["impressions"]
                    else 0.0})
    return out
