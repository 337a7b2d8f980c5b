"""Small helpers for the integration tests."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx

from tests.integration.conftest import Stack

GOOD_MAILCHIMP = {"api_key": "sandboxkey0123456789-us21", "list_id": "leads"}
GOOD_INSTAGRAM = {"access_token": "sandbox-ig-token-0123456789", "ig_user_id": "17841400000000001"}


def sequence_params(n: int = 5) -> dict[str, Any]:
    """Params of a Mailchimp nurturing sequence of ``n`` emails."""
    return {"from_name": "Acme", "reply_to": "hello@acme.example", "start_at": "2030-01-06T09:00:00Z",
            "emails": [{"subject_line": f"Welcome {i}", "preview_text": "hi", "html": f"<p>Email {i}</p>"}
                       for i in range(1, n + 1)]}


def fault(stack: Stack, provider: str, status: int, *, times: int = 1, path: str | None = None,
          retry_after: float | None = None, body: str | None = None) -> None:
    """Make the simulator answer the next ``times`` matching requests with ``status``."""
    payload: dict[str, Any] = {"provider": provider, "status": status, "times": times}
    for k, v in (("path", path), ("retry_after", retry_after), ("body", body)):
        if v is not None:
            payload[k] = v
    httpx.post(f"{stack.simulator.url}/_sim/faults", json=payload).raise_for_status()  # type: ignore[attr-defined]


def sim_calls(stack: Stack, provider: str) -> list[dict[str, Any]]:
    """Requests the simulator received for ``provider``."""
    r = httpx.get(f"{stack.simulator.url}/_sim/calls", params={"provider": provider})  # type: ignore[attr-defined]
    r.raise_for_status()
    data = r.json()
    return data["calls"] if isinstance(data, dict) else data


def new_key(stack: Stack) -> str:
    """An API key of a new workspace of its own (its integrations and jobs are not the shared workspace's)."""
    from workers.store.db import session_scope
    from workers.store.keys import create_key

    with session_scope(stack.engine) as s:  # type: ignore[arg-type]
        return create_key(session=s, workspace=f"ws-{uuid.uuid4().hex[:8]}")


def configure(stack: Stack, agent: str, integration: str, creds: dict[str, str], *,
              connect: bool = True, key: str | None = None) -> dict[str, Any]:
    """Configure (and connect) an integration through the API (as ``key``'s workspace when given)."""
    r = stack.api.post(f"/api/integrations/{agent}/{integration}/configure", json={"credentials": creds},
                       headers=stack.headers(key))
    assert r.status_code == 200, r.text
    if connect:
        r = stack.api.post(f"/api/integrations/{agent}/{integration}/connect", headers=stack.headers(key))
        assert r.status_code == 200, r.text
    return r.json()


def submit(stack: Stack, agent: str, integration: str, action: str, params: dict[str, Any],
           **extra: Any) -> httpx.Response:
    """POST /api/jobs."""
    body = {"agent": agent, "integration": integration, "action": action, "params": params, **extra}
    return stack.api.post("/api/jobs", json=body, headers=stack.headers())


def wait_job(stack: Stack, job_id: str, timeout: float = 30.0,
             statuses: tuple[str, ...] = ("succeeded", "failed", "cancelled")) -> dict[str, Any]:
    """Poll the API until the job reaches one of ``statuses``."""
    deadline = time.monotonic() + timeout
    while True:
        job = stack.api.get(f"/api/jobs/{job_id}", headers=stack.headers()).json()
        if job["status"] in statuses:
            return job
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} still {job['status']} after {timeout} s: {job}")
        time.sleep(0.05)
