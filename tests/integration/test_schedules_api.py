"""Schedules and one-shot jobs through the API, the scheduler and the worker."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, UTC

from producers.enqueue import Enqueuer
from schedules.runner import Scheduler
from tests.integration.conftest import Stack
from tests.integration.helpers import GOOD_MAILCHIMP, configure, submit, wait_job

TEMPLATE = {"agent": "emmie", "integration": "mailchimp", "action": "list_campaigns", "params": {"limit": 5}}


def _schedules(stack: Stack) -> list[dict]:  # type: ignore[type-arg]
    return stack.api.get("/api/schedules", headers=stack.headers()).json()["schedules"]


def test_bad_schedules_are_rejected_naming_the_problem_and_nothing_is_stored(stack: Stack) -> None:
    before = len(_schedules(stack))
    cases = [({"cron": "61 9 * * *", "timezone": "UTC", "job": TEMPLATE}, 422, "minute field"),
             ({"cron": "0 9 * * *", "timezone": "Mars/Olympus", "job": TEMPLATE}, 422, "unknown time zone"),
             ({"cron": "0 9 * * *", "job": {**TEMPLATE, "action": "nope"}}, 422, "valid actions"),
             ({"cron": "0 9 * * *", "job": {**TEMPLATE, "params": {"limit": "many"}}}, 422, "limit"),
             ({"cron": "0 9 * * *", "job": {**TEMPLATE, "agent": "nobody"}}, 404, "unknown agent")]
    for body, status, text in cases:
        r = stack.api.post("/api/schedules", json=body, headers=stack.headers())
        assert r.status_code == status and text in r.json()["error"]["message"], (body, r.text)
    assert len(_schedules(stack)) == before


def test_schedule_lifecycle_shows_next_fire_times_and_can_be_paused_resumed_updated_deleted(stack: Stack) -> None:
    configure(stack, "emmie", "mailchimp", GOOD_MAILCHIMP)
    r = stack.api.post("/api/schedules", headers=stack.headers(), json={
        "name": "weekly report", "cron": "0 9 * * MON", "timezone": "Europe/Paris", "job": TEMPLATE})
    assert r.status_code == 201, r.text
    sch = r.json()
    assert sch["status"] == "active" and len(sch["next_fire_times"]) == 5
    assert all(t.endswith(("+01:00", "+02:00")) and "T09:00:00" in t for t in sch["next_fire_times_local"])
    sid = sch["id"]
    got = stack.api.get(f"/api/schedules/{sid}", headers=stack.headers()).json()
    assert got["jobs"] == [] and got["name"] == "weekly report"
    paused = stack.api.post(f"/api/schedules/{sid}/pause", headers=stack.headers()).json()
    assert paused["status"] == "paused" and paused["next_fire_times"] == []
    resumed = stack.api.post(f"/api/schedules/{sid}/resume", headers=stack.headers()).json()
    assert resumed["status"] == "active" and resumed["next_fire_at"]
    patched = stack.api.patch(f"/api/schedules/{sid}", headers=stack.headers(), json={"cron": "30 8 * * *"}).json()
    assert patched["cron"] == "30 8 * * *" and "T08:30:00" in patched["next_fire_times_local"][0]
    bad = stack.api.patch(f"/api/schedules/{sid}", headers=stack.headers(), json={"timezone": "Nowhere/City"})
    assert bad.status_code == 422
    assert stack.api.delete(f"/api/schedules/{sid}", headers=stack.headers()).status_code == 204
    assert stack.api.get(f"/api/schedules/{sid}", headers=stack.headers()).status_code == 404


def test_run_at_in_the_past_or_without_offset_is_rejected(stack: Stack) -> None:
    configure(stack, "emmie", "mailchimp", GOOD_MAILCHIMP)
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    r = submit(stack, "emmie", "mailchimp", "list_campaigns", {}, run_at=past)
    assert r.status_code == 422 and "in the past" in r.json()["error"]["message"]
    r = submit(stack, "emmie", "mailchimp", "list_campaigns", {}, run_at="2030-01-01T09:00:00")
    assert r.status_code == 422 and "run_at" in r.json()["error"]["message"]


def test_one_shot_job_is_scheduled_then_runs_when_due_and_can_be_cancelled(stack: Stack) -> None:
    configure(stack, "emmie", "mailchimp", GOOD_MAILCHIMP)
    soon = datetime.now(UTC) + timedelta(seconds=1)
    job = submit(stack, "emmie", "mailchimp", "list_campaigns", {}, run_at=soon.isoformat()).json()
    assert job["status"] == "scheduled" and job["run_at"]
    later = submit(stack, "emmie", "mailchimp", "list_campaigns", {},
                   run_at=(soon + timedelta(days=2)).isoformat()).json()
    cancelled = stack.api.post(f"/api/jobs/{later['id']}/cancel", headers=stack.headers())
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert stack.api.post(f"/api/jobs/{later['id']}/cancel", headers=stack.headers()).status_code == 409
    scheduler = Scheduler(stack.engine, Enqueuer(stack.broker).enqueue)  # type: ignore[arg-type]
    scheduler.tick()
    assert stack.api.get(f"/api/jobs/{job['id']}", headers=stack.headers()).json()["status"] == "scheduled"
    time.sleep(max(0.0, (soon - datetime.now(UTC)).total_seconds()) + 0.1)
    scheduler.tick()
    assert wait_job(stack, job["id"])["status"] == "succeeded"
    assert stack.api.get(f"/api/jobs/{later['id']}", headers=stack.headers()).json()["status"] == "cancelled"


def test_disconnect_pauses_schedules_with_the_reason_and_reconnect_does_not_resume(stack: Stack) -> None:
    configure(stack, "emmie", "mailchimp", GOOD_MAILCHIMP)
    sid = stack.api.post("/api/schedules", headers=stack.headers(), json={
        "cron": "0 9 * * *", "timezone": "UTC", "job": TEMPLATE}).json()["id"]
    r = stack.api.post("/api/integrations/emmie/mailchimp/disconnect", headers=stack.headers())
    assert r.json()["schedules_paused"] >= 1
    sch = stack.api.get(f"/api/schedules/{sid}", headers=stack.headers()).json()
    assert sch["status"] == "paused" and "disconnected" in sch["paused_reason"]
    assert stack.api.post(f"/api/schedules/{sid}/resume", headers=stack.headers()).status_code == 409
    configure(stack, "emmie", "mailchimp", GOOD_MAILCHIMP)
    assert stack.api.get(f"/api/schedules/{sid}", headers=stack.headers()).json()["status"] == "paused"
    assert stack.api.post(f"/api/schedules/{sid}/resume", headers=stack.headers()).json()["status"] == "active"
