"""Intercom request bodies, result summaries and the reporting-export file reader: pure functions."""

from __future__ import annotations

import csv
import gzip
import html
import io
import re
import statistics
import zipfile
from collections.abc import Mapping
from typing import Any

#: Longest message body kept in a conversation summary.
BODY_CHARS = 500
#: Rows of a reporting export returned as they are (the summary covers all rows).
SAMPLE_ROWS = 200


def search_query(filters: list[Any], combine: str) -> dict[str, Any]:
    """An Intercom search ``query``: one condition, or an AND/OR group of them."""
    conditions = [{"field": f.field, "operator": f.operator, "value": f.value} for f in filters]
    return conditions[0] if len(conditions) == 1 else {"operator": combine, "value": conditions}


def plain(text: str | None) -> str:
    """Message text without HTML tags, entities or repeated whitespace (to compare bodies)."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", text or "")).split())


def contact_summary(c: Mapping[str, Any]) -> dict[str, Any]:
    """A contact's identity, activity and tags."""
    tags = (c.get("tags") or {}).get("data") or []
    return {"id": c["id"], "role": c.get("role"), "email": c.get("email"), "name": c.get("name"),
            "phone": c.get("phone"), "external_id": c.get("external_id"), "created_at": c.get("created_at"),
            "last_seen_at": c.get("last_seen_at"), "tag_ids": [t.get("id") for t in tags],
            "custom_attributes": c.get("custom_attributes") or {}}


def conversation_summary(c: Mapping[str, Any]) -> dict[str, Any]:
    """A conversation's state, assignment and opening message."""
    source = c.get("source") or {}
    contacts = (c.get("contacts") or {}).get("contacts") or []
    tags = (c.get("tags") or {}).get("tags") or []
    return {"id": c["id"], "title": c.get("title"), "state": c.get("state"), "open": c.get("open"),
            "read": c.get("read"), "priority": c.get("priority"), "created_at": c.get("created_at"),
            "updated_at": c.get("updated_at"), "waiting_since": c.get("waiting_since"),
            "admin_assignee_id": c.get("admin_assignee_id"), "team_assignee_id": c.get("team_assignee_id"),
            "contact_ids": [x.get("id") for x in contacts], "tags": [t.get("name") for t in tags],
            "subject": source.get("subject") or None, "body": plain(source.get("body"))[:BODY_CHARS]}


def parts(conversation: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The conversation parts of a full conversation object (oldest first)."""
    return list((conversation.get("conversation_parts") or {}).get("conversation_parts") or [])


def authored(part: Mapping[str, Any], admin_id: str, part_type: str) -> bool:
    """Whether ``part`` is a ``part_type`` part written by admin ``admin_id``."""
    author = part.get("author") or {}
    return part.get("part_type") == part_type and str(author.get("id")) == admin_id


def export_rows(raw: bytes) -> list[dict[str, str]]:
    """Rows of a reporting-export download (gzip, zip or plain CSV); ValueError when unreadable."""
    try:
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
        elif raw[:4] == b"PK\x03\x04":
            with zipfile.ZipFile(io.BytesIO(raw)) as archive:
                raw = archive.read(archive.namelist()[0])
        return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    except (OSError, EOFError, IndexError, zipfile.BadZipFile, csv.Error, UnicodeDecodeError) as exc:
        raise ValueError(type(exc).__name__) from None


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except ValueError:
        return None


def export_summary(rows: list[dict[str, str]]) -> dict[str, Any]:
    """Row count, per-column statistics of numeric columns and a sample of rows."""
    metrics: dict[str, Any] = {}
    for column in rows[0].keys() if rows else ():
        if column.endswith("_id") or column.endswith("_at"):
            continue  # identifiers and timestamps are numbers but not metrics
        values = [v for v in (_number(r.get(column)) for r in rows) if v is not None]
        if values:
            metrics[column] = {"count": len(values), "mean": round(statistics.fmean(values), 2),
                               "median": statistics.median(values), "min": min(values), "max": max(values)}
    return {"row_count": len(rows), "metrics": metrics, "rows": rows[:SAMPLE_ROWS],
            "rows_truncated": len(rows) > SAMPLE_ROWS}
