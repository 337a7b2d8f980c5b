"""Response shapes of the HTTP API, shared by the routes (``response_model``) and the client (typed results).

Pydantic only, so the client carries no web framework. Request bodies live in ``config.messages``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from config.messages import IntegrationStatus, JobPublic, MisfirePolicy

_EXAMPLE_TIME = "2026-12-01T09:00:00Z"


class ErrorDetail(BaseModel):
    """What went wrong: a stable ``code``, a message for people, and code-specific fields."""

    model_config = ConfigDict(extra="allow")

    code: str = Field(examples=["not_found"])
    message: str = Field(examples=["no job 'abc' in workspace 'acme'"])


class ErrorResponse(BaseModel):
    """Every error answer: ``{"error": {"code", "message", ...}}``."""

    error: ErrorDetail


#: Error answers every authenticated route may give, for the OpenAPI document.
COMMON_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorResponse, "description": "The body is not valid JSON (`malformed_json`)."},
    401: {"model": ErrorResponse, "description": "Missing, invalid or revoked API key."},
    422: {"model": ErrorResponse, "description": "Invalid request; `error.fields` names each bad field."},
}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the given extra error status codes."""
    text = {400: "Malformed request.", 404: "Not found in the caller's workspace.", 409: "Conflicts with state.",
            501: "Declared but not implemented.", 503: "A backing service is unavailable."}
    return {c: {"model": ErrorResponse, "description": text.get(c, "Error.")} for c in codes}


class CredentialFieldPublic(BaseModel):
    """One credential field of an integration (its name and kind, never a value)."""

    name: str
    secret: bool
    required: bool
    description: str


class TestConnectionPublic(BaseModel):
    """The provider call ``connect`` makes."""

    method: str
    path: str
    description: str


class ActionPublic(BaseModel):
    """One action with its parameters' JSON Schema and the declared JSON Schema of its job result."""

    name: str
    description: str
    side_effect: bool
    restricted: str | None
    parameters: dict[str, Any]
    #: What a succeeded job's ``result`` holds (fields beyond it may appear); None for a restricted action.
    result_schema: dict[str, Any] | None = None


class IntegrationStatePublic(BaseModel):
    """A workspace's state of one integration."""

    status: IntegrationStatus
    fields_set: list[str]
    configured_at: datetime | None
    connected_at: datetime | None
    disconnected_at: datetime | None
    message: str | None


class IntegrationPublic(IntegrationStatePublic):
    """An agent-integration pair: catalog facts, actions and the workspace's state."""

    agent: str = Field(examples=["emmie"])
    id: str = Field(examples=["mailchimp"])
    provider: str
    name: str
    availability: Literal["available", "restricted"]
    reason: str | None
    implemented: bool
    auth: str
    docs_url: str
    credential_fields: list[CredentialFieldPublic]
    test_connection: TestConnectionPublic
    actions: list[ActionPublic]


class DisconnectResult(IntegrationPublic):
    """The integration after disconnect, with what the disconnect stopped."""

    jobs_failed: int
    schedules_paused: int


class AgentPublic(BaseModel):
    """An agent and its integrations."""

    id: str
    name: str
    role: str
    queue: str
    integrations: list[IntegrationPublic]


class AgentsPublic(BaseModel):
    """The whole catalog with the workspace's state."""

    agents: list[AgentPublic]


class ConnectResult(BaseModel):
    """Outcome of a connection test; ``pending`` (HTTP 202) means poll ``poll``."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"status": "connected", "job_id": "3f2a", "message": "connection test succeeded",
         "account": {"account_id": "8d3a"}}]})

    status: Literal["connected", "auth_failed", "provider_unreachable", "error", "pending"]
    job_id: str
    message: str | None = None
    account: Any = None
    error: dict[str, Any] | None = None
    poll: str | None = None


class JobsPublic(BaseModel):
    """A page of jobs, newest first; pass ``next_cursor`` as ``cursor`` for the next page."""

    jobs: list[JobPublic]
    count: int
    next_cursor: str | None = Field(default=None, examples=["eyJ0IjoiMjAyNi0xMi0wMVQwOTowMDowMFoiLCJpZCI6ImFiYyJ9"])


class JobTemplatePublic(BaseModel):
    """The job a schedule produces."""

    agent: str
    integration: str
    action: str
    params: dict[str, Any]


class SchedulePublic(BaseModel):
    """A recurring job with its next fire times (UTC and the schedule's zone)."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"id": "5d1c", "name": "weekly report", "cron": "0 9 * * MON", "timezone": "Europe/Paris",
         "job": {"agent": "emmie", "integration": "mailchimp", "action": "list_campaigns", "params": {}},
         "misfire_policy": "run_latest", "status": "active", "paused_reason": None,
         "next_fire_at": _EXAMPLE_TIME, "next_fire_times": [_EXAMPLE_TIME],
         "next_fire_times_local": ["2026-12-01T10:00:00+01:00"], "last_fired_at": None,
         "created_at": _EXAMPLE_TIME, "updated_at": _EXAMPLE_TIME}]})

    id: str
    name: str
    cron: str
    timezone: str
    job: JobTemplatePublic
    misfire_policy: MisfirePolicy
    status: Literal["active", "paused"]
    paused_reason: str | None
    next_fire_at: datetime | None
    next_fire_times: list[str]
    next_fire_times_local: list[str]
    last_fired_at: datetime | None
    created_at: datetime
    updated_at: datetime


class ScheduleDetail(SchedulePublic):
    """A schedule and the newest jobs it produced."""

    jobs: list[JobPublic]


class SchedulesPublic(BaseModel):
    """A page of schedules, oldest first."""

    schedules: list[SchedulePublic]
    next_cursor: str | None = None


class WorkflowStepPublic(BaseModel):
    """One step of a workflow: an agent's action, in a stage (a stage starts when the one before succeeded)."""

    agent: str
    integration: str
    action: str
    stage: int = 0
    section: str


class WorkflowPublic(BaseModel):
    """A workflow with its parameters' JSON Schema."""

    id: str
    agent: str
    description: str
    parameters: dict[str, Any]
    steps: list[WorkflowStepPublic]


class WorkflowsPublic(BaseModel):
    """Every workflow."""

    workflows: list[WorkflowPublic]


class Liveness(BaseModel):
    """The process is up."""

    status: Literal["ok"]


class CheckResult(BaseModel):
    """One dependency's check."""

    ok: bool
    detail: str


class Readiness(BaseModel):
    """Whether Redis, the database and Vault answer; HTTP 503 names those that do not."""

    status: Literal["ready", "unavailable"]
    checks: dict[str, CheckResult]
    down: list[str]


WebhookEventType = Literal["job.succeeded", "job.failed", "integration.error", "integration.disconnected",
                           "schedule.paused"]


class WebhookCreate(BaseModel):
    """Body of ``POST /api/webhooks``."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"url": "https://hooks.example.com/sintra", "events": ["job.succeeded", "job.failed"]}]})

    url: str = Field(min_length=8, max_length=2000, description="https URL of the receiver.")
    events: list[WebhookEventType] = Field(min_length=1, description="Event types to deliver.")
    description: str = Field(default="", max_length=500)


class WebhookPublic(BaseModel):
    """A webhook endpoint (never its secret)."""

    id: str
    url: str
    events: list[str]
    description: str
    status: str
    created_at: datetime


class WebhookCreated(WebhookPublic):
    """The new endpoint with its signing secret, shown this once: store it now."""

    secret: str = Field(examples=["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"])


class KeyPublic(BaseModel):
    """What may be shown about an API key: never the key or its hash."""

    id: int
    workspace: str
    prefix: str = Field(examples=["sk_tI_Fvvf"])
    scope: str = Field(examples=["workspace"],
                       description="`workspace`, or `operator` (manages every workspace's keys).")
    created_at: datetime | None = None
    revoked_at: datetime | None = None
    active: bool


class KeysPublic(BaseModel):
    """The caller's workspace's keys (every workspace's for an operator key)."""

    keys: list[KeyPublic]


class KeyRotated(BaseModel):
    """The revoked key and its replacement, shown this once: store it now."""

    revoked: KeyPublic
    key: str = Field(examples=["sk_tI_Fvvf4nzMA1CmZ97qlTF5f9fNOXuHqGqx2XP2R3_s"])
    prefix: str


class WebhooksPublic(BaseModel):
    """A page of endpoints, oldest first."""

    webhooks: list[WebhookPublic]
    next_cursor: str | None = None


class DeliveryAttempt(BaseModel):
    """One attempt of a delivery."""

    attempt: int
    at: datetime
    status: int | None
    error: str | None
    duration_ms: float


class DeliveryPublic(BaseModel):
    """One event sent (or to be sent) to one endpoint, with its attempts."""

    id: str = Field(description="The `webhook-id` header, the same on every attempt.")
    endpoint_id: str
    event_id: int
    event_type: str
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    next_attempt_at: datetime | None
    last_status: int | None
    last_error: str | None
    payload: dict[str, Any]
    attempt_log: list[DeliveryAttempt]
    created_at: datetime
    delivered_at: datetime | None


class DeliveriesPublic(BaseModel):
    """A page of an endpoint's deliveries, newest first."""

    deliveries: list[DeliveryPublic]
    next_cursor: str | None = None


class BulkRetryResult(BaseModel):
    """What a bulk retry matched (``dry_run``) or retried."""

    dry_run: bool
    count: int
    job_ids: list[str]


class TimelineEvent(BaseModel):
    """One entry of a job's timeline."""

    id: int
    at: datetime
    type: str
    data: dict[str, Any] | None


class JobTimeline(BaseModel):
    """A job's events, oldest first."""

    job_id: str
    events: list[TimelineEvent]
