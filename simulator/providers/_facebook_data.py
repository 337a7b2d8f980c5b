"""Generated data of the simulated Facebook Graph API: Page Insights values and Ads insights rows.

Numbers are stable for a given object, metric and day (a hash), so tests can compare two reads.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

from simulator.providers._graph import invalid, number

#: Page Insights metrics the simulator knows (views metrics replace the retired impressions).
PAGE_METRICS = ("page_media_view", "page_total_media_view_unique", "page_post_engagements", "page_follows",
                "page_daily_follows", "page_daily_follows_unique", "page_daily_unfollows_unique",
                "page_views_total", "page_total_actions", "page_video_views", "page_follows_country",
                "page_follows_city")
PERIODS = ("day", "week", "days_28", "lifetime")
#: Longest since/until window Page Insights answers.
MAX_DAYS = 90
#: Entities per ads insights level (one account, three campaigns, two ad sets each, two ads each).
LEVEL_SIZE = {"account": 1, "campaign": 3, "adset": 6, "ad": 12}
NAME_FIELDS = ("account_id", "account_name", "campaign_id", "campaign_name", "adset_id", "adset_name",
               "ad_id", "ad_name", "objective")
INT_FIELDS = ("impressions", "reach", "clicks", "unique_clicks", "inline_link_clicks")
FLOAT_FIELDS = ("spend", "ctr", "cpc", "cpm", "cpp", "frequency")
AD_FIELDS = frozenset((*NAME_FIELDS, *INT_FIELDS, *FLOAT_FIELDS, "date_start", "date_stop"))
PRESETS = ("today", "yesterday", "last_7d", "last_14d", "last_28d", "last_30d", "last_90d", "this_month",
           "last_month")


def _day(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        invalid(f"The parameter {name} must be a date (YYYY-MM-DD) or a unix timestamp")


def _when(value: str | None, name: str) -> date | None:
    if not value:
        return None
    return datetime.fromtimestamp(int(value), UTC).date() if value.isdigit() else _day(value, name)


def page_insights(page_id: str, query: Any) -> dict[str, Any]:
    """The answer of ``GET /{page_id}/insights``."""
    metrics = [m for m in (query.get("metric") or "").split(",") if m]
    if not metrics:
        invalid("No metric was specified to be fetched. Please specify one or more metrics to be fetched "
                "and try again.")
    for metric in metrics:
        if metric not in PAGE_METRICS:
            invalid("The value must be a valid insights metric")
    period = query.get("period") or "day"
    if period not in PERIODS:
        invalid(f"The parameter period must be one of: {', '.join(PERIODS)}")
    today = datetime.now(UTC).date()
    until = _when(query.get("until"), "until") or today
    since = _when(query.get("since"), "since") or until - timedelta(days=2)
    if (until - since).days > MAX_DAYS or until < since:
        invalid(f"There cannot be more than {MAX_DAYS} days ({MAX_DAYS * 86400} s) between since and until")
    days = [since + timedelta(days=n) for n in range((until - since).days)] or [since]
    if period == "lifetime":
        days = [until]
    data = []
    for metric in metrics:
        values = [{"value": number(f"{page_id}{metric}{d}", 10, 5000),
                   "end_time": f"{d + timedelta(days=1)}T07:00:00+0000"} for d in days]
        data.append({"name": metric, "period": period, "values": values, "title": metric.replace("_", " "),
                     "description": f"Simulated {metric}", "id": f"{page_id}/insights/{metric}/{period}"})
    return {"data": data}


def _preset_range(preset: str, today: date) -> tuple[date, date]:
    if preset == "today":
        return today, today
    if preset == "this_month":
        return today.replace(day=1), today
    if preset == "last_month":
        end = today.replace(day=1) - timedelta(days=1)
        return end.replace(day=1), end
    days = 1 if preset == "yesterday" else int(preset.removeprefix("last_").removesuffix("d"))
    return today - timedelta(days=days), today - timedelta(days=1)


def ad_range(query: Any) -> tuple[date, date]:
    """The days an insights request covers (``time_range`` wins over ``date_preset``)."""
    if raw := query.get("time_range"):
        try:
            value = json.loads(raw)
            since, until = _day(value["since"], "time_range"), _day(value["until"], "time_range")
        except (ValueError, KeyError, TypeError):
            invalid("The parameter time_range must be {'since':'YYYY-MM-DD','until':'YYYY-MM-DD'}")
        if until < since:
            invalid("time_range: since must be on or before until")
        return since, until
    preset = query.get("date_preset") or "last_30d"
    if preset not in PRESETS:
        invalid(f"The parameter date_preset must be one of: {', '.join(PRESETS)}")
    return _preset_range(preset, datetime.now(UTC).date())


def _buckets(since: date, until: date, increment: str) -> list[tuple[date, date]]:
    if increment == "all_days":
        return [(since, until)]
    out, start = [], since
    while start <= until:
        if increment == "monthly":
            nxt = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
        elif increment.isdigit() and 1 <= int(increment) <= 90:
            nxt = start + timedelta(days=int(increment))
        else:
            invalid("The parameter time_increment must be 1-90, monthly or all_days")
        out.append((start, min(nxt - timedelta(days=1), until)))
        start = nxt
    return out


def _names(account_id: str, level: str, n: int) -> dict[str, str]:
    campaign, adset = n * 3 // LEVEL_SIZE[level] if level != "account" else 0, n // 2 if level == "ad" else n
    return {"account_id": account_id.removeprefix("act_"), "account_name": f"Sim Ads {account_id[-4:]}",
            "campaign_id": f"2385{campaign:06d}", "campaign_name": f"Sim Campaign {campaign + 1}",
            "adset_id": f"2386{adset:06d}", "adset_name": f"Sim Ad Set {adset + 1}",
            "ad_id": f"2387{n:06d}", "ad_name": f"Sim Ad {n + 1}", "objective": "OUTCOME_TRAFFIC"}


def _measures(key: str, days: int) -> dict[str, str]:
    impressions = number(f"{key}i", 800, 20000) * days
    reach = impressions * number(f"{key}r", 50, 90) // 100
    clicks = impressions * number(f"{key}c", 5, 40) // 1000
    spend = round(impressions * number(f"{key}s", 200, 900) / 100000, 2)
    return {"impressions": str(impressions), "reach": str(reach), "clicks": str(clicks),
            "unique_clicks": str(clicks * 9 // 10), "inline_link_clicks": str(clicks * 8 // 10),
            "spend": f"{spend:.2f}", "ctr": f"{100 * clicks / impressions:.6f}",
            "cpc": f"{spend / clicks:.6f}" if clicks else "0", "cpm": f"{1000 * spend / impressions:.6f}",
            "cpp": f"{1000 * spend / reach:.6f}" if reach else "0", "frequency": f"{impressions / reach:.6f}"}


def ad_rows(account_id: str, query: Any) -> list[dict[str, Any]]:
    """The rows of an Ads insights request: one per entity of the level and per time bucket."""
    level = query.get("level") or "account"
    if level not in LEVEL_SIZE:
        invalid("The parameter level must be one of: ad, adset, campaign, account")
    fields = [f for f in (query.get("fields") or "spend,impressions").split(",") if f]
    for name in fields:
        if name not in AD_FIELDS:
            invalid(f"{name} is not valid for fields param. please check "
                    "https://developers.facebook.com/docs/marketing-api/reference/ads-insights/")
    since, until = ad_range(query)
    rows = []
    for start, end in _buckets(since, until, str(query.get("time_increment") or "all_days")):
        for n in range(LEVEL_SIZE[level]):
            values = _names(account_id, level, n) | _measures(f"{account_id}{level}{n}{start}",
                                                            (end - start).days + 1)
            rows.append({f: values[f] for f in fields if f in values}
                        | {"date_start": start.isoformat(), "date_stop": end.isoformat()})
    return rows
