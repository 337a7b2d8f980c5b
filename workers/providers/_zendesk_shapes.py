"""Zendesk request bodies and result summaries: pure functions, no HTTP."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import httpx

#: Longest article body kept in a result (the full text stays in Zendesk).
ARTICLE_BODY_CHARS = 4000
#: Ticket fields a macro may change that an update request accepts.
MACRO_FIELDS = ("subject", "status", "priority", "type", "assignee_id", "group_id", "tags", "custom_fields")


def job_ref(marker: str, what: str) -> str:
    """The job's reference for one object it creates: readable, stable across retries, <= 255 chars."""
    ref = f"{marker}:{what}"
    return ref if len(ref) <= 255 else f"sintra-{hashlib.sha256(ref.encode()).hexdigest()}"


def unix(value: datetime | None) -> int | None:
    """Epoch seconds of a datetime, as Zendesk's time filters take them."""
    return int(value.timestamp()) if value is not None else None


def ticket_body(params: Any, external_id: str) -> dict[str, Any]:
    """The ``ticket`` object of ``POST /tickets`` for ``create_ticket`` params."""
    ticket: dict[str, Any] = {"subject": params.subject, "external_id": external_id,
                              "comment": {"body": params.body, "public": params.public}}
    if params.requester_id is not None:
        ticket["requester_id"] = params.requester_id
    elif params.requester_email:
        name = params.requester_name or params.requester_email.split("@", 1)[0]
        ticket["requester"] = {"email": params.requester_email, "name": name}
    for key in ("priority", "type"):
        if getattr(params, key) is not None:
            ticket[key] = getattr(params, key)
    if params.tags:
        ticket["tags"] = params.tags
    if params.custom_fields:
        ticket["custom_fields"] = [f.model_dump() for f in params.custom_fields]
    return ticket


def update_body(params: Any) -> dict[str, Any]:
    """The ``ticket`` object of ``PUT /tickets/{id}`` for ``update_ticket`` params."""
    return {k: v for k, v in params.model_dump(exclude={"ticket_id"}).items() if v is not None}


def macro_changes(result: Mapping[str, Any]) -> dict[str, Any]:
    """The update a macro preview (``GET .../macros/{id}/apply``) describes: fields and its comment."""
    ticket = result.get("ticket") or {}
    changes = {k: ticket[k] for k in MACRO_FIELDS if k in ticket}
    comment = result.get("comment") or {}
    if comment.get("html_body"):
        changes["comment"] = {"html_body": comment["html_body"], "public": comment.get("public", True)}
    elif comment.get("body"):
        changes["comment"] = {"body": comment["body"], "public": comment.get("public", True)}
    return changes


def ticket_summary(t: Mapping[str, Any]) -> dict[str, Any]:
    """The facts of a ticket an agent needs."""
    return {"id": t["id"], "subject": t.get("subject"), "status": t.get("status"),
            "priority": t.get("priority"), "type": t.get("type"), "requester_id": t.get("requester_id"),
            "assignee_id": t.get("assignee_id"), "group_id": t.get("group_id"), "tags": t.get("tags") or [],
            "external_id": t.get("external_id"), "created_at": t.get("created_at"),
            "updated_at": t.get("updated_at")}


def article_summary(a: Mapping[str, Any]) -> dict[str, Any]:
    """An article with its body cropped to :data:`ARTICLE_BODY_CHARS`."""
    body = a.get("body") or ""
    return {"id": a["id"], "title": a.get("title"), "section_id": a.get("section_id"),
            "locale": a.get("locale"), "draft": a.get("draft"), "html_url": a.get("html_url"),
            "label_names": a.get("label_names") or [], "snippet": a.get("snippet"),
            "body": body[:ARTICLE_BODY_CHARS], "body_truncated": len(body) > ARTICLE_BODY_CHARS,
            "created_at": a.get("created_at"), "updated_at": a.get("updated_at")}


def macro_category(title: str) -> str | None:
    """The category of a macro: the part of its title before ``::``."""
    head, sep, _ = title.partition("::")
    return head.strip() if sep else None


def macro_summary(m: Mapping[str, Any]) -> dict[str, Any]:
    """A macro and the changes it makes."""
    return {"id": m["id"], "title": m.get("title"), "category": macro_category(m.get("title") or ""),
            "active": m.get("active"), "description": m.get("description"), "actions": m.get("actions") or [],
            "updated_at": m.get("updated_at")}


def rating_summary(r: Mapping[str, Any]) -> dict[str, Any]:
    """A satisfaction rating."""
    return {"id": r["id"], "ticket_id": r.get("ticket_id"), "score": r.get("score"),
            "comment": r.get("comment"), "reason": r.get("reason"), "assignee_id": r.get("assignee_id"),
            "group_id": r.get("group_id"), "requester_id": r.get("requester_id"),
            "created_at": r.get("created_at")}


def csat(ratings: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts per score and the CSAT percentage (good / (good + bad)) of ratings."""
    counts: dict[str, int] = {}
    for r in ratings:
        counts[str(r.get("score"))] = counts.get(str(r.get("score")), 0) + 1
    good, bad = counts.get("good", 0), counts.get("bad", 0)
    return {"by_score": counts, "csat_pct": round(100.0 * good / (good + bad), 1) if good + bad else None}


def error_parts(body: Any) -> tuple[str, str | None] | None:
    """Message and code of Zendesk's error bodies, or None when ``body`` is not one of them.

    Shapes: ``{"error": "RecordInvalid", "description": "...", "details": {field: [{description}]}}``,
    ``{"error": {"title", "message"}}`` and ``{"errors": [{"code", "title", "detail"}]}``.
    """
    if not isinstance(body, dict):
        return None
    error = body.get("error")
    if isinstance(error, dict):
        title = str(error.get("title") or "")
        return " ".join(p for p in (f"{title}:" if title else "", str(error.get("message") or "")) if p), \
            title or None
    if isinstance(error, str):
        details = raw if isinstance(raw := body.get("details"), dict) else {}
        fields = [f"{name}: {d.get('description')}" for name, items in details.items()
                  for d in (items if isinstance(items, list) else []) if isinstance(d, dict)]
        parts = (f"{error}:", str(body.get("description") or ""), "; ".join(fields))
        return " ".join(p for p in parts if p).rstrip(":"), error
    errors = body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0]
        return f"{first.get('title') or first.get('code')}: {first.get('detail') or ''}".strip(), \
            first.get("code")
    return None


def same_origin(url: str, base: httpx.URL) -> bool:
    """True when a pagination link points at the host we are talking to (never leak auth elsewhere)."""
    target = httpx.URL(url)
    return (target.scheme, target.host, target.port) == (base.scheme, base.host, base.port)
