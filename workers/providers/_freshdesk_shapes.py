"""Freshdesk wire shapes for :mod:`workers.providers.freshdesk`: codes, headers, errors and summaries."""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import httpx

from workers.errors import CredentialsUnavailable

#: Ticket channels and their ``source`` codes.
SOURCES = {"email": 1, "portal": 2, "phone": 3, "chat": 7, "feedback_widget": 9, "outbound_email": 10}
CHANNELS = {code: name for name, code in SOURCES.items()}
STATUSES = {2: "open", 3: "pending", 4: "resolved", 5: "closed"}
PRIORITIES = {1: "low", 2: "medium", 3: "high", 4: "urgent"}
ARTICLE_STATUS = {"draft": 1, "published": 2}
#: Freshdesk search answers 30 results a page and stops at page 10.
SEARCH_PAGE = 30
SEARCH_MAX_PAGES = 10
_NEXT = re.compile(r'<([^>]*)>\s*;\s*rel="?next"?', re.I)
_SUBDOMAIN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_TAGS = re.compile(r"<[^>]+>")
_TARGET_KEYS = ("respond_within", "resolve_within", "business_hours", "escalation_enabled")


def helpdesk_domain(value: str) -> str:
    """The subdomain of ``value`` (``acme``, ``acme.freshdesk.com`` or ``https://acme.freshdesk.com/``)."""
    name = (value or "").strip().lower().removeprefix("https://").removeprefix("http://").split("/", 1)[0]
    name = name.removesuffix(".freshdesk.com")
    if not _SUBDOMAIN.match(name):
        raise CredentialsUnavailable("freshdesk domain must be the helpdesk subdomain, as in "
                                     "<domain>.freshdesk.com")
    return name


def iso(value: datetime) -> str:
    """A UTC time as Freshdesk writes it (``2026-01-19T02:00:00Z``)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def job_tag(marker: str, key: str) -> str:
    """A short tag that names what one job created (found again after a crash)."""
    return "sintra-" + hashlib.sha256(f"{marker}:{key}".encode()).hexdigest()[:12]


def next_page(link: str | None) -> int | None:
    """The page number of the ``rel="next"`` entry of a ``Link`` header (only the number is followed, so
    credentials never go to a host the answer names)."""
    match = _NEXT.search(link or "")
    if not match:
        return None
    page = httpx.URL(match.group(1)).params.get("page")
    return int(page) if page and page.isdigit() else None


def text_of(body: str) -> str:
    """The visible text of an HTML body, whitespace collapsed (to compare a reply with what we sent)."""
    return " ".join(html.unescape(_TAGS.sub(" ", body)).split())


def _name(names: Mapping[int, str], code: Any, default: Any = None) -> Any:
    """The name of a Freshdesk numeric code, or ``default`` for a missing or unknown one."""
    return names.get(code, default)


def ticket(t: Mapping[str, Any]) -> dict[str, Any]:
    """The facts of a ticket an agent needs (no description body)."""
    return {"id": t["id"], "subject": t.get("subject"), "status": t.get("status"),
            "status_name": _name(STATUSES, t.get("status")), "priority": t.get("priority"),
            "priority_name": _name(PRIORITIES, t.get("priority")), "source": t.get("source"),
            "channel": _name(CHANNELS, t.get("source")), "type": t.get("type"),
            "requester_id": t.get("requester_id"), "responder_id": t.get("responder_id"),
            "group_id": t.get("group_id"), "company_id": t.get("company_id"), "tags": t.get("tags") or [],
            "due_by": t.get("due_by"), "fr_due_by": t.get("fr_due_by"), "is_escalated": t.get("is_escalated"),
            "fr_escalated": t.get("fr_escalated"), "created_at": t.get("created_at"),
            "updated_at": t.get("updated_at")}


def sla_policy(p: Mapping[str, Any]) -> dict[str, Any]:
    """A policy with its targets per priority name (seconds to respond and to resolve)."""
    targets = {}
    for key, target in (p.get("sla_target") or {}).items():
        level = PRIORITIES.get(int(key.rpartition("_")[2])) if key.rpartition("_")[2].isdigit() else key
        targets[level or key] = {k: target.get(k) for k in _TARGET_KEYS}
    return {"id": p["id"], "name": p.get("name"), "description": p.get("description"),
            "active": p.get("active"), "is_default": p.get("is_default"), "position": p.get("position"),
            "targets": targets, "applicable_to": p.get("applicable_to") or {}}


def article(a: Mapping[str, Any]) -> dict[str, Any]:
    """A knowledge-base article with its plain text."""
    status = _name({v: k for k, v in ARTICLE_STATUS.items()}, a.get("status"), a.get("status"))
    return {"id": a["id"], "title": a.get("title"), "status": status, "folder_id": a.get("folder_id"),
            "category_id": a.get("category_id"), "tags": a.get("tags") or [],
            "description_text": a.get("description_text"), "hits": a.get("hits"),
            "thumbs_up": a.get("thumbs_up"), "thumbs_down": a.get("thumbs_down"),
            "created_at": a.get("created_at"), "updated_at": a.get("updated_at")}


def contact(c: Mapping[str, Any]) -> dict[str, Any]:
    """A portal contact."""
    return {"id": c["id"], "name": c.get("name"), "email": c.get("email"), "phone": c.get("phone"),
            "mobile": c.get("mobile"), "company_id": c.get("company_id"), "active": c.get("active"),
            "tags": c.get("tags") or [], "created_at": c.get("created_at"), "updated_at": c.get("updated_at")}
