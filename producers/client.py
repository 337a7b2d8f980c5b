"""Typed Python client for Sintra's jobs and integrations API, sync and async, on httpx."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from typing import Any

import httpx

from config.messages import TERMINAL_STATUSES, JobCreate, JobPublic, JobTemplate, ScheduleCreate

__all__ = ["AsyncSintraClient", "SintraApiError", "SintraClient"]

#: Default time a request may take.
DEFAULT_TIMEOUT = 30.0


class SintraApiError(Exception):
    """The API answered with an error; ``status``, ``code`` and ``body`` say which."""

    def __init__(self, status: int, code: str, message: str, body: Any) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message, self.body = status, code, message, body


def _check(response: httpx.Response) -> Any:
    if response.is_success:
        return response.json()
    try:
        body = response.json()
        err = body.get("error", {})
        raise SintraApiError(response.status_code, err.get("code", "error"), err.get("message", ""), body)
    except ValueError:
        raise SintraApiError(response.status_code, "error", response.text[:200], None) from None


def _job_body(agent: str, integration: str, action: str, params: dict[str, Any] | None,
              idempotency_key: str | None, run_at: datetime | None = None) -> dict[str, Any]:
    return JobCreate(agent=agent, integration=integration, action=action, params=params or {},
                     idempotency_key=idempotency_key, run_at=run_at).model_dump(mode="json", exclude_none=True)


def _schedule_body(cron: str, timezone: str, job: dict[str, Any], name: str, misfire_policy: str) -> dict[str, Any]:
    return ScheduleCreate(cron=cron, timezone=timezone, job=JobTemplate(**job), name=name,
                          misfire_policy=misfire_policy).model_dump(mode="json")  # type: ignore[arg-type]


class SintraClient:
    """Blocking client: ``SintraClient(base_url, api_key)``."""

    def __init__(self, base_url: str, api_key: str, *, timeout: float = DEFAULT_TIMEOUT,
                 transport: httpx.BaseTransport | None = None) -> None:
        self._http = httpx.Client(base_url=base_url, timeout=timeout, transport=transport,
                                  headers={"Authorization": f"Bearer {api_key}"})

    def __enter__(self) -> "SintraClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def create_job(self, agent: str, integration: str, action: str, params: dict[str, Any] | None = None, *,
                   idempotency_key: str | None = None, run_at: datetime | None = None) -> JobPublic:
        """Submit a job (at ``run_at`` if given); a repeated idempotency key returns the original job."""
        body = _job_body(agent, integration, action, params, idempotency_key, run_at)
        return JobPublic.model_validate(_check(self._http.post("/api/jobs", json=body)))

    def cancel_job(self, job_id: str) -> JobPublic:
        """Cancel a scheduled, queued or retrying job."""
        return JobPublic.model_validate(_check(self._http.post(f"/api/jobs/{job_id}/cancel")))

    def create_schedule(self, cron: str, job: dict[str, Any], *, timezone: str = "UTC", name: str = "",
                        misfire_policy: str = "run_latest") -> Any:
        """Create a recurring job (``job``: agent, integration, action, params)."""
        return _check(self._http.post("/api/schedules", json=_schedule_body(cron, timezone, job, name,
                                                                             misfire_policy)))

    def schedules(self) -> Any:
        """List schedules."""
        return _check(self._http.get("/api/schedules"))["schedules"]

    def schedule(self, schedule_id: str) -> Any:
        """One schedule with its next fire times and produced jobs."""
        return _check(self._http.get(f"/api/schedules/{schedule_id}"))

    def update_schedule(self, schedule_id: str, **changes: Any) -> Any:
        """Change cron, timezone, job, misfire_policy or name."""
        return _check(self._http.patch(f"/api/schedules/{schedule_id}", json=changes))

    def pause_schedule(self, schedule_id: str) -> Any:
        """Pause a schedule."""
        return _check(self._http.post(f"/api/schedules/{schedule_id}/pause"))

    def resume_schedule(self, schedule_id: str) -> Any:
        """Resume a schedule from the next fire time after now."""
        return _check(self._http.post(f"/api/schedules/{schedule_id}/resume"))

    def delete_schedule(self, schedule_id: str) -> None:
        """Delete a schedule."""
        response = self._http.delete(f"/api/schedules/{schedule_id}")
        if response.status_code != 204:
            _check(response)

    def get_job(self, job_id: str) -> JobPublic:
        """Read a job."""
        return JobPublic.model_validate(_check(self._http.get(f"/api/jobs/{job_id}")))

    def list_jobs(self, **filters: Any) -> list[JobPublic]:
        """List jobs (filters: agent, integration, status, limit)."""
        data = _check(self._http.get("/api/jobs", params={k: v for k, v in filters.items() if v is not None}))
        return [JobPublic.model_validate(j) for j in data["jobs"]]

    def wait(self, job_id: str, *, timeout: float = 60.0, interval: float = 0.2) -> JobPublic:
        """Poll until the job is finished; TimeoutError if it is not within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            job = self.get_job(job_id)
            if job.status in TERMINAL_STATUSES:
                return job
            if time.monotonic() > deadline:
                raise TimeoutError(f"job {job_id} still {job.status} after {timeout:g} s")
            time.sleep(interval)

    def integrations(self, agent: str | None = None) -> Any:
        """The catalog and state: all agents, or one agent's integrations."""
        return _check(self._http.get(f"/api/integrations/{agent}" if agent else "/api/integrations/"))

    def integration(self, agent: str, integration: str) -> Any:
        """One integration's catalog entry and state."""
        return _check(self._http.get(f"/api/integrations/{agent}/{integration}"))

    def configure(self, agent: str, integration: str, credentials: dict[str, str]) -> Any:
        """Store credentials (in Vault, through the API)."""
        return _check(self._http.post(f"/api/integrations/{agent}/{integration}/configure",
                                      json={"credentials": credentials}))

    def connect(self, agent: str, integration: str) -> Any:
        """Test the connection from the agent's worker."""
        return _check(self._http.post(f"/api/integrations/{agent}/{integration}/connect"))

    def disconnect(self, agent: str, integration: str) -> Any:
        """Delete the credentials and fail the integration's queued jobs."""
        return _check(self._http.post(f"/api/integrations/{agent}/{integration}/disconnect"))


class AsyncSintraClient:
    """Asyncio client with the same methods as :class:`SintraClient`."""

    def __init__(self, base_url: str, api_key: str, *, timeout: float = DEFAULT_TIMEOUT,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._http = httpx.AsyncClient(base_url=base_url, timeout=timeout, transport=transport,
                                       headers={"Authorization": f"Bearer {api_key}"})

    async def __aenter__(self) -> "AsyncSintraClient":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def create_job(self, agent: str, integration: str, action: str, params: dict[str, Any] | None = None, *,
                         idempotency_key: str | None = None, run_at: datetime | None = None) -> JobPublic:
        """Submit a job."""
        body = _job_body(agent, integration, action, params, idempotency_key, run_at)
        return JobPublic.model_validate(_check(await self._http.post("/api/jobs", json=body)))

    async def get_job(self, job_id: str) -> JobPublic:
        """Read a job."""
        return JobPublic.model_validate(_check(await self._http.get(f"/api/jobs/{job_id}")))

    async def cancel_job(self, job_id: str) -> JobPublic:
        """Cancel a scheduled, queued or retrying job."""
        return JobPublic.model_validate(_check(await self._http.post(f"/api/jobs/{job_id}/cancel")))

    async def create_schedule(self, cron: str, job: dict[str, Any], *, timezone: str = "UTC", name: str = "",
                              misfire_policy: str = "run_latest") -> Any:
        """Create a recurring job."""
        return _check(await self._http.post("/api/schedules", json=_schedule_body(cron, timezone, job, name,
                                                                                   misfire_policy)))

    async def list_jobs(self, **filters: Any) -> list[JobPublic]:
        """List jobs."""
        data = _check(await self._http.get("/api/jobs", params={k: v for k, v in filters.items() if v is not None}))
        return [JobPublic.model_validate(j) for j in data["jobs"]]

    async def wait(self, job_id: str, *, timeout: float = 60.0, interval: float = 0.2) -> JobPublic:
        """Poll until the job is finished."""
        deadline = time.monotonic() + timeout
        while True:
            job = await self.get_job(job_id)
            if job.status in TERMINAL_STATUSES:
                return job
            if time.monotonic() > deadline:
                raise TimeoutError(f"job {job_id} still {job.status} after {timeout:g} s")
            await asyncio.sleep(interval)

    async def integrations(self, agent: str | None = None) -> Any:
        """The catalog and state."""
        return _check(await self._http.get(f"/api/integrations/{agent}" if agent else "/api/integrations/"))

    async def configure(self, agent: str, integration: str, credentials: dict[str, str]) -> Any:
        """Store credentials."""
        return _check(await self._http.post(f"/api/integrations/{agent}/{integration}/configure",
                                            json={"credentials": credentials}))

    async def connect(self, agent: str, integration: str) -> Any:
        """Test the connection."""
        return _check(await self._http.post(f"/api/integrations/{agent}/{integration}/connect"))

    async def disconnect(self, agent: str, integration: str) -> Any:
        """Delete the credentials."""
        return _check(await self._http.post(f"/api/integrations/{agent}/{integration}/disconnect"))
