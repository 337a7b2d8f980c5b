"""The outbox relay and the sweeper: the database is the truth, the broker only a transport.

- A job's "send my message" record is its ``dispatch_at`` column, written in the same transaction as
  the job (new jobs, retries, replays, workflow fan-in, takeovers). Whoever committed it sends at once
  (:func:`dispatch_now`); the relay sends every entry that is due and still there, so a crash between
  commit and send, a broker outage or a retry's delay never loses a job.
- The sweeper finds what the broker lost or a dead worker left: running jobs whose lease ran out
  (their worker stopped heartbeating) are handed to another worker, which resumes from the step log;
  waiting jobs whose message is gone (Redis restarted, a consumer dropped what it held) are sent
  again; workflow jobs whose steps are all finished are combined.

Any number of processes may run both (every worker process and every scheduler do): rows are
claimed with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, and a message sent twice still runs its job
once, because only a waiting, due job can be started (:func:`workers.store.jobs.mark_running`).
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy import exists, select, update
from sqlalchemy.engine import Connection, Engine

from config.messages import TERMINAL_STATUSES, JobMessage
from config.settings import Settings
from workers.broker import Enqueuer
from workers.store import events
from workers.store import jobs as job_store
from workers.store.db import connection_scope
from workers.store.tables import JOBS, WORKER_PROCESSES, utcnow

if TYPE_CHECKING:
    from sqlmodel import Session

    from workers.store.models import Job

#: The relay and the sweeper run Core statements on connections: every worker process runs them, and a
#: worker process goes without the ORM (issue 12: its memory; :mod:`workers.store.tables`).
J, W = JOBS.c, WORKER_PROCESSES.c

log = structlog.get_logger("sintra.dispatch")


def _locked(stmt: Any, engine: Engine) -> Any:
    """``FOR UPDATE SKIP LOCKED`` where the database has it (SQLite serialises writers instead)."""
    return stmt if engine.dialect.name == "sqlite" else stmt.with_for_update(skip_locked=True)


def dispatch_now(session: Session | Connection, enqueuer: Enqueuer, job: Job | Any) -> bool:
    """Send a just-committed job's message and clear its outbox entry; False if the broker is down
    (the entry stays, and a relay sends it when the broker is back)."""
    entry = job.dispatch_at
    try:
        message_id = enqueuer.enqueue(job_store.message_for(job), job.agent)
    except Exception as exc:  # noqa: BLE001 - any broker failure: the outbox keeps the job
        log.warning("dispatch.deferred", job_id=job.id, error=type(exc).__name__)
        return False
    job_store.mark_dispatched(session=session, job_id=job.id, message_id=message_id, entry=entry)
    session.commit()
    return True


def relay_once(engine: Engine, enqueuer: Enqueuer, *, batch: int = 200) -> int:
    """Send every due outbox entry once; return how many messages were sent."""
    now = utcnow()
    sent = 0
    with connection_scope(engine) as session:
        stmt = (select(J.id, J.agent, J.workspace_id, J.status, J.not_before, J.message_id, J.dispatch_at)
                .where(J.dispatch_at <= now).order_by(J.dispatch_at).limit(batch))
        rows = session.execute(_locked(stmt, engine)).all()
        for job_id, agent, workspace, status, not_before, previous, entry in rows:
            if status in TERMINAL_STATUSES or status in ("running", "scheduled"):
                session.execute(update(JOBS).where(J.id == job_id, J.dispatch_at == entry).values(dispatch_at=None))
                continue
            try:
                # sent before (its message was lost, or it was taken over or handed back): it had already
                # waited its turn, so it goes to the head of the queue
                again = previous is not None and not_before is None
                message_id = enqueuer.enqueue(JobMessage(job_id=job_id, workspace=workspace), agent, front=again)
            except Exception as exc:  # noqa: BLE001 - broker down: keep the rest for the next pass
                log.warning("relay.broker_unavailable", error=type(exc).__name__, pending=len(rows) - sent)
                break
            job_store.mark_dispatched(session=session, job_id=job_id, message_id=message_id, entry=entry)
            sent += 1
        session.commit()
    if sent:
        log.info("relay.sent", messages=sent)
    return sent


def take_over_expired(engine: Engine, *, max_losses: int, batch: int = 200) -> int:
    """Running jobs whose worker stopped renewing their lease: retry them (or fail a poison job)."""
    now = utcnow()
    moved = 0
    with connection_scope(engine) as session:
        stmt = select(JOBS).where(J.status == "running", J.lease_expires_at.is_not(None),
                                  J.lease_expires_at < now).limit(batch)
        for job in session.execute(_locked(stmt, engine)).all():
            entry = {"attempt": job.attempts, "at": now.isoformat(), "kind": "worker_lost",
                     "message": f"worker {job.worker_id} stopped heartbeating; job taken over",
                     "worker": job.worker_id}
            attempt_log = [*(job.attempt_log or []), entry]
            losses = sum(1 for e in attempt_log if e.get("kind") == "worker_lost")
            data: dict[str, Any]
            if losses >= max_losses:
                error = {"type": "permanent", "message": f"the job's worker died {losses} times while running it; "
                         "not run again (retry it once the cause is fixed)"}
                values: dict[str, Any] = {"status": "failed", "error": error, "finished_at": now}
                event, data = "job.failed", {"error": error}
            else:
                values = {"status": "retrying", "dispatch_at": now, "not_before": None}
                event, data = "job.retrying", {"reason": "worker_lost", "worker": job.worker_id}
            res = session.execute(update(JOBS).where(J.id == job.id, J.status == "running",
                                                     J.worker_id == job.worker_id)
                                  .values(**values, attempt_log=attempt_log, worker_id=None, lease_expires_at=None,
                                       updated_at=now))
            if res.rowcount:
                events.record(session, workspace=job.workspace_id, type=event, job_id=job.id, data=data)
                moved += 1
                log.warning("sweeper.took_over", job_id=job.id, worker=entry["worker"], losses=losses)
        session.commit()
    return moved


def _process_gone(proc: Any) -> bool:
    """A worker process on this machine whose pid no longer exists (no need to wait for its lease)."""
    if proc.hostname != socket.gethostname():
        return False
    try:
        os.kill(proc.pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def reap_dead_workers(engine: Engine, enqueuer: Enqueuer, *, after: float, batch: int = 50) -> int:
    """Worker processes that died without stopping: take their jobs over and hand their messages back.

    A process is dead when it stopped heartbeating for ``after`` seconds, or at once when it ran on
    this machine and its pid is gone. Its running jobs' leases are ended (the takeover follows in the
    same sweep) and the messages it had fetched but not started go back to the head of the queue, at
    once, instead of after dramatiq's own heartbeat timeout and maintenance lottery. Returns how many
    processes were reaped.
    """
    now = utcnow()
    with connection_scope(engine) as session:
        stmt = select(WORKER_PROCESSES).where(W.stopped_at.is_(None)).limit(1000)
        procs = list(session.execute(stmt).all())
        dead = [p for p in procs if p.heartbeat_at < now - timedelta(seconds=after) or _process_gone(p)][:batch]
        for proc in dead:
            claimed = session.execute(update(WORKER_PROCESSES).where(W.id == proc.id, W.stopped_at.is_(None))
                                      .values(stopped_at=now))
            if not claimed.rowcount:
                continue  # another sweeper got it
            session.execute(update(JOBS).where(J.worker_id == proc.id, J.status == "running")
                            .values(lease_expires_at=now - timedelta(seconds=1)))
            dropped = enqueuer.drop_dead(proc.broker_id, list(proc.queues)) if proc.broker_id else None
            resent = 0
            if dropped:
                resent = session.execute(update(JOBS).where(J.message_id.in_(dropped),
                                                            J.status.in_(("queued", "retrying")),
                                                            J.dispatch_at.is_(None))
                                         .values(dispatch_at=now, updated_at=now)).rowcount
            session.commit()
            log.warning("sweeper.reaped_worker", worker=proc.id, messages_dropped=len(dropped or []),
                        jobs_resent=resent)
    return len(dead)


#: With a broker that cannot say whether it holds a message, how long a waiting job waits before a resend.
UNKNOWN_STALE_SECONDS = 1800.0


def resend_lost(engine: Engine, enqueuer: Enqueuer, *, grace: float, stale: float, batch: int = 500) -> int:
    """Waiting jobs whose message the broker no longer holds (or holds where no one will run it)."""
    now = utcnow()
    with connection_scope(engine) as session:
        stmt = (select(J.id, J.agent, J.message_id, J.updated_at)
                .where(J.status.in_(("queued", "retrying")), J.dispatch_at.is_(None),
                       J.updated_at < now - timedelta(seconds=grace))
                .order_by(J.updated_at).limit(batch))
        rows = session.execute(stmt).all()
    lost: list[str] = []
    deep_checks = 50  # LPOS walks the queue: at most this many per sweep (the rest wait for the next)
    known = [(agent, message_id) for _, agent, message_id, _ in rows if message_id]
    presence = iter(enqueuer.has_messages(known)) if known else iter(())
    for job_id, agent, message_id, updated_at in rows:
        age = (now - updated_at).total_seconds()
        present = next(presence) if message_id else False
        if present is False:
            lost.append(job_id)
        elif present is None:
            # a broker that cannot be asked (RabbitMQ: durable queues, unacked messages requeued when a
            # consumer dies): only a job left waiting far longer than any backlog is sent again
            if age > UNKNOWN_STALE_SECONDS:
                lost.append(job_id)
        elif age > stale and deep_checks > 0:
            # fetched long ago but never started: a consumer dropped it (a Redis blip) or hoards it
            deep_checks -= 1
            if enqueuer.is_waiting(agent, message_id) is False:
                lost.append(job_id)
    if not lost:
        return 0
    with connection_scope(engine) as session:
        session.execute(update(JOBS).where(J.id.in_(lost), J.status.in_(("queued", "retrying")),
                                           J.dispatch_at.is_(None))
                        .values(dispatch_at=now, updated_at=now))
        session.commit()
    log.warning("sweeper.resend_lost", jobs=len(lost))
    return len(lost)


def complete_workflows(engine: Engine, *, batch: int = 100) -> int:
    """Workflow jobs left ``running`` whose steps are all finished: queue their combine."""
    step = JOBS.alias("step")
    unfinished = exists().where(step.c.parent_id == J.id, step.c.status.not_in(TERMINAL_STATUSES))
    with connection_scope(engine) as session:
        ids = session.execute(select(J.id).where(
            J.kind == "workflow", J.status == "running", J.worker_id.is_(None), ~unfinished,
            exists().where(step.c.parent_id == J.id)).limit(batch)).scalars().all()
        done = 0
        for job_id in ids:
            done += job_store.claim_parent_for_combine(session=session, parent_id=job_id)
    return done


class Maintenance:
    """The relay and the sweeper on their own thread (workers and schedulers run one each)."""

    def __init__(self, engine: Engine, enqueuer: Enqueuer, settings: Settings,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.engine, self.enqueuer, self.settings, self.clock = engine, enqueuer, settings, clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        #: After this process could not reach the database, take nothing over for one lease: the other
        #: workers' heartbeats were blocked by the same outage and need a beat to renew.
        self._quiet_until = 0.0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="sintra-maintenance", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def tick(self, *, sweep: bool) -> None:
        """One relay pass, and a sweep when ``sweep``."""
        s = self.settings
        relay_once(self.engine, self.enqueuer)
        if sweep:
            if self.clock() >= self._quiet_until:
                reap_dead_workers(self.engine, self.enqueuer, after=s.lease_seconds)
                take_over_expired(self.engine, max_losses=s.max_worker_losses)
            resend_lost(self.engine, self.enqueuer, grace=max(s.dispatch_grace_seconds, 2 * s.relay_seconds),
                        stale=s.stale_message_seconds)
            complete_workflows(self.engine)

    def _loop(self) -> None:
        next_sweep = 0.0
        while not self._stop.is_set():
            now = self.clock()
            try:
                self.tick(sweep=now >= next_sweep)
                if now >= next_sweep:
                    next_sweep = now + self.settings.sweep_seconds
            except Exception as exc:  # noqa: BLE001 - database or broker down: try again next pass
                from sqlalchemy.exc import DBAPIError

                if isinstance(exc, DBAPIError):
                    self._quiet_until = self.clock() + self.settings.lease_seconds + self.settings.heartbeat_seconds
                log.warning("maintenance.failed", error=type(exc).__name__)
            self._stop.wait(self.settings.relay_seconds)


