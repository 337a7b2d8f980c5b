"""The message schema shared by producers and workers, and the job request/response shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

#: Version of :class:`JobMessage`; workers reject messages of another version with a clear error.
SCHEMA_VERSION: Final = 2

JobStatus = Literal["scheduled", "queued", "running", "retrying", "succeeded", "failed", "cancelled"]
#: Statuses after which a job never changes again.
TERMINAL_STATUSES: frozenset[str] = frozenset({"succeeded", "failed", "cancelled"})
JobKind = Literal["action", "test_connection", "workflow"]
IntegrationStatus = Literal["not_configured", "configured", "connected", "error", "needs_reconnect",
                            "disconnected"]

class JobMessage(BaseModel):
    """What travels on an agent's queue: a wake-up naming the job, nothing else.

    The worker reads agent, integration, action and params from the job row, never from the message,
    so a forged or stale message can at most wake a job up; the row decides whether it runs.
    """

    model_config = ConfigDict(extra="forbid")

    v: Literal[2] = SCHEMA_VERSION
    job_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    workspace: str = Field(min_length=1, max_length=64)


class JobCreate(BaseModel):
    """Body of ``POST /api/jobs``."""

    model_config = ConfigDict(extra="forbid")

    agent: str
    integration: str
    action: str
    params: dict[str, Any] = Field(default_factory=dict)
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=200)
    #: Run at this time (ISO 8601 with an offset) instead of now; the job is "scheduled" until then.
    run_at: AwareDatetime | None = None


class WorkflowCreate(BaseModel):
    """Body of ``POST /api/workflows/{workflow_id}``."""

    model_config = ConfigDict(extra="forbid")

    params: dict[str, Any] = Field(default_factory=dict)
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=200)


class JobTemplate(BaseModel):
    """The job a schedule produces at each firing."""

    model_config = ConfigDict(extra="forbid")

    agent: str
    integration: str
    action: str
    params: dict[str, Any] = Field(default_factory=dict)


MisfirePolicy = Literal["run_latest", "skip"]


class ScheduleCreate(BaseModel):
    """Body of ``POST /api/schedules``."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(default="", max_length=200)
    cron: str = Field(min_length=1, max_length=200, description="Five-field cron expression.")
    timezone: str = Field(default="UTC", min_length=1, max_length=64, description="IANA time zone.")
    job: JobTemplate
    misfire_policy: MisfirePolicy = "run_latest"


class ScheduleUpdate(BaseModel):
    """Body of ``PATCH /api/schedules/{id}``: any subset of the fields."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=200)
    cron: str | None = Field(default=None, min_length=1, max_length=200)
    timezone: str | None = Field(default=None, min_length=1, max_length=64)
    job: JobTemplate | None = None
    misfire_policy: MisfirePolicy | None = None


class JobError(BaseModel):
    """Why a job failed (or why its last attempt did)."""

    type: str
    message: str
    model_config = ConfigDict(extra="allow")


class JobPublic(BaseModel):
    """A job as the API shows it."""

    id: str
    workspace: str
    agent: str
    integration: str
    action: str
    kind: JobKind
    status: JobStatus
    attempts: int
    params: dict[str, Any]
    result: Any = None
    error: JobError | None = None
    progress: dict[str, Any] | None = None
    idempotency_key: str | None = None
    run_at: datetime | None = None
    schedule_id: str | None = None
    parent_id: str | None = None
    #: Every attempt's outcome, oldest first (``attempt``, ``at``, ``kind``, ``message``).
    attempt_log: list[dict[str, Any]] = Field(default_factory=list)
    #: When a retrying job runs again.
    not_before: datetime | None = None
    cancel_requested_at: datetime | None = None
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    updated_at: datetime


class CredentialsIn(BaseModel):
    """Body of ``POST .../configure``."""

    model_config = ConfigDict(extra="forbid")

    credentials: dict[str, str]
