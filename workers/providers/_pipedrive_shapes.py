"""Pipedrive wire shapes for :mod:`workers.providers.pipedrive`: headers, error bodies and summaries."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import httpx

from workers.providers._parse import json_dict as body_of  # the name the Pipedrive client reads


#: Largest ``limit`` the v2 list endpoints accept.
V2_PAGE = 500
#: Page size for the v1 changelog (Pipedrive does not state a maximum; 100 is what its UI uses).
CHANGELOG_PAGE = 100


def _int(value: str | None) -> int | None:
    try:
        return int(float(value)) if value is not None else None
    except ValueError:
        return None


def error_text(response: httpx.Response) -> tuple[str, str | None]:
    """``{"success": false, "error", "error_info", "code"}``; raw text otherwise."""
    body = body_of(response)
    if body is None or not body.get("error"):
        return response.text, None
    code = body.get("code") or body.get("errorCode")
    info = body.get("error_info")
    text = str(body["error"])
    if info and "developers.pipedrive.com" not in str(info):
        text += f" ({info})"
    return text, str(code) if code is not None else None


def rfc3339(value: datetime) -> str:
    """A UTC time as the v2 API expects it (``2025-01-01T10:20:00Z``)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


DEAL_FIELDS = ("id", "title", "value", "currency", "status", "pipeline_id", "stage_id", "owner_id",
               "person_id", "org_id", "probability", "expected_close_date", "lost_reason", "add_time",
               "update_time", "stage_change_time", "won_time", "lost_time", "close_time")
ACTIVITY_FIELDS = ("id", "subject", "type", "done", "due_date", "due_time", "duration", "deal_id",
                   "person_id", "org_id", "owner_id", "note", "add_time", "update_time",
                   "marked_as_done_time")
STAGE_FIELDS = ("id", "name", "order_nr", "deal_probability", "is_deal_rot_enabled", "days_to_rotten")


def deal(d: Mapping[str, Any]) -> dict[str, Any]:
    """The facts of a deal (v2 object), custom fields included."""
    out = {k: d.get(k) for k in DEAL_FIELDS}
    out["id"] = d["id"]
    out["custom_fields"] = d.get("custom_fields") or {}
    return out


def activity(a: Mapping[str, Any]) -> dict[str, Any]:
    """The facts of an activity (v2 object)."""
    out = {k: a.get(k) for k in ACTIVITY_FIELDS}
    out["id"] = a["id"]
    return out


def pipeline(p: Mapping[str, Any], stages: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """A pipeline with its stages in board order."""
    ordered = sorted((s for s in stages if s.get("pipeline_id") == p["id"] and not s.get("is_deleted")),
                     key=lambda s: (s.get("order_nr") or 0, s["id"]))
    return {"id": p["id"], "name": p.get("name"), "order_nr": p.get("order_nr"),
            "is_selected": p.get("is_selected"),
            "deal_probability_enabled": p.get("is_deal_probability_enabled"),
            "stages": [{k: s.get(k) for k in STAGE_FIELDS} for s in ordered]}


def stage_summary(stage: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, Any]:
    """One stage's row from ``GET /v1/deals/summary`` (values converted to the company currency)."""
    weighted = data.get("weighted_values_total") or {}
    by_currency = {cur: {"count": v.get("count"), "value": v.get("value"),
                         "weighted_value": (weighted.get(cur) or {}).get("value")}
                   for cur, v in (data.get("values_total") or {}).items()}
    return {"stage_id": stage["id"], "stage_name": stage.get("name"), "pipeline_id": stage.get("pipeline_id"),
            "order_nr": stage.get("order_nr"), "deal_probability": stage.get("deal_probability"),
            "count": data["total_count"], "value": data.get("total_currency_converted_value"),
            "weighted_value": data.get("total_weighted_currency_converted_value"), "by_currency": by_currency}


def period(p: Mapping[str, Any]) -> dict[str, Any]:
    """One period of ``GET /v1/deals/timeline`` without the deals list."""
    totals = p.get("totals") or {}
    return {"period_start": p["period_start"], "period_end": p.get("period_end"),
            "count": totals.get("count"),
            "open_count": totals.get("open_count"), "won_count": totals.get("won_count"),
            "values": totals.get("values") or {}, "weighted_values": totals.get("weighted_values") or {},
            "open_values": totals.get("open_values") or {}, "won_values": totals.get("won_values") or {},
            "converted": p.get("totals_converted") or totals.get("totals_converted") or {}}
