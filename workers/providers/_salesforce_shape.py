"""Salesforce wire shapes: SOQL literals and clauses, error arrays, records and opportunities (no I/O)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

import httpx

OPPORTUNITY_FIELDS = ("Id", "Name", "StageName", "Amount", "CloseDate", "OwnerId", "AccountId",
                      "Probability", "ForecastCategoryName", "IsClosed", "IsWon")
#: ``group_by`` -> (SELECT items, GROUP BY items, result keys).
GROUPINGS = {
    "stage": ("StageName", "StageName", ("StageName",)),
    "forecast_category": ("ForecastCategoryName", "ForecastCategoryName", ("ForecastCategoryName",)),
    "owner": ("OwnerId", "OwnerId", ("OwnerId",)),
    "close_month": ("CALENDAR_YEAR(CloseDate) yr, CALENDAR_MONTH(CloseDate) mo",
                    "CALENDAR_YEAR(CloseDate), CALENDAR_MONTH(CloseDate)", ("yr", "mo")),
}
_ESCAPES = (("\\", "\\\\"), ("'", "\\'"), ("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t"))


def soql_literal(value: Any) -> str:
    """``value`` as a SOQL literal: quoted and escaped strings, bare numbers, dates and booleans."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    for raw, escaped in _ESCAPES:
        text = text.replace(raw, escaped)
    return f"'{text}'"


def where(conds: list[str]) -> str:
    """A WHERE clause joining ``conds`` with AND (empty when there are none)."""
    return f" WHERE {' AND '.join(conds)}" if conds else ""


def close_date_range(start: date | None, end: date | None) -> list[str]:
    """Conditions on ``CloseDate`` for an optional range."""
    conds = [f"CloseDate >= {start.isoformat()}"] if start else []
    return conds + ([f"CloseDate <= {end.isoformat()}"] if end else [])


def plain(record: Any) -> Any:
    """A record without Salesforce's ``attributes`` maps (also in nested relationship records)."""
    if isinstance(record, dict):
        return {k: plain(v) for k, v in record.items() if k != "attributes"}
    if isinstance(record, list):
        return [plain(v) for v in record]
    return record


def salesforce_errors(response: httpx.Response) -> list[dict[str, Any]]:
    """The ``[{message, errorCode, fields}]`` of an error answer (OAuth errors mapped onto that shape)."""
    try:
        body = response.json()
    except ValueError:
        return []
    if isinstance(body, dict):
        if "errorCode" in body:
            body = [body]
        elif "error" in body:
            return [{"errorCode": str(body["error"]), "message": str(body.get("error_description") or "")}]
    return [e for e in body if isinstance(e, dict)] if isinstance(body, list) else []


def group_key(row: Mapping[str, Any], keys: tuple[str, ...]) -> Any:
    """The key of one aggregate row (``YYYY-MM`` for close months)."""
    if keys == ("yr", "mo"):
        return f"{int(row['yr']):04d}-{int(row['mo']):02d}" if row.get("yr") is not None else None
    return row[keys[0]]


def opportunity(r: Mapping[str, Any]) -> dict[str, Any]:
    """An Opportunity row in Sintra's words."""
    return {"id": r["Id"], "name": r.get("Name"), "stage": r.get("StageName"), "amount": r.get("Amount"),
            "close_date": r.get("CloseDate"), "owner_id": r.get("OwnerId"), "account_id": r.get("AccountId"),
            "probability": r.get("Probability"), "forecast_category": r.get("ForecastCategoryName"),
            "is_closed": r.get("IsClosed"), "is_won": r.get("IsWon")}
