"""``/api/webhooks``: endpoints that receive signed events, their delivery log and manual redelivery."""

from __future__ import annotations

import threading
import uuid
from typing import Any

from fastapi import APIRouter, Query, Request
from sqlalchemy import delete as sql_delete
from sqlmodel import col, select

from producers.api.deps import CallerDep, SessionDep, SettingsDep
from producers.api.errors import ApiError
from producers.api.pagination import CursorParam, LimitParam, decode_cursor, encode_cursor
from producers.egress import EgressRefused, check_webhook_url
from producers.schemas import (COMMON_ERRORS, DeliveriesPublic, DeliveryPublic, WebhookCreate, WebhookCreated,
                               WebhookPublic, WebhooksPublic, errors)
from workers.store.audit import record_event
from workers.store.models import utcnow
from workers.store.pages import keyset
from workers.store.webhooks import WebhookDelivery, WebhookEndpoint, get_delivery, get_endpoint, last_event_id

router = APIRouter(prefix="/api/webhooks", tags=["webhooks"], responses=COMMON_ERRORS)
_lock = threading.Lock()


def _secret_writer(request: Request) -> Any:
    """The write-only Vault writer of signing secrets (API identity), created on first use."""
    with _lock:
        if getattr(request.app.state, "webhook_secrets", None) is None:
            from workers.vault.client import VaultSession
            from workers.vault.webhook_secrets import WebhookSecretWriter

            request.app.state.webhook_secrets = WebhookSecretWriter(
                VaultSession.from_settings(request.app.state.settings, "api"))
        return request.app.state.webhook_secrets


def _vault(call: Any) -> None:
    """Run a Vault write; Vault being down or refusing is a 503 that names it (never a 500)."""
    from workers.errors import AgentError

    try:
        call()
    except AgentError as exc:
        raise ApiError(503, "vault_unavailable", f"the webhook secret could not be stored in Vault: {exc}") from None


def _public(row: WebhookEndpoint) -> WebhookPublic:
    return WebhookPublic(id=row.id, url=row.url, events=row.events, description=row.description,
                         status=row.status, created_at=row.created_at)


def _endpoint(session: Any, caller: Any, webhook_id: str) -> WebhookEndpoint:
    row = get_endpoint(session=session, workspace=caller.workspace, endpoint_id=webhook_id)
    if row is None:
        raise ApiError(404, "not_found", f"no webhook {webhook_id!r} in workspace {caller.workspace!r}")
    return row


@router.post("", status_code=201, response_model=WebhookCreated, responses=errors(503))
def create(body: WebhookCreate, caller: CallerDep, session: SessionDep, settings: SettingsDep,
           request: Request) -> WebhookCreated:
    """Register a receiver; the answer holds its signing secret, shown this once (it lives in Vault only)."""
    from workers.vault.webhook_secrets import new_secret

    try:
        check_webhook_url(body.url, allow_hosts=settings.webhook_allow_hosts,
                          allow_private=settings.webhook_allow_private, unresolvable_ok=True)
    except EgressRefused as exc:
        raise ApiError(422, "invalid_url", str(exc), fields=[{"field": "url", "problem": str(exc)}]) from None
    now, secret = utcnow(), new_secret()
    row = WebhookEndpoint(id=uuid.uuid4().hex, workspace_id=caller.workspace, url=body.url,
                          events=sorted(set(body.events)), description=body.description, status="active",
                          cursor=last_event_id(session=session), created_at=now, updated_at=now)
    _vault(lambda: _secret_writer(request).write(caller.workspace, row.id, secret))  # no endpoint without one
    session.add(row)
    record_event(session=session, actor=caller.actor, kind="api", outcome="webhook_created",
                 workspace=caller.workspace, detail={"webhook_id": row.id, "events": row.events})
    session.commit()
    return WebhookCreated(**_public(row).model_dump(), secret=secret)


@router.get("", response_model=WebhooksPublic)
def list_(caller: CallerDep, session: SessionDep, cursor: CursorParam = None,
          limit: LimitParam = 100) -> WebhooksPublic:
    """The workspace's endpoints, oldest first."""
    stmt = select(WebhookEndpoint).where(WebhookEndpoint.workspace_id == caller.workspace)
    rows, more = keyset(session, stmt, col(WebhookEndpoint.created_at), col(WebhookEndpoint.id),
                        after=decode_cursor(cursor), limit=limit, newest_first=False)
    return WebhooksPublic(webhooks=[_public(r) for r in rows],
                          next_cursor=encode_cursor(rows[-1].created_at, rows[-1].id) if more else None)


@router.get("/{webhook_id}", response_model=WebhookPublic, responses=errors(404))
def read(webhook_id: str, caller: CallerDep, session: SessionDep) -> WebhookPublic:
    """One endpoint (its secret is never shown again)."""
    return _public(_endpoint(session, caller, webhook_id))


@router.delete("/{webhook_id}", status_code=204, response_model=None, responses=errors(404, 503))
def delete(webhook_id: str, caller: CallerDep, session: SessionDep, request: Request) -> None:
    """Delete the endpoint, its delivery log and its secret."""
    row = _endpoint(session, caller, webhook_id)
    _vault(lambda: _secret_writer(request).delete(caller.workspace, row.id))
    session.execute(sql_delete(WebhookDelivery).where(col(WebhookDelivery.endpoint_id) == row.id))
    session.delete(row)
    record_event(session=session, actor=caller.actor, kind="api", outcome="webhook_deleted",
                 workspace=caller.workspace, detail={"webhook_id": row.id})
    session.commit()


def _delivery(row: WebhookDelivery) -> DeliveryPublic:
    return DeliveryPublic.model_validate(row, from_attributes=True)


@router.get("/{webhook_id}/deliveries", response_model=DeliveriesPublic, responses=errors(404))
def deliveries(webhook_id: str, caller: CallerDep, session: SessionDep, cursor: CursorParam = None,
               limit: LimitParam = 50,
               status: str | None = Query(None, pattern="^(pending|delivered|failed)$")) -> DeliveriesPublic:
    """The delivery log, newest first, with every attempt's status code or error."""
    row = _endpoint(session, caller, webhook_id)
    stmt = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == row.id)
    if status:
        stmt = stmt.where(WebhookDelivery.status == status)
    rows, more = keyset(session, stmt, col(WebhookDelivery.created_at), col(WebhookDelivery.id),
                        after=decode_cursor(cursor), limit=limit, newest_first=True)
    return DeliveriesPublic(deliveries=[_delivery(r) for r in rows],
                            next_cursor=encode_cursor(rows[-1].created_at, rows[-1].id) if more else None)


@router.post("/{webhook_id}/deliveries/{delivery_id}/redeliver", status_code=202, response_model=DeliveryPublic,
             responses=errors(404))
def redeliver(webhook_id: str, delivery_id: str, caller: CallerDep, session: SessionDep) -> DeliveryPublic:
    """Send a delivery again now (same ``webhook-id`` and body), with a fresh attempt budget."""
    endpoint = _endpoint(session, caller, webhook_id)
    row = get_delivery(session=session, endpoint_id=endpoint.id, delivery_id=delivery_id)
    if row is None:
        raise ApiError(404, "not_found", f"no delivery {delivery_id!r} for webhook {webhook_id!r}")
    now = utcnow()
    row.status, row.attempts, row.next_attempt_at, row.updated_at = "pending", 0, now, now
    session.add(row)
    record_event(session=session, actor=caller.actor, kind="api", outcome="webhook_redelivery",
                 workspace=caller.workspace, detail={"webhook_id": endpoint.id, "delivery_id": row.id})
    session.commit()
    return _delivery(row)
