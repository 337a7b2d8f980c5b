"""The connection health check: each connected integration's connection test, once per period.

Each integration gets a fixed slot in the period from a hash of its workspace, agent and integration,
so 10,000 integrations are spread over the day instead of firing in the same second, and every
scheduler replica computes the same times. A batch of due rows is claimed with ``FOR UPDATE SKIP
LOCKED`` (SQLite serialises writers), a row only advances if ``next_check_at`` still holds the value
read, and the job id is derived from (integration, due time), so a check is enqueued once per period
across replicas. After downtime an integration is checked once, not once per missed period.

The check is the same ``test_connection`` job ``connect`` runs, sent through the outbox (ids only): a
revoked grant it finds makes the integration ``needs_reconnect``; for grants that lapse when unused,
the worker refreshes the token first (:mod:`workers.providers.keepalive`).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Collection
from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, col, or_, select

from workers.broker import Enqueuer
from workers.dispatch import dispatch_now
from workers.store import events
from workers.store.jobs import DISPATCH_GRACE
from workers.store.models import IntegrationState, Job, utcnow

log = structlog.get_logger("sintra.health")

#: Integrations claimed per transaction.
BATCH = 200
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def next_slot(key: str, after: datetime, period: timedelta) -> datetime:
    """The first time strictly after ``after`` in ``key``'s slot of each ``period`` (pure, stable across replicas)."""
    seconds = max(1, int(period.total_seconds()))
    offset = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big") % seconds
    elapsed = int((after - EPOCH).total_seconds()) - offset
    return EPOCH + timedelta(seconds=offset + (elapsed // seconds + 1) * seconds)


def slot_key(row: IntegrationState) -> str:
    """What an integration's slot is derived from."""
    return f"{row.workspace_id}/{row.agent}/{row.integration}"


class HealthCheck:
    """Enqueues due connection tests; ``clock`` is injectable and ``workspaces`` narrows it (one tenant, tests)."""

    def __init__(self, engine: Engine, enqueuer: Enqueuer, *, period: timedelta,
                 clock: Callable[[], datetime] = utcnow, batch: int = BATCH,
                 workspaces: Collection[str] | None = None) -> None:
        self.engine, self.enqueuer, self.period, self.clock = engine, enqueuer, period, clock
        self.batch, self.workspaces = batch, workspaces

    def tick(self) -> int:
        """Give new connections their slot, enqueue every due check; return how many were enqueued."""
        now, enqueued = self.clock(), 0
        while True:
            claimed, jobs = self._claim_batch(now)
            with Session(self.engine, expire_on_commit=False) as session:
                for job in jobs:  # after the commit; if the broker is down the outbox entry sends it later
                    enqueued += dispatch_now(session, self.enqueuer, job)
            if claimed < self.batch:
                return enqueued

    def run(self, *, interval: float = 5.0, stop: Callable[[], bool] = lambda: False) -> None:
        """Tick every ``interval`` seconds until ``stop()``."""
        while not stop():
            started = time.monotonic()
            try:
                if enqueued := self.tick():
                    log.info("health.checks_enqueued", checks=enqueued)
            except OperationalError:
                log.exception("health.db_error")
            time.sleep(max(0.0, interval - (time.monotonic() - started)))

    def _claim_batch(self, now: datetime) -> tuple[int, list[Job]]:
        due_or_new = or_(col(IntegrationState.next_check_at).is_(None), col(IntegrationState.next_check_at) <= now)
        stmt = select(IntegrationState).where(col(IntegrationState.status) == "connected", due_or_new)
        if self.workspaces is not None:
            stmt = stmt.where(col(IntegrationState.workspace_id).in_(list(self.workspaces)))
        with Session(self.engine, expire_on_commit=False) as session:
            rows = list(session.exec(stmt.order_by(col(IntegrationState.id)).limit(self.batch)
                                     .with_for_update(skip_locked=True)).all())
            jobs = [job for row in rows if (job := self._advance(session, row, now)) is not None]
            try:
                session.commit()
            except IntegrityError:  # another replica enqueued one of these checks first
                session.rollback()
                log.warning("health.check_conflict", integrations=len(rows))
                return 0, []
        return len(rows), jobs

    def _advance(self, session: Session, row: IntegrationState, now: datetime) -> Job | None:
        due = row.next_check_at
        following = next_slot(slot_key(row), now, self.period)
        guard = col(IntegrationState.next_check_at).is_(None) if due is None else \
            col(IntegrationState.next_check_at) == due
        moved = session.exec(update(IntegrationState).where(col(IntegrationState.id) == row.id, guard,
                                                            col(IntegrationState.status) == "connected")
                             .values(next_check_at=following))
        if not moved.rowcount or due is None:  # lost to another replica, or a new connection's first slot
            return None
        job = Job(id=f"hc{row.id}-{int(due.timestamp())}", workspace_id=row.workspace_id, agent=row.agent,
                  integration=row.integration, action="test_connection", kind="test_connection", params={},
                  status="queued", attempts=0, created_at=now, updated_at=now, dispatch_at=now + DISPATCH_GRACE)
        session.add(job)
        events.record(session, workspace=row.workspace_id, type="job.queued", job_id=job.id,
                      data={"agent": row.agent, "integration": row.integration, "action": "test_connection",
                            "reason": "health_check"})
        return job
