"""``GET /metrics``: Prometheus text, collected at scrape time from Redis and the database.

Everything is read from shared state, so one scrape of any API replica sees every worker process on
every machine (no per-process registries to merge). Queue depths are read from dramatiq's Redis keys by
:func:`producers.api.queue_depth.redis_depth` (the ops dashboard's own counts); ``<ns>:__heartbeats__``
is the worker zset.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Request, Response
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import case, func
from sqlalchemy import select as sa_select  # typed for any number of columns (sqlmodel's: up to 4)
from sqlmodel import Session, col, select

from config.catalog import agents
from producers.api.queue_depth import redis_depth
from workers.store.models import AuditEvent, Job, Schedule, WorkerProcess, utcnow
from workers.store.webhooks import WebhookDelivery

router = APIRouter(tags=["metrics"])
#: Provider-call duration buckets, in seconds.
BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
#: Job run-time buckets, in seconds.
JOB_BUCKETS = (0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0)
#: A worker whose heartbeat is older than this is not counted as alive.
HEARTBEAT_STALE_SECONDS = 60.0


class SintraCollector(Collector):
    """Queue depths from Redis; jobs, provider calls, webhooks, scheduler and workers from the database."""

    def __init__(self, engine: Any, broker: Any) -> None:
        self.engine, self.broker = engine, broker

    def collect(self) -> Iterator[Metric]:
        """Every family, read now."""
        yield from self._queues()
        with Session(self.engine) as session:
            yield from self._jobs(session)
            yield from self._provider_calls(session)
            yield from self._operations(session)

    def _queues(self) -> Iterator[Metric]:
        depth = GaugeMetricFamily("sintra_queue_messages", "Messages per agent queue and state.",
                                  labels=["queue", "state"])
        client, ns = getattr(self.broker, "client", None), getattr(self.broker, "namespace", "dramatiq")
        if client is not None:
            for queue in sorted({a.queue for a in agents()}):
                counts = redis_depth(client, queue, ns)  # the same counts the ops dashboard shows
                for state, key in (("ready", "ready"), ("delayed", "delayed"), ("in_flight", "unacked"),
                                   ("dead", "dead")):
                    depth.add_metric([queue, state], counts[key] or 0)
            alive = client.zcount(f"{ns}:__heartbeats__", (time.time() - HEARTBEAT_STALE_SECONDS) * 1000, "+inf")
            yield GaugeMetricFamily("sintra_broker_workers", "dramatiq consumers with a recent Redis heartbeat.",
                                    value=alive)
        yield depth

    def _jobs(self, session: Session) -> Iterator[Metric]:
        jobs = GaugeMetricFamily("sintra_jobs", "Jobs by agent and status.", labels=["agent", "status"])
        for agent, status, n in session.exec(select(Job.agent, Job.status, func.count()).group_by(
                Job.agent, Job.status)).all():
            jobs.add_metric([agent, status], n)
        yield jobs
        retries = CounterMetricFamily("sintra_job_retries", "Attempts beyond the first, by agent.", labels=["agent"])
        for agent, n in session.exec(select(Job.agent, func.sum(Job.attempts - 1)).where(
                col(Job.attempts) > 1).group_by(Job.agent)).all():
            retries.add_metric([agent], float(n or 0))
        yield retries
        yield self._job_durations(session)
        outbox = session.exec(select(func.count()).where(col(Job.dispatch_at) <= utcnow())).one()
        yield GaugeMetricFamily("sintra_outbox_backlog", "Jobs whose message is due to be (re)sent.", value=outbox)

    def _job_durations(self, session: Session) -> Metric:
        """Finished jobs' run time (start of the last attempt to the end), by agent, integration and action."""
        hist = HistogramMetricFamily("sintra_job_duration_seconds", "Job run time, last attempt to finish.",
                                     labels=["agent", "integration", "action", "status"])
        if session.get_bind().dialect.name == "sqlite":
            seconds: Any = (func.julianday(Job.finished_at) - func.julianday(Job.started_at)) * 86400.0
        else:
            seconds = func.extract("epoch", col(Job.finished_at) - col(Job.started_at))
        sums = [func.sum(case((seconds <= b, 1), else_=0)) for b in JOB_BUCKETS]
        q = sa_select(col(Job.agent), col(Job.integration), col(Job.action), col(Job.status), func.count(),
                      func.sum(seconds), *sums).where(
            col(Job.status).in_(("succeeded", "failed")), col(Job.started_at).is_not(None),
            col(Job.finished_at).is_not(None)).group_by(Job.agent, Job.integration, Job.action, Job.status)
        for agent, integration, action, status, n, total, *le in session.execute(q).all():
            buckets = [(str(b), float(c or 0)) for b, c in zip(JOB_BUCKETS, le, strict=True)] + [("+Inf", float(n))]
            hist.add_metric([agent, integration, action, status], buckets, max(0.0, float(total or 0)))
        return hist

    def _provider_calls(self, session: Session) -> Iterator[Metric]:
        calls = CounterMetricFamily("sintra_provider_responses", "Provider responses by integration and class.",
                                    labels=["integration", "status_class"])
        klass = case((col(AuditEvent.status).is_(None), "none"), else_=func.substr(
            func.cast(col(AuditEvent.status), _text()), 1, 1) + "xx")
        calls_q = select(AuditEvent.integration, klass, func.count()).where(
            AuditEvent.kind == "provider_call").group_by(AuditEvent.integration, klass)
        for integration, status_class, n in session.exec(calls_q).all():
            calls.add_metric([integration or "", status_class], n)
        yield calls
        hist = HistogramMetricFamily("sintra_provider_call_duration_seconds", "Provider call duration.",
                                     labels=["agent", "integration", "action"])
        sums = [func.sum(case((col(AuditEvent.duration_ms) <= b * 1000, 1), else_=0)) for b in BUCKETS]
        q = sa_select(col(AuditEvent.agent), col(AuditEvent.integration), col(AuditEvent.action), func.count(),
                      func.sum(AuditEvent.duration_ms), *sums).where(col(AuditEvent.kind) == "provider_call").group_by(
            col(AuditEvent.agent), col(AuditEvent.integration), col(AuditEvent.action))
        for agent, integration, action, n, total, *le in session.execute(q).all():
            buckets = [(str(b), float(c or 0)) for b, c in zip(BUCKETS, le, strict=True)] + [("+Inf", float(n))]
            hist.add_metric([agent or "", integration or "", action or ""], buckets, float(total or 0) / 1000)
        yield hist
        waits = session.exec(select(func.count()).where(AuditEvent.kind == "provider_call",
                                                        AuditEvent.outcome == "rate_limited")).one()
        yield CounterMetricFamily("sintra_rate_limit_waits", "Provider answers that made a job wait (429).",
                                  value=waits)

    def _operations(self, session: Session) -> Iterator[Metric]:
        now = utcnow()
        due = session.exec(select(func.min(Schedule.next_fire_at)).where(
            Schedule.status == "active", col(Schedule.next_fire_at) <= now)).one()
        due_job = session.exec(select(func.min(Job.run_at)).where(
            Job.status == "scheduled", col(Job.run_at) <= now)).one()
        oldest = min([t for t in (due, due_job) if t is not None], default=None)
        yield GaugeMetricFamily("sintra_scheduler_lag_seconds", "Age of the oldest due, unfired schedule or job.",
                                value=(now - _aware(oldest)).total_seconds() if oldest else 0.0)
        alive = GaugeMetricFamily("sintra_worker_processes", "Worker processes by agent with a fresh heartbeat.",
                                  labels=["agent"])
        age = GaugeMetricFamily("sintra_worker_heartbeat_age_seconds", "Seconds since each agent's newest "
                                "heartbeat.", labels=["agent"])
        rows = session.exec(select(WorkerProcess.agent, WorkerProcess.heartbeat_at).where(
            col(WorkerProcess.stopped_at).is_(None))).all()
        by_agent: dict[str, list[float]] = {}
        for agent, beat in rows:
            by_agent.setdefault(agent or "", []).append((now - _aware(beat)).total_seconds())
        for agent, ages in sorted(by_agent.items()):
            alive.add_metric([agent], sum(1 for a in ages if a < HEARTBEAT_STALE_SECONDS))
            age.add_metric([agent], min(ages))
        yield alive
        yield age
        hooks = GaugeMetricFamily("sintra_webhook_deliveries", "Webhook deliveries by status.", labels=["status"])
        for status, n in session.exec(select(WebhookDelivery.status, func.count()).group_by(
                WebhookDelivery.status)).all():
            hooks.add_metric([status], n)
        yield hooks


def _text() -> Any:
    from sqlalchemy import String

    return String()


def _aware(value: Any) -> Any:
    from datetime import UTC, datetime

    if isinstance(value, str):  # SQLite aggregates skip the column type
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    """Prometheus exposition of every Sintra metric."""
    registry = getattr(request.app.state, "metrics_registry", None)
    if registry is None:
        registry = CollectorRegistry()
        registry.register(SintraCollector(request.app.state.engine, request.app.state.enqueuer.broker))
        request.app.state.metrics_registry = registry
    return Response(generate_latest(registry), media_type="text/plain; version=0.0.4; charset=utf-8")
