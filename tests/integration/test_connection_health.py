"""Connection health: the scheduler's periodic check finds a revoked grant (``needs_reconnect``), fires once per
period across replicas, and keeps grants that lapse when unused alive; everything against the real stack."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

import hvac
import httpx
import pytest
from sqlmodel import Session, col, select

from producers.enqueue import Enqueuer
from schedules.health import HealthCheck
from tests.integration.conftest import Stack
from tests.integration.helpers import GOOD_MAILCHIMP, configure, sim_calls
from tests.providers.cases import google_search_console as gsc
from tests.providers.cases import x as x_case
from workers.store import events
from workers.store.db import session_scope
from workers.store.keys import create_key
from workers.store.models import IntegrationState, Job, Schedule, utcnow

PERIOD = timedelta(days=1)


def _tenant(stack: Stack) -> tuple[str, str]:
    workspace = f"hc-{uuid.uuid4().hex[:8]}"
    with session_scope(stack.engine) as s:  # type: ignore[arg-type]
        return workspace, create_key(session=s, workspace=workspace)


def _checker(stack: Stack, workspace: str, clock: Callable[[], datetime]) -> HealthCheck:
    return HealthCheck(stack.engine, Enqueuer(stack.broker), period=PERIOD, clock=clock,  # type: ignore[arg-type]
                       workspaces=[workspace])


def _next_check(stack: Stack, workspace: str, agent: str) -> datetime:
    with Session(stack.engine) as s:  # type: ignore[arg-type]
        row = s.exec(select(IntegrationState).where(IntegrationState.workspace_id == workspace,
                                                    IntegrationState.agent == agent)).one()
        assert row.next_check_at is not None, "the health check gave the connection no slot"
        return row.next_check_at


def _health_jobs(stack: Stack, workspace: str) -> list[str]:
    with Session(stack.engine) as s:  # type: ignore[arg-type]
        return list(s.exec(select(Job.id).where(Job.workspace_id == workspace, col(Job.id).startswith("hc"))
                           .order_by(col(Job.created_at))).all())


def _wait(stack: Stack, key: str, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    while True:
        job: dict[str, Any] = stack.api.get(f"/api/jobs/{job_id}", headers=stack.headers(key)).json()
        if job["status"] in ("succeeded", "failed"):
            return job
        assert time.monotonic() < deadline, f"job {job_id} still {job['status']}"
        time.sleep(0.05)


def _check_once(stack: Stack, workspace: str, key: str, agent: str) -> dict[str, Any]:
    """First tick gives the connection its slot; a tick at the slot enqueues one check; return its job."""
    now = utcnow()
    assert _checker(stack, workspace, lambda: now).tick() == 0
    due = _next_check(stack, workspace, agent)
    assert now < due <= now + PERIOD
    assert _checker(stack, workspace, lambda: due).tick() == 1
    return _wait(stack, key, _health_jobs(stack, workspace)[-1])


def _sim(stack: Stack, path: str, **body: Any) -> None:
    httpx.post(f"{stack.simulator.url}{path}", json=body or None).raise_for_status()  # type: ignore[attr-defined]


def test_a_revoked_grant_found_by_the_health_check_needs_reconnect_and_its_jobs_fail_fast(stack: Stack) -> None:
    workspace, key = _tenant(stack)
    _sim(stack, "/_sim/reset")
    assert configure(stack, "soshie", "x", x_case.GOOD, key=key)["status"] == "connected"
    r = stack.api.post("/api/schedules", headers=stack.headers(key), json={
        "name": "daily post", "cron": "0 9 * * *", "timezone": "UTC",
        "job": {"agent": "soshie", "integration": "x", "action": "publish_post", "params": {"text": "hello"}}})
    assert r.status_code == 201, r.text
    _sim(stack, "/_sim/grants/revoke", provider="x", reason="The user revoked access",
         tokens=[x_case.GOOD["refresh_token"], x_case.GOOD["access_token"]])

    check = _check_once(stack, workspace, key, "soshie")
    assert check["status"] == "failed" and check["error"]["class"] == "GrantRevoked", check
    state = stack.api.get("/api/integrations/soshie/x", headers=stack.headers(key)).json()
    assert state["status"] == "needs_reconnect"
    assert "invalid_grant" in state["message"] and "The user revoked access" in state["message"]
    with Session(stack.engine) as s:  # type: ignore[arg-type]
        errors = [e.data or {} for e in events.since(s, workspace=workspace) if e.type == "integration.error"]
        schedule = s.exec(select(Schedule).where(Schedule.workspace_id == workspace)).one()
    assert errors and errors[-1]["status"] == "needs_reconnect" and "invalid_grant" in errors[-1]["reason"]
    assert schedule.status == "paused" and "needs reconnecting" in (schedule.paused_reason or "")

    calls = len(sim_calls(stack, "x"))
    r = stack.api.post("/api/jobs", headers=stack.headers(key), json={
        "agent": "soshie", "integration": "x", "action": "publish_post", "params": {"text": "hello"}})
    job = _wait(stack, key, r.json()["id"])
    assert job["status"] == "failed" and job["error"]["type"] == "needs_reconnect", job
    assert "The user revoked access" in job["error"]["message"]
    assert len(sim_calls(stack, "x")) == calls, "a job of a needs_reconnect integration called the provider"

    fresh = {**x_case.GOOD, "refresh_token": "acme.rt-reconnected", "access_token": "acme.at-reconnected"}
    assert configure(stack, "soshie", "x", fresh, key=key)["status"] == "connected"
    state = stack.api.get("/api/integrations/soshie/x", headers=stack.headers(key)).json()
    assert state["status"] == "connected" and state["message"] == "connection test succeeded"


def test_the_health_check_fires_once_per_period_across_two_scheduler_loops(stack: Stack) -> None:
    workspace, key = _tenant(stack)
    configure(stack, "emmie", "mailchimp", GOOD_MAILCHIMP, key=key)
    clock = [utcnow()]
    loops = [_checker(stack, workspace, lambda: clock[0]) for _ in range(2)]
    assert [loop.tick() for loop in loops] == [0, 0]  # the slot is assigned, nothing is due yet
    due = _next_check(stack, workspace, "emmie")
    for moment in (due, due + timedelta(seconds=1), due + PERIOD - timedelta(seconds=1), due + PERIOD,
                   due + PERIOD + timedelta(hours=1)):
        clock[0] = moment
        with ThreadPoolExecutor(2) as pool:  # both replicas tick at once
            list(pool.map(lambda loop: loop.tick(), loops))
        # Periods are a day apart: let the check finish before the next moment. While its worker writes the
        # connection state it holds the row, and a tick skips a locked row until its next tick (SKIP LOCKED).
        for job_id in _health_jobs(stack, workspace):
            assert _wait(stack, key, job_id)["status"] == "succeeded"
    jobs = _health_jobs(stack, workspace)
    assert len(jobs) == 2, jobs  # one check per period, whichever replica ran it
    assert _next_check(stack, workspace, "emmie") == due + 2 * PERIOD


@pytest.mark.postgresql_only
def test_a_check_skipped_while_its_row_is_held_is_enqueued_at_the_next_tick(stack: Stack) -> None:
    """A worker writing the connection state holds the row: the tick skips it (SKIP LOCKED) and the next one
    enqueues the check; nothing is lost and nothing doubles. PostgreSQL only: SQLite has no row locks."""
    assert stack.engine.dialect.name == "postgresql"  # type: ignore[attr-defined]
    workspace, key = _tenant(stack)
    configure(stack, "emmie", "mailchimp", GOOD_MAILCHIMP, key=key)
    clock = [utcnow()]
    check = _checker(stack, workspace, lambda: clock[0])
    assert check.tick() == 0
    clock[0] = _next_check(stack, workspace, "emmie")
    with Session(stack.engine) as holder:  # type: ignore[arg-type]
        holder.exec(select(IntegrationState).where(IntegrationState.workspace_id == workspace)
                    .with_for_update()).one()
        assert check.tick() == 0 and _health_jobs(stack, workspace) == []
    assert check.tick() == 1 and check.tick() == 0
    [job_id] = _health_jobs(stack, workspace)
    assert _wait(stack, key, job_id)["status"] == "succeeded"


def test_the_health_check_refreshes_a_grant_near_its_unused_expiry(stack: Stack, vault_server: Any) -> None:
    workspace, key = _tenant(stack)
    _sim(stack, "/_sim/reset")
    configure(stack, "seomi", "google_search_console", gsc.GOOD, key=key)
    admin = hvac.Client(url=vault_server.addr, token=vault_server.root_token)
    path = f"agents/seomi/tenants/{workspace}/google_search_console"

    def stored() -> dict[str, str]:
        return dict(admin.secrets.kv.v2.read_secret_version(path=path, raise_on_deleted_version=True)["data"]["data"])

    def refreshed_days_ago(days: float) -> None:
        admin.secrets.kv.v2.create_or_update_secret(
            path=path, secret={**stored(), "refreshed_at": str(int(time.time() - days * 86_400))})

    def token_calls() -> int:
        return sum(c["method"] == "POST" and c["path"].endswith("/token")
                   for c in sim_calls(stack, "google_search_console"))

    assert float(stored()["refreshed_at"]) > time.time() - 60  # connect began the grant's record
    refreshed_days_ago(10)  # far from Google's 180 days: the check only tests the connection
    before = token_calls()
    assert _check_once(stack, workspace, key, "seomi")["status"] == "succeeded"
    assert token_calls() == before
    refreshed_days_ago(179)  # a day from lapsing: the check refreshes the grant
    due = _next_check(stack, workspace, "seomi")
    assert _checker(stack, workspace, lambda: due).tick() == 1
    assert _wait(stack, key, _health_jobs(stack, workspace)[-1])["status"] == "succeeded"
    assert token_calls() == before + 1
    assert float(stored()["refreshed_at"]) > time.time() - 60
