"""HubSpot wire shapes: reading answers and building search filters (pure functions, no I/O)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import httpx

from workers.providers._parse import int_or_none

#: Fields of a legacy e-mail event worth keeping, and their names in Sintra's result.
EVENT_FIELDS = {"id": "id", "type": "type", "recipient": "recipient", "emailCampaignId": "email_campaign_id",
                "appName": "app_name", "url": "url", "category": "category", "status": "status",
                "response": "response", "subscriptions": "subscriptions", "subject": "subject"}


def body_of(response: httpx.Response) -> Any:
    """The decoded JSON body, or None when it is not JSON."""
    try:
        return response.json()
    except ValueError:
        return None


def ms(moment: datetime | None) -> int | None:
    """Epoch milliseconds (naive times are taken as UTC)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def iso(value: Any) -> str | None:
    """An epoch-milliseconds value as an ISO 8601 UTC time."""
    try:
        return datetime.fromtimestamp(int(value) / 1000, UTC).isoformat().replace("+00:00", "Z")
    except (TypeError, ValueError):
        return None


def crm_object(obj: Mapping[str, Any]) -> dict[str, Any]:
    """A CRM record: id, properties and timestamps."""
    return {"id": str(obj["id"]), "properties": dict(obj.get("properties") or {}),
            "created_at": obj.get("createdAt"), "updated_at": obj.get("updatedAt")}


def email_event(event: Mapping[str, Any]) -> dict[str, Any]:
    """One legacy Email Events API event, with its time in ISO 8601."""
    out = {name: event[key] for key, name in EVENT_FIELDS.items() if key in event}
    out["created"] = iso(event.get("created"))
    return out


def search_filter(f: Any) -> dict[str, Any]:
    """A CRM search filter from a catalog ``SearchFilter``."""
    out: dict[str, Any] = {"propertyName": f.property_name, "operator": f.operator}
    if f.value is not None:
        out["value"] = f.value
    if f.high_value is not None:
        out["highValue"] = f.high_value
    if f.values is not None:
        out["values"] = f.values
    return out


def marketing_email(e: Mapping[str, Any]) -> dict[str, Any]:
    """The non-bulky facts of a marketing e-mail."""
    sender = e.get("from") or {}
    lists = ((e.get("to") or {}).get("contactIlsLists") or {}).get("include") or []
    out = {"id": str(e["id"]), "name": e.get("name"), "subject": e.get("subject"), "state": e.get("state"),
           "type": e.get("type"), "is_published": e.get("isPublished"), "from_name": sender.get("fromName"),
           "reply_to": sender.get("replyTo"), "list_ids": [str(i) for i in lists],
           "publish_date": e.get("publishDate"), "created_at": e.get("createdAt"),
           "updated_at": e.get("updatedAt")}
    if "stats" in e:
        out["stats"] = e["stats"]
    return out


def crm_list(item: Mapping[str, Any]) -> dict[str, Any]:
    """A list (segment) of the v3 Lists API."""
    extra = item.get("additionalProperties") or {}
    size = extra.get("hs_list_size")
    size = int_or_none(size) if isinstance(size, str) else size
    return {"id": str(item["listId"]), "name": item.get("name"), "object_type_id": item.get("objectTypeId"),
            "processing_type": item.get("processingType"), "processing_status": item.get("processingStatus"),
            "size": size, "created_at": item.get("createdAt"), "updated_at": item.get("updatedAt")}


def flow(f: Mapping[str, Any]) -> dict[str, Any]:
    """A workflow of the v4 Automation API."""
    return {"id": str(f["id"]), "name": f.get("name"), "is_enabled": f.get("isEnabled"),
            "type": f.get("type"), "flow_type": f.get("flowType"), "object_type_id": f.get("objectTypeId"),
            "revision_id": f.get("revisionId"), "created_at": f.get("createdAt"),
            "updated_at": f.get("updatedAt")}


def sequence_enrollment(e: Mapping[str, Any], sequence_id: str, contact_id: str) -> dict[str, Any]:
    """A sequence enrollment of the v4 Sequences API."""
    return {"id": str(e["id"]), "to_email": e.get("toEmail"), "enrolled_at": e.get("enrolledAt"),
            "sequence_id": sequence_id, "contact_id": contact_id}
