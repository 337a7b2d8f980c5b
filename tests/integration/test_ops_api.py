"""The /api routes behind the ops dashboard: queue stats, job search, audit rows, run-now; workspace-scoped."""

from __future__ import annotations

import uuid

from tests.integration.conftest import Stack
from tests.integration.helpers import GOOD_MAILCHIMP, configure, submit, wait_job
from workers.store.db import session_scope
from workers.store.keys import create_key


def _other_key(stack: Stack) -> str:
    with session_scope(stack.engine) as s:
        return create_key(session=s, workspace=f"other-{uuid.uuid4().hex[:6]}")


def test_queue_stats_count_this_workspaces_jobs_per_agent_with_percentiles(stack: Stack) -> None:
    configure(stack, "emmie", "mailchimp", GOOD_MAILCHIMP)
    before = stack.api.get("/api/ops/queues", headers=stack.headers()).json()
    emmie_before = next(q for q in before["queues"] if q["agent"] == "emmie")
    for _ in range(2):
        wait_job(stack, submit(stack, "emmie", "mailchimp", "list_campaigns", {}).json()["id"])
    stats = stack.api.get("/api/ops/queues?minutes=5", headers=stack.headers()).json()
    assert [q["agent"] for q in stats["queues"]] == ["soshie", "cassie", "seomi", "dexter", "buddy", "emmie", "penn"]
    emmie = next(q for q in stats["queues"] if q["agent"] == "emmie")
    assert emmie["jobs"]["succeeded"] == emmie_before["jobs"]["succeeded"] + 2
    assert emmie["window"]["finished"] >= 2 and emmie["window"]["per_minute"] > 0
    assert 0 <= emmie["window"]["pickup_s"]["p50"] <= emmie["window"]["pickup_s"]["p99"] < 30
    assert emmie["window"]["duration_s"]["p50"] is not None
    assert emmie["broker"] is None  # the broker's counts span every workspace: operators only
    assert stats["scope"] == stack.workspace
    other = stack.api.get("/api/ops/queues", headers=stack.headers(_other_key(stack))).json()
    assert next(q for q in other["queues"] if q["agent"] == "emmie")["jobs"]["succeeded"] == 0


def test_job_search_filters_by_action_status_and_text_and_pages(stack: Stack) -> None:
    configure(stack, "emmie", "mailchimp", GOOD_MAILCHIMP)
    tag = uuid.uuid4().hex[:8]
    ids = [submit(stack, "emmie", "mailchimp", "list_reports", {"limit": 1}, idempotency_key=f"{tag}-{i}").json()["id"]
           for i in range(3)]
    for i in ids:
        wait_job(stack, i)
    page1 = stack.api.get(f"/api/ops/jobs?q={tag}&limit=2", headers=stack.headers()).json()
    page2 = stack.api.get(f"/api/ops/jobs?q={tag}&limit=2&offset=2", headers=stack.headers()).json()
    assert page1["total"] == page2["total"] == 3
    assert {j["id"] for j in page1["jobs"] + page2["jobs"]} == set(ids)
    assert stack.api.get(f"/api/ops/jobs?q={ids[0][:10]}", headers=stack.headers()).json()["total"] == 1
    assert stack.api.get(f"/api/ops/jobs?q={tag}&status=failed", headers=stack.headers()).json()["total"] == 0
    assert stack.api.get(f"/api/ops/jobs?q={tag}&action=list_campaigns",
                         headers=stack.headers()).json()["total"] == 0
    assert stack.api.get(f"/api/ops/jobs?q={tag}&since=2999-01-01T00:00:00Z",
                         headers=stack.headers()).json()["total"] == 0
    assert stack.api.get(f"/api/ops/jobs?q={tag}&until=2999-01-01T00:00:00",  # no offset: UTC
                         headers=stack.headers()).json()["total"] == 3
    assert stack.api.get(f"/api/ops/jobs?q={tag}", headers=stack.headers(_other_key(stack))).json()["total"] == 0
    assert stack.api.get("/api/ops/jobs?q=%25", headers=stack.headers()).json()["total"] == 0  # no wildcards


def test_audit_rows_of_a_job_and_of_an_integration(stack: Stack) -> None:
    configure(stack, "emmie", "mailchimp", GOOD_MAILCHIMP)
    job = wait_job(stack, submit(stack, "emmie", "mailchimp", "list_campaigns", {"limit": 1}).json()["id"])
    rows = stack.api.get(f"/api/jobs/{job['id']}/audit", headers=stack.headers()).json()["audit"]
    calls = [r for r in rows if r["kind"] == "provider_call"]
    assert calls and calls[0]["method"] == "GET" and calls[0]["path"].endswith("/campaigns")
    assert calls[0]["status"] == 200 and calls[0]["outcome"] == "ok" and calls[0]["duration_ms"] >= 0
    assert [r["outcome"] for r in rows if r["kind"] == "api"] == ["job_created"]
    recent = stack.api.get("/api/integrations/emmie/mailchimp/audit?kind=provider_call",
                           headers=stack.headers()).json()["audit"]
    assert recent[0]["job_id"] == job["id"]  # newest first
    assert {r["kind"] for r in recent} == {"provider_call"}
    other = stack.api.get(f"/api/jobs/{job['id']}/audit", headers=stack.headers(_other_key(stack)))
    assert other.status_code == 404


def test_run_now_submits_the_schedules_job_once_and_keeps_its_timing(stack: Stack) -> None:
    configure(stack, "emmie", "mailchimp", GOOD_MAILCHIMP)
    sched = stack.api.post("/api/schedules", headers=stack.headers(), json={
        "cron": "0 9 * * MON", "timezone": "Europe/Paris",
        "job": {"agent": "emmie", "integration": "mailchimp", "action": "list_campaigns",
                "params": {"limit": 1}}}).json()
    r = stack.api.post(f"/api/schedules/{sched['id']}/run", headers=stack.headers())
    assert r.status_code == 202, r.text
    assert wait_job(stack, r.json()["id"])["status"] == "succeeded"
    after = stack.api.get(f"/api/schedules/{sched['id']}", headers=stack.headers()).json()
    assert [j["id"] for j in after["jobs"]] == [r.json()["id"]]
    assert after["next_fire_at"] == sched["next_fire_at"]
    other = stack.headers(_other_key(stack))
    assert stack.api.post(f"/api/schedules/{sched['id']}/run", headers=other).status_code == 404
    firings = stack.api.get(f"/api/schedules/{sched['id']}/firings", headers=stack.headers()).json()
    assert firings["firings"] == []  # a run-now is not a firing of the schedule


def test_workers_route_lists_the_live_worker_without_its_host_for_a_workspace_key(stack: Stack) -> None:
    body = stack.api.get("/api/ops/workers", headers=stack.headers()).json()
    live = [w for w in body["workers"] if w["alive"] and "agent.emmie" in w["queues"]]
    assert live and body["alive"] >= 1  # the stack's in-process worker heartbeats
    assert all(w["hostname"] is None and w["pid"] is None for w in body["workers"])


def test_the_jobs_page_and_search_refuse_or_drop_what_the_database_cannot_take(stack: Stack) -> None:
    assert stack.api.get("/api/ops/jobs?q=%00x", headers=stack.headers()).status_code == 422
    assert stack.api.get("/api/ops/jobs?agent=E%17", headers=stack.headers()).status_code == 422
    assert stack.api.get("/api/ops/jobs?offset=99999999999999999999", headers=stack.headers()).status_code == 422


def test_an_operator_key_sees_every_workspaces_jobs_and_the_brokers_counts(stack: Stack) -> None:
    configure(stack, "emmie", "mailchimp", GOOD_MAILCHIMP)
    tag = uuid.uuid4().hex[:8]
    mine = submit(stack, "emmie", "mailchimp", "list_reports", {"limit": 1}, idempotency_key=f"{tag}-op").json()["id"]
    wait_job(stack, mine)
    with session_scope(stack.engine) as s:  # type: ignore[arg-type]
        operator = create_key(session=s, workspace=f"ops-{uuid.uuid4().hex[:6]}", scope="operator")
    other = _other_key(stack)
    assert stack.api.get(f"/api/ops/jobs?q={tag}", headers=stack.headers(other)).json()["total"] == 0
    seen = stack.api.get(f"/api/ops/jobs?q={tag}", headers=stack.headers(operator)).json()
    assert [j["id"] for j in seen["jobs"]] == [mine]
    stats = stack.api.get("/api/ops/queues", headers=stack.headers(operator)).json()
    assert next(q for q in stats["queues"] if q["agent"] == "emmie")["broker"] is not None
