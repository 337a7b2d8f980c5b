"""Typed Python client for the whole Sintra API, sync and async, on httpx.

Both clients share one definition of every call (:class:`_Api`): a method builds the request and the
result type, and the client's ``_send`` runs it (blocking, or as a coroutine for the async client).
``OPERATIONS`` maps each OpenAPI operation id to its method; a test keeps it equal to the routes.
Receivers of webhooks use :func:`verify`.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

import httpx
from pydantic import BaseModel

from config.messages import TERMINAL_STATUSES, JobCreate, JobPublic, JobTemplate, ScheduleCreate
from producers.schemas import (AgentPublic, BulkRetryResult, JobTimeline, AgentsPublic, ConnectResult,
                               DeliveriesPublic, DeliveryPublic,
                               DisconnectResult, IntegrationPublic, JobsPublic, Liveness, Readiness,
                               ScheduleDetail, SchedulePublic, SchedulesPublic, WebhookCreated, WebhookPublic,
                               WebhooksPublic, WorkflowsPublic, KeyPublic, KeyRotated, KeysPublic)
from producers.ops_schemas import (
    IntegrationAudit,
    JobAudit,
    JobSearchPage,
    QueuesPublic,
    ScheduleFirings,
    WorkersPublic,
)
from producers.mcp.exports import AgentTools
from producers.webhook_signature import WebhookVerificationError, verify

__all__ = ["AsyncSintraClient", "SintraApiError", "SintraClient", "WebhookVerificationError", "verify"]

#: Default time a request may take.
DEFAULT_TIMEOUT = 30.0

#: OpenAPI operation id -> client method (the same name on both clients).
OPERATIONS = {
    "health_healthz": "healthz", "health_readyz": "readyz",
    "integrations_list_all": "integrations", "integrations_list_agent": "agent",
    "integrations_get_one": "integration", "integrations_configure": "configure",
    "integrations_connect": "connect", "integrations_disconnect": "disconnect",
    "jobs_create": "create_job", "jobs_list": "list_jobs", "jobs_read": "get_job", "jobs_cancel": "cancel_job",
    "jobs_retry": "retry_job", "jobs_retry_many": "retry_jobs", "jobs_timeline": "job_timeline",
    "events_job_events": "job_events", "events_workspace_events": "events",
    "schedules_create": "create_schedule", "schedules_list": "schedules", "schedules_read": "schedule",
    "schedules_update": "update_schedule", "schedules_pause": "pause_schedule",
    "schedules_resume": "resume_schedule", "schedules_delete": "delete_schedule",
    "workflows_list": "workflows", "workflows_start": "run_workflow",
    "webhooks_create": "create_webhook", "webhooks_list": "webhooks", "webhooks_read": "webhook",
    "webhooks_delete": "delete_webhook", "webhooks_deliveries": "webhook_deliveries",
    "webhooks_redeliver": "redeliver",
    "keys_list": "keys", "keys_revoke": "revoke_key", "keys_rotate": "rotate_key",
    "ops_queues": "queue_stats", "ops_workers": "workers", "ops_search": "search_jobs",
    "ops_job_audit": "job_audit", "ops_integration_audit": "integration_audit",
    "ops_schedule_firings": "schedule_firings", "ops_run_now": "run_schedule_now",
    "tools_export": "agent_tools",
}


class SintraApiError(Exception):
    """The API answered with an error; ``status``, ``code`` and ``body`` say which."""

    def __init__(self, status: int, code: str, message: str, body: Any) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message, self.body = status, code, message, body


def _check(response: httpx.Response) -> Any:
    if response.is_success:
        return None if response.status_code == 204 else response.json()
    try:
        body = response.json()
        err = body.get("error", {})
    except ValueError:
        raise SintraApiError(response.status_code, "error", response.text[:200], None) from None
    raise SintraApiError(response.status_code, err.get("code", "error"), err.get("message", ""), body)


@dataclass(frozen=True)
class _Call:
    """One request and the type of its answer."""

    method: str
    path: str
    result: Any = None
    json: Any = None
    params: dict[str, Any] = field(default_factory=dict)

    def parse(self, response: httpx.Response) -> Any:
        data = _check(response)
        if self.result is None or data is None:
            return data
        return self.result.model_validate(data) if isinstance(self.result, type) and issubclass(
            self.result, BaseModel) else self.result(data)

    def kwargs(self) -> dict[str, Any]:
        out: dict[str, Any] = {"params": {k: v for k, v in self.params.items() if v is not None}}
        if self.json is not None:
            out["json"] = self.json
        return out


@dataclass(frozen=True)
class Event:
    """One server-sent event: its id (None for snapshots), type and data."""

    id: int | None
    type: str
    data: Any


def _parse_sse(lines: Iterator[str]) -> Iterator[Event]:
    """Events from the lines of a ``text/event-stream``."""
    fields: dict[str, str] = {}
    for line in lines:
        if line == "":
            if "data" in fields:
                yield Event(int(fields["id"]) if fields.get("id") else None, fields.get("event", "message"),
                            json.loads(fields["data"]))
            fields = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            fields[name] = value[1:] if value.startswith(" ") else value


class _Api:
    """Every API call, defined once for both clients (``_send`` runs it)."""

    def _send(self, call: _Call) -> Any:
        raise NotImplementedError

    # -- health ------------------------------------------------------------------------------------
    def healthz(self) -> Liveness:
        """Liveness of the API process."""
        return self._send(_Call("GET", "/healthz", Liveness))

    def readyz(self) -> Readiness:
        """Readiness: Redis, database, Vault (a 503 raises :class:`SintraApiError` with the body)."""
        return self._send(_Call("GET", "/readyz", Readiness))

    # -- integrations ------------------------------------------------------------------------------
    def integrations(self) -> AgentsPublic:
        """The catalog with this workspace's state."""
        return self._send(_Call("GET", "/api/integrations/", AgentsPublic))

    def agent(self, agent: str) -> AgentPublic:
        """One agent's integrations."""
        return self._send(_Call("GET", f"/api/integrations/{agent}", AgentPublic))

    def integration(self, agent: str, integration: str) -> IntegrationPublic:
        """One integration's catalog entry and state."""
        return self._send(_Call("GET", f"/api/integrations/{agent}/{integration}",
                                IntegrationPublic))

    def configure(self, agent: str, integration: str, credentials: dict[str, str]) -> IntegrationPublic:
        """Store credentials (in Vault, through the API)."""
        return self._send(_Call("POST", f"/api/integrations/{agent}/{integration}/configure",
                                IntegrationPublic, json={"credentials": credentials}))

    def connect(self, agent: str, integration: str) -> ConnectResult:
        """Test the connection from the agent's worker."""
        return self._send(_Call("POST", f"/api/integrations/{agent}/{integration}/connect",
                                ConnectResult))

    def disconnect(self, agent: str, integration: str) -> DisconnectResult:
        """Delete the credentials, fail the integration's queued jobs and pause its schedules."""
        return self._send(_Call("POST", f"/api/integrations/{agent}/{integration}/disconnect",
                                DisconnectResult))

    def agent_tools(self, agent: str, *, format: str = "mcp", tools: list[str] | None = None) -> AgentTools:
        """The agent's tools (connected integrations' actions) for ``openai``, ``anthropic`` or ``mcp``."""
        return self._send(_Call("GET", f"/api/agents/{agent}/tools", AgentTools,
                                params={"format": format, "tools": ",".join(tools) if tools else None}))

    # -- jobs --------------------------------------------------------------------------------------
    def create_job(self, agent: str, integration: str, action: str, params: dict[str, Any] | None = None, *,
                   idempotency_key: str | None = None, run_at: datetime | None = None) -> JobPublic:
        """Submit a job (at ``run_at`` if given); a repeated idempotency key returns the original job."""
        body = JobCreate(agent=agent, integration=integration, action=action, params=params or {},
                         idempotency_key=idempotency_key, run_at=run_at).model_dump(mode="json", exclude_none=True)
        return self._send(_Call("POST", "/api/jobs", JobPublic, json=body))

    def list_jobs(self, *, agent: str | None = None, integration: str | None = None, status: str | None = None,
                  limit: int | None = None, cursor: str | None = None) -> JobsPublic:
        """A page of jobs, newest first (``.next_cursor`` for the next page)."""
        return self._send(_Call("GET", "/api/jobs", JobsPublic, params={
            "agent": agent, "integration": integration, "status": status, "limit": limit, "cursor": cursor}))

    def get_job(self, job_id: str) -> JobPublic:
        """Read a job."""
        return self._send(_Call("GET", f"/api/jobs/{job_id}", JobPublic))

    def cancel_job(self, job_id: str) -> JobPublic:
        """Cancel a job."""
        return self._send(_Call("POST", f"/api/jobs/{job_id}/cancel", JobPublic))

    def retry_job(self, job_id: str) -> JobPublic:
        """Run a failed or cancelled job again (same id, resuming from its step log)."""
        return self._send(_Call("POST", f"/api/jobs/{job_id}/retry", JobPublic))

    def retry_jobs(self, *, dry_run: bool = True, **filters: Any) -> BulkRetryResult:
        """Bulk retry by filter (status, agent, integration, action, error_type, expected_count, ...)."""
        return self._send(_Call("POST", "/api/jobs/retry", BulkRetryResult,
                                json={"dry_run": dry_run, **filters}))

    def job_timeline(self, job_id: str) -> JobTimeline:
        """The job's events, oldest first."""
        return self._send(_Call("GET", f"/api/jobs/{job_id}/timeline", JobTimeline))

    # -- schedules ---------------------------------------------------------------------------------
    def create_schedule(self, cron: str, job: dict[str, Any], *, timezone: str = "UTC", name: str = "",
                        misfire_policy: str = "run_latest") -> SchedulePublic:
        """Create a recurring job (``job``: agent, integration, action, params)."""
        body = ScheduleCreate(cron=cron, timezone=timezone, job=JobTemplate(**job), name=name,
                              misfire_policy=misfire_policy).model_dump(mode="json")  # type: ignore[arg-type]
        return self._send(_Call("POST", "/api/schedules", SchedulePublic, json=body))

    def schedules(self, *, limit: int | None = None, cursor: str | None = None) -> SchedulesPublic:
        """A page of schedules, oldest first."""
        return self._send(_Call("GET", "/api/schedules", SchedulesPublic,
                                params={"limit": limit, "cursor": cursor}))

    def schedule(self, schedule_id: str) -> ScheduleDetail:
        """One schedule with its next fire times and produced jobs."""
        return self._send(_Call("GET", f"/api/schedules/{schedule_id}", ScheduleDetail))

    def update_schedule(self, schedule_id: str, **changes: Any) -> SchedulePublic:
        """Change cron, timezone, job, misfire_policy or name."""
        return self._send(_Call("PATCH", f"/api/schedules/{schedule_id}", SchedulePublic,
                                json=changes))

    def pause_schedule(self, schedule_id: str) -> SchedulePublic:
        """Pause a schedule."""
        return self._send(_Call("POST", f"/api/schedules/{schedule_id}/pause", SchedulePublic))

    def resume_schedule(self, schedule_id: str) -> SchedulePublic:
        """Resume a schedule from the next fire time after now."""
        return self._send(_Call("POST", f"/api/schedules/{schedule_id}/resume", SchedulePublic))

    def delete_schedule(self, schedule_id: str) -> None:
        """Delete a schedule."""
        return self._send(_Call("DELETE", f"/api/schedules/{schedule_id}"))

    # -- workflows ---------------------------------------------------------------------------------
    def workflows(self) -> WorkflowsPublic:
        """The workflows and their parameter schemas."""
        return self._send(_Call("GET", "/api/workflows", WorkflowsPublic))

    def run_workflow(self, workflow_id: str, params: dict[str, Any], *,
                     idempotency_key: str | None = None) -> JobPublic:
        """Start a workflow; the answer is its parent job (``wait`` on it for the report)."""
        body = {"params": params, **({"idempotency_key": idempotency_key} if idempotency_key else {})}
        return self._send(_Call("POST", f"/api/workflows/{workflow_id}", JobPublic, json=body))

    # -- webhooks ----------------------------------------------------------------------------------
    def create_webhook(self, url: str, events: list[str], *, description: str = "") -> WebhookCreated:
        """Register a receiver; ``.secret`` is shown this once."""
        return self._send(_Call("POST", "/api/webhooks", WebhookCreated,
                                json={"url": url, "events": events, "description": description}))

    def webhooks(self, *, limit: int | None = None, cursor: str | None = None) -> WebhooksPublic:
        """A page of webhook endpoints."""
        return self._send(_Call("GET", "/api/webhooks", WebhooksPublic,
                                params={"limit": limit, "cursor": cursor}))

    def webhook(self, webhook_id: str) -> WebhookPublic:
        """One endpoint."""
        return self._send(_Call("GET", f"/api/webhooks/{webhook_id}", WebhookPublic))

    def delete_webhook(self, webhook_id: str) -> None:
        """Delete an endpoint, its log and its secret."""
        return self._send(_Call("DELETE", f"/api/webhooks/{webhook_id}"))

    def webhook_deliveries(self, webhook_id: str, *, status: str | None = None, limit: int | None = None,
                           cursor: str | None = None) -> DeliveriesPublic:
        """The delivery log of an endpoint, newest first."""
        return self._send(_Call("GET", f"/api/webhooks/{webhook_id}/deliveries",
                                DeliveriesPublic, params={"status": status, "limit": limit, "cursor": cursor}))

    def redeliver(self, webhook_id: str, delivery_id: str) -> DeliveryPublic:
        """Send a delivery again."""
        return self._send(_Call("POST", f"/api/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver",
                                DeliveryPublic))


    # -- keys --------------------------------------------------------------------------------------
    def keys(self) -> KeysPublic:
        """The workspace's API keys (every workspace's with an operator key); never a key itself."""
        return self._send(_Call("GET", "/api/keys", KeysPublic))

    def revoke_key(self, key_id: str) -> KeyPublic:
        """Revoke a key (by id or prefix) at once."""
        return self._send(_Call("POST", f"/api/keys/{key_id}/revoke", KeyPublic))

    def rotate_key(self, key_id: str) -> KeyRotated:
        """Revoke a key and get its replacement (shown once)."""
        return self._send(_Call("POST", f"/api/keys/{key_id}/rotate", KeyRotated))

    # -- ops ---------------------------------------------------------------------------------------
    def queue_stats(self, *, minutes: int | None = None) -> QueuesPublic:
        """Per agent queue: jobs by status, throughput, pickup and duration percentiles over ``minutes``."""
        return self._send(_Call("GET", "/api/ops/queues", QueuesPublic,
                                params={"minutes": minutes}))

    def workers(self, *, include_stopped: bool | None = None) -> WorkersPublic:
        """Worker processes with their heartbeat, queues and in-flight count."""
        return self._send(_Call("GET", "/api/ops/workers", WorkersPublic,
                                params={"include_stopped": include_stopped}))

    def search_jobs(self, *, offset: int | None = None, limit: int | None = None, **filters: Any) -> JobSearchPage:
        """Jobs by agent, integration, action, status, since, until and ``q`` (id or idempotency key), paged."""
        return self._send(_Call("GET", "/api/ops/jobs", JobSearchPage,
                                params={**filters, "offset": offset, "limit": limit}))

    def job_audit(self, job_id: str) -> JobAudit:
        """A job's audit trail: its provider calls and the API calls about it, oldest first."""
        return self._send(_Call("GET", f"/api/jobs/{job_id}/audit", JobAudit))

    def integration_audit(self, agent: str, integration: str, *, kind: str | None = None,
                          limit: int | None = None) -> IntegrationAudit:
        """An integration's recent provider calls and changes, newest first."""
        return self._send(_Call("GET", f"/api/integrations/{agent}/{integration}/audit",
                                IntegrationAudit, params={"kind": kind, "limit": limit}))

    def schedule_firings(self, schedule_id: str) -> ScheduleFirings:
        """A schedule's latest firings and the job each produced."""
        return self._send(_Call("GET", f"/api/schedules/{schedule_id}/firings",
                                ScheduleFirings))

    def run_schedule_now(self, schedule_id: str) -> JobPublic:
        """Run a schedule's job once now (its timing is unchanged)."""
        return self._send(_Call("POST", f"/api/schedules/{schedule_id}/run", JobPublic))


def _events_call(job_id: str | None, after: int | None, types: list[str] | None, max_seconds: float) -> _Call:
    path = f"/api/jobs/{job_id}/events" if job_id else "/api/events"
    return _Call("GET", path, params={"after": after, "types": ",".join(types) if types else None,
                                      "max_seconds": max_seconds})


class SintraClient(_Api):
    """Blocking client: ``SintraClient(base_url, api_key)``."""

    def __init__(self, base_url: str, api_key: str, *, timeout: float = DEFAULT_TIMEOUT,
                 transport: httpx.BaseTransport | None = None) -> None:
        self._http = httpx.Client(base_url=base_url, timeout=timeout, transport=transport,
                                  headers={"Authorization": f"Bearer {api_key}"})

    def __enter__(self) -> SintraClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def _send(self, call: _Call) -> Any:
        return call.parse(self._http.request(call.method, call.path, **call.kwargs()))

    def _stream(self, call: _Call, timeout: float | None) -> Iterator[Event]:
        with self._http.stream("GET", call.path, timeout=httpx.Timeout(DEFAULT_TIMEOUT, read=timeout),
                               **call.kwargs()) as response:
            if not response.is_success:
                response.read()
                _check(response)
            yield from _parse_sse(response.iter_lines())

    def job_events(self, job_id: str, *, after: int | None = None, max_seconds: float = 300) -> Iterator[Event]:
        """The job's events as they happen (first and last a ``job.snapshot``); ends when it is finished."""
        return self._stream(_events_call(job_id, after, None, max_seconds), max_seconds + 30)

    def events(self, *, after: int | None = None, types: list[str] | None = None,
               max_seconds: float = 300) -> Iterator[Event]:
        """The workspace's events as they happen, for ``max_seconds``."""
        return self._stream(_events_call(None, after, types, max_seconds), max_seconds + 30)

    def wait(self, job_id: str, *, timeout: float = 60.0) -> JobPublic:
        """Follow the job's live stream until it is finished; TimeoutError after ``timeout`` seconds."""
        for event in self.job_events(job_id, max_seconds=timeout):
            if event.type == "job.snapshot" and event.data and event.data["status"] in TERMINAL_STATUSES:
                return JobPublic.model_validate(event.data)
        job = self.get_job(job_id)
        if job.status in TERMINAL_STATUSES:
            return job
        raise TimeoutError(f"job {job_id} still {job.status} after {timeout:g} s")


class AsyncSintraClient(_Api):
    """Asyncio client with the same methods as :class:`SintraClient` (awaitable)."""

    def __init__(self, base_url: str, api_key: str, *, timeout: float = DEFAULT_TIMEOUT,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._http = httpx.AsyncClient(base_url=base_url, timeout=timeout, transport=transport,
                                       headers={"Authorization": f"Bearer {api_key}"})

    async def __aenter__(self) -> AsyncSintraClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def _send(self, call: _Call) -> Any:
        return call.parse(await self._http.request(call.method, call.path, **call.kwargs()))

    async def _stream(self, call: _Call, timeout: float | None) -> AsyncIterator[Event]:
        async with self._http.stream("GET", call.path, timeout=httpx.Timeout(DEFAULT_TIMEOUT, read=timeout),
                                     **call.kwargs()) as response:
            if not response.is_success:
                await response.aread()
                _check(response)
            lines: list[str] = []
            async for line in response.aiter_lines():
                lines.append(line)
                if line == "":
                    for event in _parse_sse(iter(lines)):
                        yield event
                    lines = []

    def job_events(self, job_id: str, *, after: int | None = None,
                   max_seconds: float = 300) -> AsyncIterator[Event]:
        """The job's events as they happen; ends when it is finished."""
        return self._stream(_events_call(job_id, after, None, max_seconds), max_seconds + 30)

    def events(self, *, after: int | None = None, types: list[str] | None = None,
               max_seconds: float = 300) -> AsyncIterator[Event]:
        """The workspace's events as they happen, for ``max_seconds``."""
        return self._stream(_events_call(None, after, types, max_seconds), max_seconds + 30)

    async def wait(self, job_id: str, *, timeout: float = 60.0) -> JobPublic:
        """Follow the job's live stream until it is finished; TimeoutError after ``timeout`` seconds."""
        async for event in self.job_events(job_id, max_seconds=timeout):
            if event.type == "job.snapshot" and event.data and event.data["status"] in TERMINAL_STATUSES:
                return JobPublic.model_validate(event.data)
        # _Api's annotations name the sync client's results; here its methods return their coroutines
        job = await cast(Awaitable[JobPublic], self.get_job(job_id))
        if job.status in TERMINAL_STATUSES:
            return job
        raise TimeoutError(f"job {job_id} still {job.status} after {timeout:g} s")

