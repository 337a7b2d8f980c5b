"""Regression tests for the job-state findings, on the real stack (API, worker, Redis, DB, OpenBao, simulator)."""

from __future__ import annotations

import subprocess
import sys
import time

from sqlalchemy import update
from sqlmodel import Session

from tests.integration.conftest import Stack
from tests.integration.helpers import GOOD_MAILCHIMP, configure, fault, sim_calls, submit, wait_job
from workers.store.models import Job, utcnow


def test_a_connection_test_that_hits_a_5xx_is_failed_once_and_never_retried(stack: Stack) -> None:
    configure(stack, "emmie", "mailchimp", GOOD_MAILCHIMP, connect=False)
    fault(stack, "mailchimp", 503, times=1)
    r = stack.api.post("/api/integrations/emmie/mailchimp/connect", headers=stack.headers())
    assert r.json()["status"] == "provider_unreachable", r.text
    job_id = r.json()["job_id"]
    time.sleep(1.5)  # a second policy (dramatiq's retries) would have re-run it by now
    job = stack.api.get(f"/api/jobs/{job_id}", headers=stack.headers()).json()
    assert job["status"] == "failed" and job["attempts"] == 1
    assert [e["kind"] for e in job["attempt_log"]] == ["transient"]
    timeline = stack.api.get(f"/api/jobs/{job_id}/timeline", headers=stack.headers()).json()
    events = [e["type"] for e in timeline["events"]]
    assert events == ["job.queued", "job.running", "job.failed"]
    configure(stack, "emmie", "mailchimp", GOOD_MAILCHIMP)  # leave it connected for the other tests


def test_a_429_storm_pauses_the_account_for_every_job_and_no_job_fails(stack: Stack) -> None:
    configure(stack, "emmie", "mailchimp", GOOD_MAILCHIMP)
    before = sum(1 for c in sim_calls(stack, "mailchimp") if c.get("status") == 429)
    fault(stack, "mailchimp", 429, path="/campaigns", times=6, retry_after=1)
    ids = [submit(stack, "emmie", "mailchimp", "list_campaigns", {}).json()["id"] for _ in range(20)]
    jobs = [wait_job(stack, i, timeout=60) for i in ids]
    assert all(j["status"] == "succeeded" for j in jobs), [j["error"] for j in jobs if j["status"] != "succeeded"]
    served = sum(1 for c in sim_calls(stack, "mailchimp") if c.get("status") == 429) - before
    assert served <= 6
    paused = [e for j in jobs for e in j["attempt_log"] if "shared pause" in (e.get("message") or "")
              or "another job got a 429" in (e.get("message") or "")]
    assert paused, "jobs waited on the shared pause instead of each calling the provider"


def test_retry_replays_a_failed_job_with_the_same_id_and_bulk_retry_shows_the_count_first(stack: Stack) -> None:
    configure(stack, "emmie", "mailchimp", GOOD_MAILCHIMP)
    fault(stack, "mailchimp", 400, path="/campaigns", times=3)
    ids = [submit(stack, "emmie", "mailchimp", "list_campaigns", {}).json()["id"] for _ in range(3)]
    assert all(wait_job(stack, i)["status"] == "failed" for i in ids)
    r = stack.api.post(f"/api/jobs/{ids[0]}/retry", headers=stack.headers())
    assert r.status_code == 202 and r.json()["id"] == ids[0]
    again = wait_job(stack, ids[0])
    assert again["status"] == "succeeded" and again["attempts"] == 2
    assert [e["kind"] for e in again["attempt_log"]] == ["permanent", "replay", "succeeded"]
    assert stack.api.post(f"/api/jobs/{ids[0]}/retry", headers=stack.headers()).status_code == 409
    body = {"status": "failed", "agent": "emmie", "integration": "mailchimp", "action": "list_campaigns",
            "error_type": "permanent"}
    dry = stack.api.post("/api/jobs/retry", json=body, headers=stack.headers()).json()
    assert dry["dry_run"] is True and set(ids[1:]) <= set(dry["job_ids"])
    wrong = stack.api.post("/api/jobs/retry", json={**body, "dry_run": False, "expected_count": dry["count"] + 1},
                           headers=stack.headers())
    assert wrong.status_code == 409 and wrong.json()["error"]["code"] == "count_changed"
    done = stack.api.post("/api/jobs/retry", json={**body, "dry_run": False, "expected_count": dry["count"]},
                          headers=stack.headers()).json()
    assert done["count"] == dry["count"]
    assert all(wait_job(stack, i)["status"] == "succeeded" for i in ids[1:])


def test_a_running_job_can_be_cancelled_between_provider_calls(stack: Stack, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import threading

    from workers.providers.mailchimp import MailchimpClient

    configure(stack, "emmie", "mailchimp", GOOD_MAILCHIMP)
    started, release = threading.Event(), threading.Event()
    original = MailchimpClient.action_list_campaigns

    def slow(self, params, steps):  # type: ignore[no-untyped-def]
        started.set()
        release.wait(10)
        return original(self, params, steps)  # its provider call is refused by the checkpoint

    monkeypatch.setattr(MailchimpClient, "action_list_campaigns", slow)
    job_id = submit(stack, "emmie", "mailchimp", "list_campaigns", {}).json()["id"]
    assert started.wait(10)
    r = stack.api.post(f"/api/jobs/{job_id}/cancel", headers=stack.headers())
    assert r.status_code == 202 and r.json()["cancel_requested_at"]
    time.sleep(stack.settings.heartbeat_seconds + 0.5)  # the heartbeat brings the request to the worker
    release.set()
    job = wait_job(stack, job_id)
    assert job["status"] == "cancelled", job


def test_a_workflow_whose_last_step_hit_its_time_limit_is_still_completed(stack: Stack) -> None:
    from workers.dispatch import complete_workflows

    r = stack.api.post("/api/workflows/seo_analysis", json={"params": {"domain": "example.com"}},
                       headers=stack.headers())
    parent_id = r.json()["id"]
    wait_job(stack, parent_id, timeout=30, statuses=("running", "succeeded", "failed"))
    with Session(stack.engine) as s:  # type: ignore[arg-type]
        # as if the last step's final attempt died on its time limit without the fan-in running
        s.execute(update(Job).where(Job.parent_id == parent_id)
                  .values(status="failed", finished_at=utcnow(), error={"type": "time_limit", "message": "x"}))
        s.execute(update(Job).where(Job.id == parent_id).values(status="running", worker_id=None))
        s.commit()
    complete_workflows(stack.engine)  # type: ignore[arg-type]  # what every sweeper does every few seconds
    parent = wait_job(stack, parent_id, timeout=30)
    assert parent["status"] in ("succeeded", "failed") and parent["status"] != "running"


def test_importing_the_worker_modules_connects_to_nothing_and_configures_no_logging() -> None:
    code = ("import logging, sys; before = list(logging.getLogger().handlers); "
            "import workers.agents, workers.context, workers.runner; "
            "assert logging.getLogger().handlers == before, 'logging configured at import'; "
            "import workers.context as c; assert not c._contexts, 'context built at import'")
    env = {"SINTRA_REDIS_URL": "redis://127.0.0.1:1/0", "SINTRA_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/x",
           "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=90)
    assert out.returncode == 0, out.stderr


def test_a_worker_that_cannot_reach_the_database_says_so_at_boot(tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = {"SINTRA_DATABASE_URL": "postgresql://postgres@127.0.0.1:1/none", "SINTRA_REDIS_URL": "redis://127.0.0.1:6379/15",
           "PATH": "/usr/bin:/bin", "SINTRA_STATE_DIR": str(tmp_path)}
    out = subprocess.run([sys.executable, "-m", "workers", "--", "--worker-fork-timeout", "5000"],
                         env=env, capture_output=True, text=True, timeout=90)
    assert out.returncode != 0
    assert "cannot reach the database" in out.stderr + out.stdout


def test_the_credential_cache_is_bounded_and_drops_expired_entries(stack: Stack) -> None:
    from workers.runner import WorkerContext

    class Source:
        def get(self, **kw):  # type: ignore[no-untyped-def]
            return dict(kw)

    settings = stack.settings.model_copy(update={"credential_cache_size": 50, "credential_cache_seconds": 60})
    ctx = WorkerContext(settings=settings, engine=stack.engine, credentials=Source())  # type: ignore[arg-type]
    for i in range(2000):
        ctx.credentials_for(Job(id=str(i), workspace_id=f"w{i}", agent="emmie", integration="mailchimp",  # type: ignore[call-arg]
                                action="x", status="queued"), frozenset(), 1)
    assert len(ctx._creds) == 50
