"""Response shapes of the ``/api/ops`` routes and the audit rows (``response_model`` and typed client results)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from config.messages import JobPublic


class Percentiles(BaseModel):
    """Nearest-rank percentiles in seconds (None without samples)."""

    p50: float | None = None
    p95: float | None = None
    p99: float | None = None


class QueueWindow(BaseModel):
    """One agent's jobs over the statistics window."""

    finished: int
    failed: int
    per_minute: float
    pickup_s: Percentiles
    duration_s: Percentiles


class BrokerDepth(BaseModel):
    """The broker's own counts of a queue (operators only; RabbitMQ does not count unacked)."""

    ready: int | None = None
    unacked: int | None = None
    delayed: int | None = None
    dead: int | None = None
    error: str | None = None


class QueueStats(BaseModel):
    """One agent's queue: jobs by status now, the window's numbers, and the broker's counts."""

    agent: str
    name: str
    queue: str
    jobs: dict[str, int]
    window: QueueWindow
    broker: BrokerDepth | None = None


class QueuesPublic(BaseModel):
    """Answer of ``GET /api/ops/queues``."""

    scope: str
    window_minutes: int
    generated_at: datetime
    queues: list[QueueStats]


class WorkerPublic(BaseModel):
    """A worker process (host and pid for operators only)."""

    id: str
    agent: str | None
    queues: list[str]
    started_at: datetime
    heartbeat_at: datetime
    in_flight: int
    alive: bool
    stopped_at: datetime | None = None
    hostname: str | None = None
    pid: int | None = None


class WorkersPublic(BaseModel):
    """Answer of ``GET /api/ops/workers``."""

    workers: list[WorkerPublic]
    alive: int


class JobSearchPage(BaseModel):
    """Answer of ``GET /api/ops/jobs``: one page and the total that match."""

    jobs: list[JobPublic]
    total: int
    offset: int
    limit: int


class AuditRow(BaseModel):
    """One provider call or API change (never a body, header, query string or value)."""

    id: int
    at: datetime
    workspace: str | None = None
    actor: str
    kind: str
    job_id: str | None = None
    agent: str | None = None
    integration: str | None = None
    action: str | None = None
    method: str | None = None
    path: str | None = None
    status: int | None = None
    duration_ms: float | None = None
    outcome: str
    detail: dict[str, Any] | None = None


class JobAudit(BaseModel):
    """Answer of ``GET /api/jobs/{id}/audit``, oldest first."""

    job_id: str
    audit: list[AuditRow]


class IntegrationAudit(BaseModel):
    """Answer of ``GET /api/integrations/{agent}/{integration}/audit``, newest first."""

    agent: str
    integration: str
    audit: list[AuditRow]


class Firing(BaseModel):
    """One firing of a schedule and the job it produced."""

    fire_at: datetime
    job_id: str | None = None
    outcome: str


class ScheduleFirings(BaseModel):
    """Answer of ``GET /api/schedules/{id}/firings``, newest first."""

    schedule_id: str
    firings: list[Firing]
