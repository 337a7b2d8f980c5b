"""Request bodies, keys and result summaries of the Brevo client (pure functions, no I/O)."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

#: Namespace of the idempotency keys we derive (a UUID, as Brevo requires).
KEY_NAMESPACE = uuid.UUID("6f1d8e52-2b0e-4f4e-9a53-5b1f0d2c7a10")
#: Property that carries the job reference on the events we record.
EVENT_REF = "sintra_ref"


def job_ref(marker: str, key: str) -> str:
    """A short reference unique to this job and object (``sintra-`` + 12 hex digits)."""
    return "sintra-" + hashlib.sha256(f"{marker}:{key}".encode()).hexdigest()[:12]


def idempotency_key(source: str) -> str:
    """``source`` itself when it is a UUID, else a UUID derived from it (the same on every retry)."""
    try:
        return str(uuid.UUID(source))
    except ValueError:
        return str(uuid.uuid5(KEY_NAMESPACE, source))


def iso(value: datetime) -> str:
    """A time as Brevo expects it (UTC, milliseconds, ``Z``); a naive time is taken as UTC."""
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def contact_of(c: Any) -> dict[str, str]:
    """A sender or recipient object."""
    return c.model_dump(exclude_none=True)


def email_campaign_body(params: Any, ref: str) -> dict[str, Any]:
    """The ``POST /emailCampaigns`` body; ``ref`` ends the internal name."""
    body: dict[str, Any] = {"name": f"{params.name} [{ref}]", "subject": params.subject,
                            "sender": contact_of(params.sender), "recipients": {"listIds": params.list_ids}}
    if params.html_content is not None:
        body["htmlContent"] = params.html_content
    if params.template_id is not None:
        body["templateId"] = params.template_id
    if params.reply_to:
        body["replyTo"] = params.reply_to
    if params.scheduled_at is not None:
        body["scheduledAt"] = iso(params.scheduled_at)
    return body


def sms_campaign_body(params: Any, ref: str) -> dict[str, Any]:
    """The ``POST /smsCampaigns`` body; ``ref`` ends the internal name."""
    body: dict[str, Any] = {"name": f"{params.name} [{ref}]", "sender": params.sender,
                            "content": params.content, "recipients": {"listIds": params.list_ids}}
    if params.scheduled_at is not None:
        body["scheduledAt"] = iso(params.scheduled_at)
    return body


def smtp_body(params: Any, ref: str, key: str) -> dict[str, Any]:
    """The ``POST /smtp/email`` body with ``headers.idempotencyKey`` and the job reference as a tag."""
    body: dict[str, Any] = {"to": [contact_of(c) for c in params.to], "tags": [*params.tags, ref],
                            "headers": {"idempotencyKey": key}}
    if params.sender is not None:
        body["sender"] = contact_of(params.sender)
    for ours, theirs in (("subject", "subject"), ("html_content", "htmlContent"),
                         ("template_id", "templateId")):
        if (value := getattr(params, ours)) is not None:
            body[theirs] = value
    if params.params:
        body["params"] = params.params
    if params.scheduled_at is not None:
        body["scheduledAt"] = iso(params.scheduled_at)
    return body


def campaign_summary(c: Mapping[str, Any]) -> dict[str, Any]:
    """The non-bulky facts of an e-mail or SMS campaign."""
    recipients = c.get("recipients") or {}
    out = {"id": c["id"], "name": c.get("name"), "status": c["status"], "scheduled_at": c.get("scheduledAt"),
           "list_ids": recipients.get("lists") or recipients.get("listIds") or [],
           "created_at": c.get("createdAt"), "sent_date": c.get("sentDate")}
    for key in ("subject", "type", "sender", "content"):
        if key in c:
            out[key] = c[key]
    return out


def contact_summary(c: Mapping[str, Any]) -> dict[str, Any]:
    """A contact as the agent sees it."""
    return {"id": c["id"], "email": c.get("email"), "attributes": c.get("attributes") or {},
            "list_ids": c.get("listIds") or [], "email_blacklisted": bool(c.get("emailBlacklisted")),
            "sms_blacklisted": bool(c.get("smsBlacklisted")), "created_at": c.get("createdAt"),
            "modified_at": c.get("modifiedAt")}
