"""Jobs through the whole path: API -> Redis -> worker -> Vault -> provider simulator -> database."""

from __future__ import annotations

import time

import dramatiq
from sqlmodel import Session, select

from tests.integration.conftest import Stack
from tests.integration.helpers import (
    GOOD_MAILCHIMP,
    configure,
    fault,
    sequence_params,
    sim_calls,
    submit,
    wait_job,
)
from workers.store.models import AuditEvent, Job, utcnow


def _audit(stack: Stack, job_id: str) -> list[AuditEvent]:
    with Session(stack.engine) as s:  # type: ignore[arg-type]
        return list(s.exec(select(AuditEvent).where(AuditEvent.job_id == job_id).order_by(AuditEvent.id)).all())


def test_email_sequence_job_succeeds_with_result_progress_and_audit(stack: Stack) -> None:
    configure(stack, "emmie", "mailchimp", GOOD_MAILCHIMP)
    r = submit(stack, "emmie", "mailchimp", "create_email_sequence", sequence_params(5))
    assert r.status_code == 202 and r.json()["status"] == "queued"
    job = wait_job(stack, r.json()["id"])
    assert job["status"] == "succeeded", job
    assert job["attempts"] == 1 and job["error"] is None
    assert job["started_at"] and job["finished_at"] and job["progress"]
    campaigns = job["result"]["campaigns"]
    assert len(campaigns) == 5
    times = [c["schedule_time"] for c in campaigns]
    assert times == sorted(times) and len(set(times)) == 5
    events = _audit(stack, job["id"])
    calls = [e for e in events if e.kind == "provider_call"]
    assert len(calls) >= 15  # create + content + schedule per email
    assert all(e.path and "?" not in e.path and e.status and e.duration_ms is not None for e in calls)
    assert {e.method for e in calls} >= {"POST", "PUT"}
    api_events = [e for e in events if e.kind == "api"]
    assert [e.outcome for e in api_events] == ["job_created"]


def test_list_jobs_filters_by_agent_integration_and_status(stack: Stack) -> None:
    configure(stack, "emmie", "mailchimp", GOOD_MAILCHIMP)
    job = wait_job(stack, submit(stack, "emmie", "mailchimp", "list_campaigns", {"limit": 5}).json()["id"])
    listed = stack.api.get("/api/jobs", params={"agent": "emmie", "integration": "mailchimp",
                                                "status": "succeeded", "limit": 100},
                           headers=stack.headers()).json()["jobs"]
    assert job["id"] in [j["id"] for j in listed]
    assert all(j["status"] == "succeeded" and j["agent"] == "emmie" for j in listed)
    assert stack.api.get("/api/jobs", params={"agent": "penn"}, headers=stack.headers()).json()["jobs"] == []


def test_repeated_idempotency_key_returns_the_original_job_and_enqueues_nothing(stack: Stack) -> None:
    configure(stack, "emmie", "mailchimp", GOOD_MAILCHIMP)
    first = submit(stack, "emmie", "mailchimp", "list_campaigns", {}, idempotency_key="same-key-1")
    assert first.status_code == 202
    wait_job(stack, first.json()["id"])
    calls_before = len(sim_calls(stack, "mailchimp"))
    again = submit(stack, "emmie", "mailchimp", "list_campaigns", {}, idempotency_key="same-key-1")
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    time.sleep(0.5)
    assert len(sim_calls(stack, "mailchimp")) == calls_before
    with Session(stack.engine) as s:  # type: ignore[arg-type]
        rows = s.exec(select(Job).where(Job.idempotency_key == "same-key-1")).all()
    assert len(rows) == 1


def test_provider_401_fails_the_job_as_auth_without_retry(stack: Stack) -> None:
    configure(stack, "emmie", "mailchimp", GOOD_MAILCHIMP)
    fault(stack, "mailchimp", 401, path="/campaigns")
    job = wait_job(stack, submit(stack, "emmie", "mailchimp", "list_campaigns", {}).json()["id"])
    assert job["status"] == "failed" and job["attempts"] == 1
    assert job["error"]["type"] == "auth"
    configure(stack, "emmie", "mailchimp", GOOD_MAILCHIMP)


def test_rate_limited_job_is_retried_after_the_providers_delay(stack: Stack) -> None:
    configure(stack, "emmie", "mailchimp", GOOD_MAILCHIMP)
    fault(stack, "mailchimp", 429, path="/campaigns", retry_after=1)
    started = time.monotonic()
    job_id = submit(stack, "emmie", "mailchimp", "list_campaigns", {}).json()["id"]
    retrying = wait_job(stack, job_id, statuses=("retrying", "succeeded", "failed"))
    assert retrying["status"] == "retrying" and retrying["error"]["type"] == "rate_limited"
    job = wait_job(stack, job_id)
    assert job["status"] == "succeeded" and job["attempts"] == 2
    assert time.monotonic() - started >= 1.0
    outcomes = [e.outcome for e in _audit(stack, job_id) if e.kind == "provider_call"]
    assert outcomes[0] == "rate_limited" and outcomes[-1] == "ok"


def test_provider_5xx_is_retried_with_backoff_then_succeeds(stack: Stack) -> None:
    configure(stack, "emmie", "mailchimp", GOOD_MAILCHIMP)
    fault(stack, "mailchimp", 503, path="/campaigns", times=2)
    job = wait_job(stack, submit(stack, "emmie", "mailchimp", "list_campaigns", {}).json()["id"])
    assert job["status"] == "succeeded" and job["attempts"] == 3


def test_malformed_provider_response_fails_with_a_clear_error(stack: Stack) -> None:
    configure(stack, "emmie", "mailchimp", GOOD_MAILCHIMP)
    fault(stack, "mailchimp", 200, path="/campaigns", body="<html>not json</html>")
    job = wait_job(stack, submit(stack, "emmie", "mailchimp", "list_campaigns", {}).json()["id"])
    assert job["status"] == "failed" and job["attempts"] == 1
    assert job["error"]["type"] == "permanent" and "JSON" in job["error"]["message"]


def test_disconnect_deletes_credentials_and_fails_queued_jobs_without_calling_the_provider(
        stack: Stack, vault_server: object) -> None:
    import hvac

    configure(stack, "emmie", "mailchimp", GOOD_MAILCHIMP)
    stack.worker.pause()  # type: ignore[attr-defined]
    try:
        job_id = submit(stack, "emmie", "mailchimp", "list_campaigns", {}).json()["id"]
        calls_before = len(sim_calls(stack, "mailchimp"))
        r = stack.api.post("/api/integrations/emmie/mailchimp/disconnect", headers=stack.headers())
        assert r.status_code == 200 and r.json()["status"] == "disconnected" and r.json()["jobs_failed"] >= 1
    finally:
        stack.worker.resume()  # type: ignore[attr-defined]
    job = wait_job(stack, job_id)
    assert job["status"] == "failed" and job["error"]["type"] == "disconnected"
    assert "disconnected" in job["error"]["message"]
    time.sleep(0.5)
    assert len(sim_calls(stack, "mailchimp")) == calls_before
    admin = hvac.Client(url=vault_server.addr, token=vault_server.root_token)  # type: ignore[attr-defined]
    path = f"agents/emmie/tenants/{stack.workspace}/mailchimp"
    import hvac.exceptions

    try:
        admin.secrets.kv.v2.read_secret_metadata(path=path)
        raise AssertionError("metadata still present after disconnect")
    except hvac.exceptions.InvalidPath:
        pass
    r = submit(stack, "emmie", "mailchimp", "list_campaigns", {})
    assert r.status_code == 409
    configure(stack, "emmie", "mailchimp", GOOD_MAILCHIMP)


def test_invalid_queue_message_fails_its_job_and_the_worker_keeps_running(stack: Stack) -> None:
    from config.messages import JobCreate
    from workers.store.jobs import create_job

    configure(stack, "emmie", "mailchimp", GOOD_MAILCHIMP)
    with Session(stack.engine, expire_on_commit=False) as s:  # type: ignore[arg-type]
        job, _ = create_job(session=s, workspace=stack.workspace,
                            req=JobCreate(agent="emmie", integration="mailchimp", action="list_campaigns"))
    bad = dramatiq.Message(queue_name="agent.emmie", actor_name="run_emmie_job", args=(),
                           kwargs={"job_id": job.id, "workspace": stack.workspace, "action": "BAD ACTION",
                                   "v": 99}, options={})
    stack.broker.enqueue(bad)  # type: ignore[attr-defined]
    failed = wait_job(stack, job.id)
    assert failed["status"] == "failed" and failed["error"]["type"] == "invalid"
    assert "action" in failed["error"]["message"] and "v" in failed["error"]["message"]
    later = wait_job(stack, submit(stack, "emmie", "mailchimp", "list_campaigns", {}).json()["id"])
    assert later["status"] == "succeeded"


def test_instagram_post_with_ten_hashtags_is_published_through_container_and_poll(stack: Stack) -> None:
    from tests.integration.helpers import GOOD_INSTAGRAM

    configure(stack, "soshie", "instagram", GOOD_INSTAGRAM)
    tags = [f"tag{i}" for i in range(10)]
    r = submit(stack, "soshie", "instagram", "publish_photo",
               {"image_url": "https://cdn.example.com/a.jpg", "caption": "New product!", "hashtags": tags})
    job = wait_job(stack, r.json()["id"])
    assert job["status"] == "succeeded", job
    assert job["result"]["media_id"] and job["result"]["container_id"]
    assert [w for w in job["result"]["caption"].split() if w.startswith("#")] == [f"#{t}" for t in tags]
    paths = [(e.method, e.path) for e in _audit(stack, job["id"]) if e.kind == "provider_call"]
    assert paths[0] == ("POST", f"/{GOOD_INSTAGRAM['ig_user_id']}/media")
    assert ("POST", f"/{GOOD_INSTAGRAM['ig_user_id']}/media_publish") in paths
    assert sum(1 for m, p in paths if m == "GET" and p == f"/{job['result']['container_id']}") >= 1


def test_broker_down_at_submit_keeps_the_job_and_the_relay_sends_it_when_the_broker_is_back(
        stack: Stack, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import update

    from workers.dispatch import relay_once

    configure(stack, "emmie", "mailchimp", GOOD_MAILCHIMP)
    enqueuer = stack.api.app.state.enqueuer  # type: ignore[attr-defined]
    real = enqueuer.enqueue
    # the dispatcher thread's deferral (the hot path's in-loop sender has its own test in
    # test_submission_hotpath): the submission goes through ``Enqueuer.enqueue``
    monkeypatch.setattr(stack.api.app.state.hot, "loop_sender", None)  # type: ignore[attr-defined]

    def down(*_a, **_k):  # type: ignore[no-untyped-def]
        raise ConnectionError("redis unreachable")

    monkeypatch.setattr(enqueuer, "enqueue", down)
    r = submit(stack, "emmie", "mailchimp", "list_campaigns", {})
    assert r.status_code == 202, r.text  # accepted: the job and its outbox entry are committed together
    job_id = r.json()["id"]
    time.sleep(0.5)
    assert stack.api.get(f"/api/jobs/{job_id}", headers=stack.headers()).json()["status"] == "queued"
    monkeypatch.setattr(enqueuer, "enqueue", real)
    with Session(stack.engine) as s:  # type: ignore[arg-type]
        s.execute(update(Job).where(Job.id == job_id).values(dispatch_at=utcnow()))  # skip the grace
        s.commit()
    # this relay or the stack's own (every 0.5 s), whichever claims the due entry first, sends it
    relay_once(stack.engine, enqueuer)  # type: ignore[arg-type]
    assert wait_job(stack, job_id)["status"] == "succeeded"


def test_a_duplicate_delivery_does_not_run_a_job_twice_at_the_same_time(stack: Stack, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import threading

    from workers.providers.mailchimp import MailchimpClient
    from workers.store.jobs import message_for

    configure(stack, "emmie", "mailchimp", GOOD_MAILCHIMP)
    runs, original = [], MailchimpClient.action_list_campaigns
    gate = threading.Event()

    def slow(self, params, steps):  # type: ignore[no-untyped-def]
        runs.append(1)
        gate.wait(5)  # hold the first attempt while the duplicate arrives
        return original(self, params, steps)

    monkeypatch.setattr(MailchimpClient, "action_list_campaigns", slow)
    stack.worker.pause()  # type: ignore[attr-defined]
    job_id = submit(stack, "emmie", "mailchimp", "list_campaigns", {}).json()["id"]
    with Session(stack.engine, expire_on_commit=False) as s:  # type: ignore[arg-type]
        job = s.get(Job, job_id)
    stack.broker.enqueue(dramatiq.Message(queue_name="agent.emmie", actor_name="run_emmie_job", args=(),  # type: ignore[attr-defined]
                                          kwargs=message_for(job).model_dump(mode="json"), options={}))
    stack.worker.resume()  # type: ignore[attr-defined]
    time.sleep(1.0)  # both messages have been picked up by now
    gate.set()
    done = wait_job(stack, job_id)
    assert done["status"] == "succeeded" and done["attempts"] == 1
    assert len(runs) == 1
    kinds = [e["type"] for e in stack.api.get(f"/api/jobs/{job_id}/timeline", headers=stack.headers()).json()["events"]]
    assert kinds == ["job.queued", "job.running", "job.succeeded"]
