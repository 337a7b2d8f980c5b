"""Data of the simulated LinkedIn: organizations, Rest.li query syntax, little text and statistics."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

#: The company page every simulated member administers (the sample organization of LinkedIn's docs).
HOME_ORG = 2414183
KNOWN = {
    HOME_ORG: ("devtestco", "Devtestco", "https://www.devtestco.example", "SIZE_11_TO_50", 2014, "Redmond"),
    1337: ("linkedin", "LinkedIn", "https://www.linkedin.com", "SIZE_10001_OR_MORE", 2003, "Sunnyvale"),
    1035: ("microsoft", "Microsoft", "https://www.microsoft.com", "SIZE_10001_OR_MORE", 1975, "Redmond"),
}
#: Fields any member may read about any organization; administrators see all of them.
PUBLIC_FIELDS = ("id", "$URN", "name", "localizedName", "vanityName", "localizedWebsite", "logoV2", "locations",
                 "primaryOrganizationType")
_INTERVALS = re.compile(r"^\(timeRange:\(start:(\d+),end:(\d+)\),timeGranularityType:(DAY|MONTH)\)$")
_BRACKETS = set("()[]{}<>")
_URL = re.compile(r"https?://\S+")
DAY = timedelta(days=1)


def number(key: str, low: int, high: int) -> int:
    """A stable pseudo-random number in ``[low, high]`` for ``key``."""
    return low + int(hashlib.sha256(key.encode()).hexdigest()[:12], 16) % (high - low + 1)


def org_id_for(vanity: str) -> int:
    """The id of the organization with this vanity name (known ones first)."""
    known = next((i for i, v in KNOWN.items() if v[0] == vanity.lower()), None)
    return known if known is not None else number("org" + vanity.lower(), 10_000_000, 99_999_999)


def organization(org_id: int, vanity: str | None = None) -> dict[str, Any]:
    """The full (administrator's) view of an organization."""
    vanity_name, name, site, staff, founded, city = KNOWN.get(org_id) or (
        vanity or f"company-{org_id}", (vanity or f"Company {org_id}").replace("-", " ").title(),
        f"https://www.{vanity or org_id}.example", "SIZE_201_TO_500", 1990 + org_id % 30, "Dublin")
    return {"id": org_id, "$URN": f"urn:li:organization:{org_id}", "vanityName": vanity_name,
            "localizedName": name, "name": {"localized": {"en_US": name},
                                            "preferredLocale": {"country": "US", "language": "en"}},
            "localizedWebsite": site, "localizedDescription": f"{name} builds things.",
            "industries": [f"urn:li:industry:{4 + org_id % 20}"], "staffCountRange": staff,
            "foundedOn": {"year": founded}, "organizationType": "PUBLIC_COMPANY", "primaryOrganizationType": "NONE",
            "locations": [{"locationType": "HEADQUARTERS", "address": {"city": city, "country": "US"},
                           "streetAddressFieldState": "UNSET"}],
            "logoV2": {"original": f"urn:li:digitalmediaAsset:{hashlib.md5(name.encode()).hexdigest()[:12]}"},
            "versionTag": "12"}


def public_view(org: dict[str, Any]) -> dict[str, Any]:
    """What a non-administrator sees of an organization."""
    return {k: org[k] for k in PUBLIC_FIELDS if k in org}


def followers(org_id: int) -> int:
    """The organization's follower count."""
    return number(f"followers{org_id}", 500, 5_000_000) if org_id not in KNOWN else {
        HOME_ORG: 1842, 1337: 31_420_000, 1035: 25_310_000}[org_id]


def restli_list(value: str | None) -> list[str] | None:
    """The items of a decoded Rest.li ``List(a,b)``, or None when the value is not one."""
    if value is None or not (value.startswith("List(") and value.endswith(")")):
        return None
    return [v for v in value[5:-1].split(",") if v]


def time_intervals(value: str) -> tuple[datetime, datetime, str] | None:
    """``(timeRange:(start:ms,end:ms),timeGranularityType:DAY)`` as (start, end, granularity)."""
    match = _INTERVALS.match(value)
    if not match:
        return None
    start, end = (datetime.fromtimestamp(int(v) / 1000, UTC) for v in match.group(1, 2))
    return start, end, match.group(3)


def ms(when: datetime) -> int:
    """Epoch milliseconds."""
    return int(when.timestamp() * 1000)


def buckets(start: datetime, end: datetime, granularity: str) -> list[tuple[datetime, datetime]]:
    """The day or month buckets that cover ``[start, end)``, starting at midnight UTC."""
    out: list[tuple[datetime, datetime]] = []
    day = datetime.combine(start.date(), datetime.min.time(), UTC)
    while day < end:
        nxt = (day.replace(day=1) + timedelta(days=32)).replace(day=1) if granularity == "MONTH" else day + DAY
        out.append((day, min(nxt, datetime.combine(end.date(), datetime.min.time(), UTC) + DAY)))
        day = nxt
    return out


def share_statistics(key: str) -> dict[str, Any]:
    """Organic share statistics, stable for ``key`` (a post URN and a bucket)."""
    impressions = number(key + "imp", 50, 20000)
    stats = {"impressionCount": impressions, "uniqueImpressionsCount": impressions * 4 // 5,
             "clickCount": impressions // 25, "likeCount": impressions // 60, "commentCount": impressions // 400,
             "shareCount": impressions // 900}
    engaged = sum(stats[k] for k in ("clickCount", "likeCount", "commentCount", "shareCount"))
    return {**stats, "engagement": round(engaged / impressions, 4)}


def page_statistics(key: str) -> dict[str, Any]:
    """A bucket of ``totalPageStatistics``."""
    views = number(key + "views", 20, 3000)
    desktop = views * 3 // 5
    return {"views": {"allPageViews": {"pageViews": views}, "allDesktopPageViews": {"pageViews": desktop},
                      "allMobilePageViews": {"pageViews": views - desktop},
                      "overviewPageViews": {"pageViews": views // 2}, "careersPageViews": {"pageViews": views // 5}},
            "clicks": {"careersPageClicks": {"careersPageJobsClicks": views // 40}}}


def follower_gains(key: str) -> dict[str, int]:
    """A bucket of ``followerGains``."""
    return {"organicFollowerGain": number(key + "org", 0, 60), "paidFollowerGain": number(key + "paid", 0, 8)}


def today() -> date:
    """The current UTC date."""
    return datetime.now(UTC).date()


def truncate_little(text: str) -> str:
    """What LinkedIn keeps of a commentary: text is cut at the first unescaped bracket outside a URL."""
    out: list[str] = []
    pos = 0
    for match in [*_URL.finditer(text), None]:
        chunk = text[pos: match.start() if match else len(text)]
        n = 0
        while n < len(chunk):
            if chunk[n] == "\\":
                n += 2
                continue
            if chunk[n] in _BRACKETS:
                return "".join(out) + chunk[:n]
            n += 1
        out.append(chunk)
        if match:
            out.append(match.group(0))
            pos = match.end()
    return "".join(out)
