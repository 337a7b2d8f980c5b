"""Seed data of a simulated Intercom workspace, conversation parts and reporting-export files."""

from __future__ import annotations

import csv
import gzip
import io
import time
from typing import Any

ME, TEAMMATE, TEAM = "991267", "991268", "5001"
WORKFLOW_ID = "67890"
APP_ID = "sim0app1"
DAY = 86400
STATES = ("open", "open", "closed", "snoozed")
DATASETS: list[dict[str, Any]] = [{
    "id": "conversation", "name": "Conversation", "default_time_attribute_id": "conversation_started_at",
    "description": "One row per conversation started in the period.",
    "attributes": [{"id": a, "name": a.replace("_", " ").capitalize()} for a in (
        "conversation_id", "conversation_started_at", "conversation_last_closed_at", "conversation_state",
        "first_response_time", "time_to_close", "conversation_rating", "currently_assigned_teammate_id",
        "currently_assigned_team_id", "channel")]}]


def admin(admin_id: str, name: str) -> dict[str, Any]:
    """An admin object as ``GET /me`` and ``GET /admins`` show it."""
    return {"type": "admin", "id": admin_id, "name": name, "email": f"{name.split()[0].lower()}@sim.example",
            "email_verified": True, "away_mode_enabled": False, "has_inbox_seat": True, "team_ids": [TEAM],
            "avatar": {"type": "avatar", "image_url": None}}


def part(conv: dict[str, Any], part_id: int, part_type: str, author: dict[str, Any], body: str | None,
         **extra: Any) -> dict[str, Any]:
    """Append one conversation part and return it."""
    now = int(time.time())
    item = {"type": "conversation_part", "id": str(part_id), "part_type": part_type, "body": body,
            "created_at": now, "updated_at": now, "notified_at": now, "assigned_to": None,
            "author": author, "attachments": [], "external_id": None, "redacted": False, **extra}
    conv["parts"].append(item)
    conv["updated_at"] = now
    return item


def admin_author(admin_id: str) -> dict[str, Any]:
    """The author object of a part written by an admin."""
    return {"id": admin_id, "type": "admin", "name": "Sim Admin" if admin_id == ME else "Sam Support",
            "email": "sim@sim.example" if admin_id == ME else "sam@sim.example"}


def _contacts(acct: dict[str, Any], now: int) -> list[str]:
    ids = []
    for n in range(120):
        cid = f"6{n:023x}"
        ids.append(cid)
        name = f"Customer {n}"
        acct["contacts"][cid] = {
            "type": "contact", "id": cid, "workspace_id": APP_ID, "external_id": f"cust-{n}",
            "role": "user" if n % 3 else "lead", "email": f"customer{n}@example.com", "phone": None,
            "name": name, "created_at": now - (200 - n) * DAY, "updated_at": now - n, "signed_up_at": None,
            "last_seen_at": now - n * 3600, "custom_attributes": {"plan": ("free", "pro", "team")[n % 3]},
            "tags": {"type": "list", "data": [], "url": f"/contacts/{cid}/tags", "total_count": 0,
                     "has_more": False}}
    return ids


def _conversations(acct: dict[str, Any], contacts: list[str], now: int) -> None:
    for n in range(40):
        conv_id, contact = str(100000 + n), acct["contacts"][contacts[n]]
        created, st = now - (40 - n) * DAY // 2, STATES[n % 4]
        conv: dict[str, Any]
        conv = {"type": "conversation", "id": conv_id, "title": None, "created_at": created,
                "updated_at": created, "waiting_since": created if st == "open" else None,
                "snoozed_until": None, "open": st != "closed",
                "state": st, "read": bool(n % 2), "priority": "priority" if n % 7 == 0 else "not_priority",
                "admin_assignee_id": int(ME) if n % 2 else None,
                "team_assignee_id": TEAM if n % 3 == 0 else None,
                "tags": {"type": "tag.list", "tags": []},
                "contacts": {"type": "contact.list", "contacts": [{"type": "contact", "id": contact["id"],
                                                                   "external_id": contact["external_id"]}]},
                "source": {"type": "conversation", "id": str(700000 + n),
                           "delivered_as": "customer_initiated", "subject": "",
                           "body": f"<p>Hello, I need help with order #{n}</p>",
                           "author": {"type": "user", "id": contact["id"], "name": contact["name"],
                                      "email": contact["email"]}, "attachments": [], "url": None},
                "statistics": {"type": "conversation_statistics", "time_to_admin_reply": 300 + 60 * n,
                               "time_to_last_close": 3600 * (n % 9 + 1) if st == "closed" else None},
                "conversation_rating": {"rating": n % 5 + 1} if st == "closed" else None, "parts": []}
        acct["conversations"][conv_id] = conv


def seed() -> dict[str, Any]:
    """A fresh workspace: two admins and a team, 120 contacts, 40 conversations, tags and segments."""
    now = int(time.time())
    acct: dict[str, Any] = {"calls": 0, "last_id": 900000, "contacts": {}, "conversations": {}, "jobs": {},
                            "admins": {ME: admin(ME, "Sim Admin"), TEAMMATE: admin(TEAMMATE, "Sam Support")},
                            "teams": {TEAM: {"type": "team", "id": TEAM, "name": "Tier 2"}}}
    contacts = _contacts(acct, now)
    _conversations(acct, contacts, now)
    acct["tags"] = {str(101 + i): {"type": "tag", "id": str(101 + i), "name": name}
                    for i, name in enumerate(("vip", "churn-risk", "beta"))}
    acct["segments"] = [
        {"type": "segment", "id": f"5f{i:022x}", "name": name, "created_at": now - 90 * DAY,
         "updated_at": now - i * DAY, "person_type": person, "_count": count}
        for i, (name, person, count) in enumerate((("Active", "user", 80), ("New", "user", 12),
                                                   ("Slipping Away", "user", 9), ("Leads", "lead", 40)))]
    acct["workflows"] = {WORKFLOW_ID: {
        "id": WORKFLOW_ID, "title": "Route billing questions", "description": "Tag and assign billing chats",
        "trigger_type": "inbound_conversation", "state": "live", "target_channels": ["chat"],
        "preferred_devices": [], "created_at": "2025-06-15T10:30:00Z", "updated_at": "2026-01-20T14:00:00Z",
        "targeting": {"predicates": [{"attribute": "message.body", "comparison": "contains",
                                      "value": "invoice"}]},
        "steps": [{"type": "apply_tag", "tag": "billing"}, {"type": "assign", "team_id": TEAM}]}}
    return acct


def new_id(acct: dict[str, Any]) -> int:
    """The next part or object id of this workspace."""
    acct["last_id"] += 1
    return int(acct["last_id"])


def export_file(acct: dict[str, Any], job: dict[str, Any]) -> bytes:
    """The gzipped CSV of a reporting export: one row per conversation started in the period."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=job["attribute_ids"], lineterminator="\n")
    writer.writeheader()
    for c in acct["conversations"].values():
        if not job["start_time"] <= c["created_at"] < job["end_time"]:
            continue
        stats, rating = c["statistics"], (c.get("conversation_rating") or {}).get("rating")
        row = {"conversation_id": c["id"], "conversation_started_at": c["created_at"],
               "conversation_last_closed_at": c["updated_at"] if c["state"] == "closed" else "",
               "conversation_state": c["state"], "first_response_time": stats["time_to_admin_reply"],
               "time_to_close": stats["time_to_last_close"] or "", "conversation_rating": rating or "",
               "currently_assigned_teammate_id": c["admin_assignee_id"] or "",
               "currently_assigned_team_id": c["team_assignee_id"] or "", "channel": "chat"}
        writer.writerow({k: row.get(k, "") for k in job["attribute_ids"]})
    return gzip.compress(out.getvalue().encode())
