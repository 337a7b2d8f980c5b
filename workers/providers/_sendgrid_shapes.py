"""Request bodies and result summaries of the SendGrid client (pure functions, no I/O)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

#: The ``custom_args`` key that carries the job marker on every mail we send.
MARKER_ARG = "sintra_job"
#: Counters summed into totals, and the rates derived from them (numerator, denominator).
RATES = {"delivery_rate": ("delivered", "requests"), "unique_open_rate": ("unique_opens", "delivered"),
         "unique_click_rate": ("unique_clicks", "delivered"), "bounce_rate": ("bounces", "requests"),
         "spam_report_rate": ("spam_reports", "delivered"), "unsubscribe_rate": ("unsubscribes", "delivered")}


def job_tag(marker: str, key: str) -> str:
    """A short tag, unique to this job and object, put in an internal name to find the object again."""
    return "[" + hashlib.sha256(f"{marker}:{key}".encode()).hexdigest()[:12] + "]"


def utc(value: datetime) -> datetime:
    """``value`` in UTC (a naive time is taken as UTC)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _address(a: Any) -> dict[str, str]:
    return a.model_dump(exclude_none=True)


def mail_body(params: Any, marker: str) -> dict[str, Any]:
    """The ``POST /v3/mail/send`` body, with the job marker in ``custom_args``."""
    personalization: dict[str, Any] = {"to": [_address(a) for a in params.to]}
    if params.dynamic_template_data:
        personalization["dynamic_template_data"] = params.dynamic_template_data
    body: dict[str, Any] = {"personalizations": [personalization], "from": _address(params.sender),
                            "custom_args": {**params.custom_args, MARKER_ARG: marker}}
    if params.subject:
        body["subject"] = params.subject
    content = [{"type": kind, "value": value} for kind, value in (("text/plain", params.text),
                                                                   ("text/html", params.html)) if value]
    if content:  # text/plain must come before text/html
        body["content"] = content
    if params.template_id:
        body["template_id"] = params.template_id
    if params.reply_to:
        body["reply_to"] = _address(params.reply_to)
    if params.categories:
        body["categories"] = params.categories
    if params.send_at is not None:
        body["send_at"] = int(utc(params.send_at).timestamp())
    return body


def single_send_body(params: Any, tag: str) -> dict[str, Any]:
    """The ``POST /v3/marketing/singlesends`` body; ``tag`` ends the internal name."""
    config: dict[str, Any] = {"sender_id": params.sender_id}
    for key in ("subject", "html_content", "plain_content", "design_id", "suppression_group_id"):
        if (value := getattr(params, key)) is not None:
            config[key] = value
    if params.design_id is None and params.html_content is not None:
        config["editor"] = "code"
    send_to = {"list_ids": params.list_ids, "segment_ids": params.segment_ids, "all": params.all_contacts}
    return {"name": f"{params.name[:86]} {tag}", "send_to": send_to, "email_config": config}


def single_send_summary(s: Mapping[str, Any]) -> dict[str, Any]:
    """The non-bulky facts of a Single Send."""
    config, send_to = s.get("email_config") or {}, s.get("send_to") or {}
    return {"id": s["id"], "name": s.get("name"), "status": s["status"], "send_at": s.get("send_at"),
            "subject": config.get("subject"), "sender_id": config.get("sender_id"),
            "list_ids": send_to.get("list_ids") or [], "segment_ids": send_to.get("segment_ids") or [],
            "all_contacts": bool(send_to.get("all")), "created_at": s.get("created_at"),
            "updated_at": s.get("updated_at")}


def template_summary(t: Mapping[str, Any]) -> dict[str, Any]:
    """A transactional template and its versions, without their content."""
    versions = [{"id": v.get("id"), "name": v.get("name"), "subject": v.get("subject"),
                 "active": v.get("active") == 1, "updated_at": v.get("updated_at")}
                for v in t.get("versions") or []]
    return {"id": t["id"], "name": t["name"], "generation": t.get("generation"),
            "updated_at": t.get("updated_at"), "versions": versions}


def stats_summary(rows: Any) -> dict[str, Any]:
    """Periods of ``GET /v3/stats`` (or categories/stats) and totals with rates, per category or ``all``."""
    periods: list[dict[str, Any]] = []
    totals: dict[str, dict[str, Any]] = {}
    for row in rows:
        entries: list[dict[str, Any]] = [{"name": s.get("name") or "all", "metrics": dict(s["metrics"])}
                                          for s in row["stats"]]
        periods.append({"date": row["date"], "stats": entries})
        for entry in entries:
            bucket = totals.setdefault(entry["name"], {})
            for metric, value in entry["metrics"].items():
                bucket[metric] = bucket.get(metric, 0) + (value or 0)
    for bucket in totals.values():
        for rate, (num, den) in RATES.items():
            bucket[rate] = round(bucket.get(num, 0) / bucket[den], 4) if bucket.get(den) else None
    return {"periods": periods, "totals": totals}
