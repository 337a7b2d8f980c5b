"""The scheduler: fires due schedules into scheduled jobs, and enqueues scheduled jobs when due.

Several scheduler processes may run at once. A firing is enqueued exactly once because (1) each
batch of due schedules is claimed with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL (SQLite serialises
writers), (2) a schedule only advances if ``next_fire_at`` still holds the value read, and (3) the
``schedule_firings`` primary key (schedule, fire time) is enforced by the database: a duplicate
insert rolls the whole batch back. A scheduled job is enqueued only by the process whose
``scheduled -> queued`` update changed the row.

Misfires (the scheduler was down past ``grace``): ``run_latest`` fires the most recent missed time
once; ``skip`` fires nothing and waits for the next time. Never a burst of every missed firing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, col, select

from config.messages import JobMessage
from schedules.cron import CronError, latest_fire, next_fire, parse_cron, zone
from workers.store import events
from workers.store.jobs import message_for
from workers.store.schedules import paused_event
from workers.store.models import Job, Schedule, ScheduleFiring, utcnow

log = structlog.get_logger("sintra.scheduler")

#: A firing later than this after its time counts as missed (misfire policy applies).
DEFAULT_GRACE = timedelta(seconds=60)
#: Schedules claimed per transaction, and scheduled jobs promoted per round.
BATCH = 200


@dataclass
class TickStats:
    """What one tick did."""

    fired: int = 0
    skipped: int = 0
    enqueued: int = 0


class Scheduler:
    """Fires schedules and promotes due jobs; ``clock`` is injectable for tests."""

    def __init__(self, engine: Engine, enqueue: Callable[[JobMessage, str], object], *,
                 clock: Callable[[], datetime] = utcnow, grace: timedelta = DEFAULT_GRACE,
                 batch: int = BATCH) -> None:
        self.engine, self.enqueue, self.clock, self.grace, self.batch = engine, enqueue, clock, grace, batch

    def tick(self) -> TickStats:
        """Fire every due schedule, then enqueue every due scheduled job."""
        stats = TickStats()
        now = self.clock()
        more_firings = more_jobs = True
        while more_firings or more_jobs:  # interleaved, so the first jobs go out while later ones fire
            more_firings = more_firings and self._fire_batch(now, stats) == self.batch
            more_jobs = self._promote_batch(now, stats) == self.batch or more_firings
        return stats

    def run(self, *, interval: float = 1.0, stop: Callable[[], bool] = lambda: False) -> None:
        """Tick every ``interval`` seconds until ``stop()``."""
        while not stop():
            started = time.monotonic()
            try:
                stats = self.tick()
                if stats.fired or stats.enqueued or stats.skipped:
                    log.info("scheduler.tick", fired=stats.fired, enqueued=stats.enqueued, skipped=stats.skipped)
            except OperationalError:
                log.exception("scheduler.db_error")
            time.sleep(max(0.0, interval - (time.monotonic() - started)))

    # -- firing ------------------------------------------------------------------------------------
    def _fire_batch(self, now: datetime, stats: TickStats) -> int:
        with Session(self.engine, expire_on_commit=False) as session:
            stmt = (select(Schedule).where(col(Schedule.status) == "active", col(Schedule.next_fire_at) <= now)
                    .order_by(col(Schedule.next_fire_at)).limit(self.batch).with_for_update(skip_locked=True))
            rows = list(session.exec(stmt).all())
            fired = []
            for row in rows:
                outcome = self._fire_one(session, row, now)
                if outcome == "fired":
                    fired.append(row.id)
                elif outcome == "skipped":
                    stats.skipped += 1
            try:
                session.commit()
            except IntegrityError:  # another scheduler recorded one of these firings first
                session.rollback()
                log.warning("scheduler.firing_conflict", schedules=len(rows))
                return 0
            stats.fired += len(fired)
            return len(rows)

    def _fire_one(self, session: Session, row: Schedule, now: datetime) -> str:
        due = row.next_fire_at
        assert due is not None
        try:
            cron, tz = parse_cron(row.cron), zone(row.timezone)
        except CronError as exc:
            session.execute(update(Schedule).where(col(Schedule.id) == row.id)
                            .values(status="paused", paused_reason=f"invalid schedule: {exc}", updated_at=now))
            paused_event(session, workspace=row.workspace_id, schedule_id=row.id, reason=f"invalid schedule: {exc}")
            return "invalid"
        fire_at: datetime | None = due
        if now - due > self.grace:
            fire_at = latest_fire(cron, tz, now, since=due - timedelta(microseconds=1)) \
                if row.misfire_policy == "run_latest" else None
        following = next_fire(cron, tz, fire_at or now)
        moved = session.exec(
            update(Schedule).where(col(Schedule.id) == row.id, col(Schedule.next_fire_at) == due,
                                   col(Schedule.status) == "active")
            .values(next_fire_at=following, last_fired_at=fire_at or row.last_fired_at, updated_at=now))
        if not moved.rowcount:
            return "lost"  # someone else advanced it
        if fire_at is None:
            log.info("scheduler.misfire_skipped", schedule_id=row.id, missed_from=due.isoformat())
            return "skipped"
        job = Job(id=f"{row.id[:16]}{int(fire_at.timestamp())}", workspace_id=row.workspace_id, agent=row.agent,
                  integration=row.integration, action=row.action, kind="action", params=row.params,
                  status="scheduled", attempts=0, run_at=fire_at, schedule_id=row.id, created_at=now, updated_at=now)
        session.add(job)
        session.add(ScheduleFiring(schedule_id=row.id, fire_at=fire_at, job_id=job.id, outcome="fired",
                                   created_at=now))
        return "fired"

    # -- promoting scheduled jobs ----------------------------------------------------------------
    def _promote_batch(self, now: datetime, stats: TickStats) -> int:
        with Session(self.engine, expire_on_commit=False) as session:
            stmt = (select(Job).where(col(Job.status) == "scheduled", col(Job.run_at) <= now)
                    .order_by(col(Job.run_at)).limit(self.batch).with_for_update(skip_locked=True))
            due = list(session.exec(stmt).all())
            for job in due:
                # sent while the row is still locked (no relay can take it); if the broker is down, the
                # job is queued with its outbox entry due now, and a relay sends it when the broker is back
                try:
                    message_id: object = self.enqueue(message_for(job), job.agent)
                    values: dict[str, object] = {"dispatch_at": None, "message_id": str(message_id or "")}
                    stats.enqueued += 1
                except Exception:
                    log.warning("scheduler.enqueue_deferred", job_id=job.id)
                    values = {"dispatch_at": now}
                res = session.exec(update(Job).where(col(Job.id) == job.id, col(Job.status) == "scheduled")
                                   .values(status="queued", updated_at=now, **values))
                if res.rowcount:
                    events.record(session, workspace=job.workspace_id, type="job.queued", job_id=job.id,
                                  data={"reason": "due", "schedule_id": job.schedule_id})
            session.commit()
        return len(due)
