"""The webhook dispatcher: fans events out to endpoints and delivers them, signed, with retries.

Any number of dispatchers may run (it runs inside every ``python -m schedules`` process):

- **fan-out** locks one endpoint (``FOR UPDATE SKIP LOCKED`` on PostgreSQL), inserts a delivery per
  matching event after its cursor and moves the cursor with a compare-and-set; the unique
  ``(endpoint, event)`` key makes a second insert fail, so each event becomes one delivery;
- **delivery** claims due rows the same way and pushes ``next_attempt_at`` forward by a lease with a
  compare-and-set before sending, so one attempt is made by one process; a failed attempt is retried
  with exponential backoff until ``webhook_max_attempts``, then the delivery is ``failed`` (manual
  redelivery puts it back).

Bodies are frozen at fan-out: a redelivery sends the same bytes under the same ``webhook-id``.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import structlog
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, col, select

from config.settings import Settings
from producers.egress import EgressRefused, check_webhook_url
from producers.webhook_signature import sign
from workers.store import events as event_store
from workers.store.jobs import to_public
from workers.store.models import Event, Job, utcnow
from workers.store.webhooks import WebhookDelivery, WebhookEndpoint, endpoints_with_backlog

log = structlog.get_logger("sintra.webhooks")

#: How long a claimed attempt holds its delivery before another dispatcher may try it.
CLAIM_LEASE = timedelta(seconds=60)
#: Deliveries claimed per round, and events fanned out per endpoint per round.
BATCH = 50
#: Longest wait between two attempts.
MAX_BACKOFF = timedelta(hours=6)
#: Attempts kept in a delivery's log.
LOG_KEEP = 20


@dataclass
class DispatchStats:
    """What one tick did."""

    fanned_out: int = 0
    delivered: int = 0
    failed_attempts: int = 0


def event_payload(session: Session, event: Event) -> dict[str, Any] | None:
    """The Standard Webhooks body of an event: ``{"type", "timestamp", "data"}``; job events carry the job.

    None for a connection test's own job events: ``integration.connected``/``integration.error`` say it.
    """
    data: dict[str, Any] = {"event_id": event.id, **(event.data or {})}
    if event.job_id:
        data["job_id"] = event.job_id
        job = session.get(Job, event.job_id)
        if job is not None:
            if job.kind == "test_connection":
                return None
            data["job"] = to_public(job).model_dump(mode="json")
    return {"type": event.type, "timestamp": event.at.isoformat(), "data": data}


def backoff(attempts: int, base_seconds: float) -> timedelta:
    """Delay before attempt ``attempts + 1``: base, 2x base, 4x base ... capped."""
    return min(timedelta(seconds=base_seconds * 2 ** max(0, attempts - 1)), MAX_BACKOFF)


class WebhookDispatcher:
    """Fan-out and delivery rounds; ``secret(workspace, endpoint_id)`` reads the signing secret."""

    def __init__(self, engine: Engine, settings: Settings, secret: Callable[[str, str], str], *,
                 http: httpx.Client | None = None, clock: Callable[[], datetime] = utcnow) -> None:
        self.engine, self.settings, self.secret, self.clock = engine, settings, secret, clock
        self.http = http or httpx.Client(timeout=settings.webhook_timeout_seconds, follow_redirects=False)
        self.worker = uuid.uuid4().hex[:8]

    def tick(self) -> DispatchStats:
        """One fan-out round, then deliver everything due."""
        stats = DispatchStats()
        with Session(self.engine) as session:
            endpoint_ids = endpoints_with_backlog(session=session)
        for endpoint_id in endpoint_ids:
            stats.fanned_out += self._fan_out(endpoint_id)
        while True:
            claimed = self._claim()
            for delivery in claimed:
                if self._attempt(delivery):
                    stats.delivered += 1
                else:
                    stats.failed_attempts += 1
            if len(claimed) < BATCH:
                return stats

    def run(self, *, interval: float = 1.0, stop: Callable[[], bool] = lambda: False) -> None:
        """Tick every ``interval`` seconds until ``stop()``."""
        while not stop():
            started = time.monotonic()
            try:
                stats = self.tick()
                if stats.fanned_out or stats.delivered or stats.failed_attempts:
                    log.info("webhooks.tick", fanned_out=stats.fanned_out, delivered=stats.delivered,
                             failed_attempts=stats.failed_attempts)
            except OperationalError:
                log.exception("webhooks.db_error")
            time.sleep(max(0.0, interval - (time.monotonic() - started)))

    # -- fan-out -----------------------------------------------------------------------------------
    def _fan_out(self, endpoint_id: str) -> int:
        with Session(self.engine, expire_on_commit=False) as session:
            stmt = select(WebhookEndpoint).where(col(WebhookEndpoint.id) == endpoint_id,
                                                 col(WebhookEndpoint.status) == "active")
            endpoint = session.exec(stmt.with_for_update(skip_locked=True)).first()
            if endpoint is None:
                return 0
            events = event_store.since(session, workspace=endpoint.workspace_id, after_id=endpoint.cursor,
                                       limit=500)
            if not events:
                return 0
            now, made = self.clock(), 0
            for event in events:
                assert event.id is not None  # read back from the table, so it has its id
                payload = event_payload(session, event) if event.type in endpoint.events else None
                if payload is not None:
                    session.add(WebhookDelivery(
                        id=f"msg_{uuid.uuid4().hex}", endpoint_id=endpoint.id, workspace_id=endpoint.workspace_id,
                        event_id=event.id, event_type=event.type, payload=payload,
                        status="pending", attempts=0, next_attempt_at=now, attempt_log=[], created_at=now,
                        updated_at=now))
                    made += 1
            try:
                session.flush()
                moved = session.exec(update(WebhookEndpoint).where(
                    col(WebhookEndpoint.id) == endpoint.id, col(WebhookEndpoint.cursor) == endpoint.cursor)
                    .values(cursor=events[-1].id, updated_at=now).execution_options(synchronize_session=False))
                if not moved.rowcount:  # another dispatcher fanned these events out first
                    session.rollback()
                    return 0
                session.commit()
            except IntegrityError:  # the same: its deliveries for these events exist already
                session.rollback()
                return 0
            return made

    # -- delivery ----------------------------------------------------------------------------------
    def _claim(self) -> list[WebhookDelivery]:
        now = self.clock()
        with Session(self.engine, expire_on_commit=False) as session:
            stmt = (select(WebhookDelivery).where(col(WebhookDelivery.status) == "pending",
                                                  col(WebhookDelivery.next_attempt_at) <= now)
                    .order_by(col(WebhookDelivery.next_attempt_at)).limit(BATCH).with_for_update(skip_locked=True))
            due = list(session.exec(stmt).all())
            claimed = []
            for row in due:
                seen = row.attempts
                res = session.exec(update(WebhookDelivery).where(
                    col(WebhookDelivery.id) == row.id, col(WebhookDelivery.status) == "pending",
                    col(WebhookDelivery.attempts) == seen)
                    .values(attempts=seen + 1, next_attempt_at=now + CLAIM_LEASE, updated_at=now)
                    .execution_options(synchronize_session=False))
                if res.rowcount:
                    row.attempts = seen + 1
                    claimed.append(row)
            session.commit()
            return claimed

    def _attempt(self, delivery: WebhookDelivery) -> bool:
        with Session(self.engine) as session:
            endpoint = session.get(WebhookEndpoint, delivery.endpoint_id)
        if endpoint is None or endpoint.status != "active":
            return self._record(delivery, None, "endpoint deleted or disabled", 0.0, give_up=True)
        started = time.monotonic()
        try:
            check_webhook_url(endpoint.url, allow_hosts=self.settings.webhook_allow_hosts,
                              allow_private=self.settings.webhook_allow_private)
            body = json.dumps(delivery.payload, separators=(",", ":"), default=str).encode()
            ts = int(time.time())
            headers = {"content-type": "application/json", "user-agent": "Sintra-Webhooks/1",
                       "webhook-id": delivery.id, "webhook-timestamp": str(ts),
                       "webhook-signature": sign(self.secret(endpoint.workspace_id, endpoint.id), delivery.id,
                                                 ts, body)}
            response = self.http.post(endpoint.url, content=body, headers=headers)
        except EgressRefused as exc:
            return self._record(delivery, None, f"refused: {exc}", time.monotonic() - started)
        except httpx.HTTPError as exc:
            return self._record(delivery, None, f"{type(exc).__name__}: {str(exc)[:200]}",
                                time.monotonic() - started)
        except Exception as exc:  # noqa: BLE001 - e.g. Vault down: keep the delivery, try again later
            return self._record(delivery, None, f"could not sign: {type(exc).__name__}", time.monotonic() - started)
        error = None if response.is_success else f"receiver answered HTTP {response.status_code}"
        return self._record(delivery, response.status_code, error, time.monotonic() - started)

    def _record(self, delivery: WebhookDelivery, status: int | None, error: str | None, seconds: float, *,
                give_up: bool = False) -> bool:
        """Write one attempt's outcome (only the claimer can: it matches on the attempt number)."""
        now = self.clock()
        entry = {"attempt": delivery.attempts, "at": now.isoformat(), "status": status, "error": error,
                 "duration_ms": round(seconds * 1000, 1), "dispatcher": self.worker}
        values: dict[str, Any] = {"last_status": status, "last_error": error, "updated_at": now,
                                  "attempt_log": [*delivery.attempt_log, entry][-LOG_KEEP:]}
        if error is None:
            values.update(status="delivered", delivered_at=now, next_attempt_at=None)
        elif give_up or delivery.attempts >= self.settings.webhook_max_attempts:
            values.update(status="failed", next_attempt_at=None)
        else:
            values["next_attempt_at"] = now + backoff(delivery.attempts, self.settings.webhook_retry_base_seconds)
        with Session(self.engine) as session:
            session.execute(update(WebhookDelivery).where(col(WebhookDelivery.id) == delivery.id,
                                                          col(WebhookDelivery.attempts) == delivery.attempts)
                            .values(**values))
            session.commit()
        if error:
            log.warning("webhooks.attempt_failed", delivery_id=delivery.id, attempt=delivery.attempts, error=error)
        return error is None


def vault_secrets(settings: Settings, *, ttl: float = 60.0) -> Callable[[str, str], str]:
    """A signing-secret reader on the ``webhooks`` Vault identity, cached for ``ttl`` seconds."""
    from workers.vault.client import VaultSession
    from workers.vault.webhook_secrets import WebhookSecretReader

    readers: list[WebhookSecretReader] = []  # logged in on first use: a process with no deliveries needs no Vault
    cache: dict[tuple[str, str], tuple[float, str]] = {}

    def read(workspace: str, endpoint_id: str) -> str:
        hit = cache.get((workspace, endpoint_id))
        if hit is not None and time.monotonic() - hit[0] < ttl:
            return hit[1]
        if not readers:
            readers.append(WebhookSecretReader(VaultSession.from_settings(settings, "webhooks")))
        value = readers[0].read(workspace, endpoint_id)
        cache[(workspace, endpoint_id)] = (time.monotonic(), value)
        return value

    return read
