"""Webhook endpoints and their deliveries (the delivery log); the signing secret is in Vault only.

An endpoint's ``cursor`` is the id of the last event fanned out to it: fan-out inserts one delivery per
matching event and moves the cursor with a compare-and-set, and ``(endpoint_id, event_id)`` is unique,
so two dispatchers never create a delivery twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint, func
from sqlmodel import Field, Session, SQLModel, col, select

from workers.store.models import Event, _ts

#: Events an endpoint may subscribe to.
WEBHOOK_EVENTS = ("job.succeeded", "job.failed", "integration.error", "integration.disconnected",
                  "schedule.paused")


class WebhookEndpoint(SQLModel, table=True):
    """A workspace's receiver URL and the event types it wants."""

    __tablename__ = "webhook_endpoints"

    id: str = Field(primary_key=True, max_length=64)
    workspace_id: str = Field(foreign_key="workspaces.id", index=True, max_length=64)
    url: str = Field(max_length=2000)
    events: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    description: str = Field(default="", max_length=500)
    status: str = Field(default="active", max_length=16, index=True)
    cursor: int = 0
    created_at: datetime = _ts(False)
    updated_at: datetime = _ts(False)


class WebhookDelivery(SQLModel, table=True):
    """One event for one endpoint: its frozen body, attempts, next attempt time and log."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (UniqueConstraint("endpoint_id", "event_id", name="uq_delivery_event"),)

    #: The ``webhook-id`` header: the same on every attempt, so receivers can drop duplicates.
    id: str = Field(primary_key=True, max_length=64)
    endpoint_id: str = Field(foreign_key="webhook_endpoints.id", index=True, max_length=64)
    workspace_id: str = Field(max_length=64, index=True)
    event_id: int
    event_type: str = Field(max_length=64)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    #: pending (an attempt is due at next_attempt_at), delivered, failed (attempts exhausted).
    status: str = Field(default="pending", max_length=16, index=True)
    attempts: int = 0
    next_attempt_at: datetime | None = _ts(index=True)
    last_status: int | None = None
    last_error: str | None = Field(default=None, max_length=500)
    attempt_log: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = _ts(False)
    delivered_at: datetime | None = _ts()
    updated_at: datetime = _ts(False)


def get_endpoint(*, session: Session, workspace: str, endpoint_id: str) -> WebhookEndpoint | None:
    """A workspace's endpoint, or None."""
    row = session.get(WebhookEndpoint, endpoint_id)
    return row if row is not None and row.workspace_id == workspace else None


def get_delivery(*, session: Session, endpoint_id: str, delivery_id: str) -> WebhookDelivery | None:
    """One delivery of an endpoint, or None."""
    row = session.get(WebhookDelivery, delivery_id)
    return row if row is not None and row.endpoint_id == endpoint_id else None


def last_event_id(*, session: Session) -> int:
    """The newest event's id (a new endpoint receives only events after it)."""
    return int(session.exec(select(func.max(Event.id))).one() or 0)


def endpoints_with_backlog(*, session: Session, limit: int = 200) -> list[str]:
    """Active endpoints whose workspace has events after their cursor."""
    newer = select(Event.id).where(col(Event.workspace_id) == col(WebhookEndpoint.workspace_id),
                                   col(Event.id) > col(WebhookEndpoint.cursor)).exists()
    stmt = select(WebhookEndpoint.id).where(col(WebhookEndpoint.status) == "active", newer).limit(limit)
    return list(session.exec(stmt).all())
