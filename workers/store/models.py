"""Tables. The schema is created and evolved only by the Alembic migrations in ``migrations/``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

# the column types and the clock are shared with the Core tables of the worker's own statements
from workers.store.tables import ScrubbedJSON, UTCDateTime, utcnow

__all__ = ["ApiKey", "AuditEvent", "Event", "IntegrationState", "Job", "JobStep", "Schedule", "ScheduleFiring",
           "ScrubbedJSON", "UTCDateTime", "WorkerProcess", "Workspace", "utcnow"]


def _ts(nullable: bool = True, *, index: bool = False) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable, index=index))


class Workspace(SQLModel, table=True):
    """A tenant: keys, jobs, integrations and Vault paths belong to one."""

    __tablename__ = "workspaces"

    id: str = Field(primary_key=True, max_length=64)
    created_at: datetime = _ts(False)


class ApiKey(SQLModel, table=True):
    """An API key, stored as a SHA-256 hash (keys are 256-bit random, so no slow hash is needed)."""

    __tablename__ = "api_keys"

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(foreign_key="workspaces.id", index=True, max_length=64)
    prefix: str = Field(max_length=16, index=True)
    key_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = _ts(False)
    revoked_at: datetime | None = _ts()
    #: ``workspace`` (its own workspace only) or ``operator`` (manages every workspace's keys).
    scope: str = Field(default="workspace", max_length=16, sa_column_kwargs={"server_default": "workspace"})


class IntegrationState(SQLModel, table=True):
    """Non-secret facts about one workspace's integration: which fields are set, status, when, app fields."""

    __tablename__ = "integrations"
    __table_args__ = (UniqueConstraint("workspace_id", "agent", "integration", name="uq_integration"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(foreign_key="workspaces.id", max_length=64)
    agent: str = Field(max_length=32)
    integration: str = Field(max_length=64)
    status: str = Field(max_length=32)
    fields_set: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    vault_version: int | None = None
    message: str | None = Field(default=None, max_length=1000)
    configured_at: datetime | None = _ts()
    connected_at: datetime | None = _ts()
    disconnected_at: datetime | None = _ts()
    updated_at: datetime = _ts(False)
    #: When the scheduler's health check next tests this connection (None: not yet given its slot).
    next_check_at: datetime | None = _ts(index=True)
    #: An OAuth app's non-secret field values (client id, a My Domain) for the consent URL; never a secret.
    #: Plain JSON, not ScrubbedJSON: only fields the catalog declares non-secret are written here
    #: (``public_app_fields`` refuses any other), and scrubbing would mangle an app id that shares an
    #: 8-character run with some registered secret.
    app_fields: dict[str, str] | None = Field(default=None, sa_column=Column(JSON, nullable=True))


class Job(SQLModel, table=True):
    """One unit of agent work and its state."""

    __tablename__ = "jobs"
    __table_args__ = (UniqueConstraint("workspace_id", "idempotency_key", name="uq_job_idempotency"),)

    id: str = Field(primary_key=True, max_length=64)
    workspace_id: str = Field(foreign_key="workspaces.id", index=True, max_length=64)
    agent: str = Field(max_length=32, index=True)
    integration: str = Field(max_length=64)
    action: str = Field(max_length=64)
    kind: str = Field(default="action", max_length=32)
    params: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(max_length=32, index=True)
    attempts: int = 0
    result: Any = Field(default=None, sa_column=Column(ScrubbedJSON, nullable=True))
    error: dict[str, Any] | None = Field(default=None, sa_column=Column(ScrubbedJSON, nullable=True))
    progress: dict[str, Any] | None = Field(default=None, sa_column=Column(ScrubbedJSON, nullable=True))
    idempotency_key: str | None = Field(default=None, max_length=200)
    #: When a scheduled job becomes due (one-shots and schedule firings); None means "now".
    run_at: datetime | None = _ts(index=True)
    schedule_id: str | None = Field(default=None, max_length=64, index=True)
    #: The workflow job this job is a step of.
    parent_id: str | None = Field(default=None, max_length=64, index=True)
    created_at: datetime = _ts(False)
    started_at: datetime | None = _ts()
    finished_at: datetime | None = _ts()
    updated_at: datetime = _ts(False)
    #: Every attempt's outcome, oldest first: ``{"attempt", "at", "kind", "message", ...}``.
    attempt_log: list[dict[str, Any]] | None = Field(default=None, sa_column=Column(ScrubbedJSON, nullable=True))
    #: The outbox: when set, a relay must (re)send this job's message at or after this time.
    dispatch_at: datetime | None = _ts(index=True)
    #: The message id of the last message sent for this job (to tell a lost message from a queued one).
    message_id: str | None = Field(default=None, max_length=64)
    #: The worker process running it, and until when its heartbeat holds the job.
    worker_id: str | None = Field(default=None, max_length=64, index=True)
    lease_expires_at: datetime | None = _ts()
    #: A retry waits until this time (a message that arrives earlier is ignored).
    not_before: datetime | None = _ts()
    #: When the job was first throttled in its current run of 429s (the rate-limit budget counts from it).
    rate_limited_since: datetime | None = _ts()
    cancel_requested_at: datetime | None = _ts()


class Event(SQLModel, table=True):
    """A job's or integration's change, in order: the status timeline, the live stream, webhooks."""

    __tablename__ = "events"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _ts(False)
    workspace_id: str = Field(max_length=64, index=True)
    type: str = Field(max_length=64)
    job_id: str | None = Field(default=None, max_length=64, index=True)
    data: dict[str, Any] | None = Field(default=None, sa_column=Column(ScrubbedJSON, nullable=True))


class WorkerProcess(SQLModel, table=True):
    """A worker process and its heartbeat (its running jobs' leases are renewed with it)."""

    __tablename__ = "worker_processes"

    id: str = Field(primary_key=True, max_length=64)
    agent: str | None = Field(default=None, max_length=32)
    hostname: str = Field(max_length=255)
    pid: int
    queues: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    started_at: datetime = _ts(False)
    heartbeat_at: datetime = _ts(False, index=True)
    in_flight: int = 0
    stopped_at: datetime | None = _ts()
    #: The broker's id for this process (Redis keeps its fetched-but-unacked messages under it).
    broker_id: str | None = Field(default=None, max_length=64)


class JobStep(SQLModel, table=True):
    """A durable note a job leaves for its own retries (ids of objects already created)."""

    __tablename__ = "job_steps"

    job_id: str = Field(foreign_key="jobs.id", primary_key=True, max_length=64)
    key: str = Field(primary_key=True, max_length=128)
    value: Any = Field(default=None, sa_column=Column(ScrubbedJSON, nullable=True))
    created_at: datetime = _ts(False)


class AuditEvent(SQLModel, table=True):
    """One provider call or one API mutation. Never a body, a header, a query string or a value."""

    __tablename__ = "audit_events"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _ts(False)
    workspace_id: str | None = Field(default=None, max_length=64, index=True)
    actor: str = Field(max_length=64)
    kind: str = Field(max_length=32)
    job_id: str | None = Field(default=None, max_length=64, index=True)
    agent: str | None = Field(default=None, max_length=32)
    integration: str | None = Field(default=None, max_length=64)
    action: str | None = Field(default=None, max_length=64)
    method: str | None = Field(default=None, max_length=16)
    path: str | None = Field(default=None, max_length=500)
    status: int | None = None
    duration_ms: float | None = None
    outcome: str = Field(max_length=32)
    detail: dict[str, Any] | None = Field(default=None, sa_column=Column(ScrubbedJSON, nullable=True))


class Schedule(SQLModel, table=True):
    """A recurring job: a cron expression in an IANA time zone and the job it produces."""

    __tablename__ = "schedules"

    id: str = Field(primary_key=True, max_length=64)
    workspace_id: str = Field(foreign_key="workspaces.id", index=True, max_length=64)
    name: str = Field(max_length=200)
    cron: str = Field(max_length=200)
    timezone: str = Field(max_length=64)
    agent: str = Field(max_length=32)
    integration: str = Field(max_length=64)
    action: str = Field(max_length=64)
    params: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    #: After downtime: "run_latest" fires the most recent missed time once; "skip" fires none.
    misfire_policy: str = Field(default="run_latest", max_length=16)
    status: str = Field(default="active", max_length=16, index=True)
    paused_reason: str | None = Field(default=None, max_length=500)
    next_fire_at: datetime | None = _ts(index=True)
    last_fired_at: datetime | None = _ts()
    created_at: datetime = _ts(False)
    updated_at: datetime = _ts(False)


class ScheduleFiring(SQLModel, table=True):
    """One firing of a schedule; the primary key makes each (schedule, fire time) happen once."""

    __tablename__ = "schedule_firings"

    schedule_id: str = Field(foreign_key="schedules.id", primary_key=True, max_length=64)
    fire_at: datetime = Field(sa_column=Column(UTCDateTime(), primary_key=True))
    job_id: str | None = Field(default=None, max_length=64)
    outcome: str = Field(max_length=32)
    created_at: datetime = _ts(False)
