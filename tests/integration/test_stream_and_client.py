"""The live stream (SSE) and the sync and async clients, against the real API over HTTP."""

from __future__ import annotations

import asyncio
import re

import pytest

from producers.client import OPERATIONS, AsyncSintraClient, SintraApiError, SintraClient
from producers.schemas import ConnectResult, JobsPublic, Readiness, WorkflowsPublic
from tests.integration.conftest import Stack
from tests.integration.helpers import GOOD_INSTAGRAM, GOOD_MAILCHIMP, configure
from workers.store import events
from workers.store.db import session_scope

POST = {"image_url": "https://cdn.example.com/a.jpg", "caption": "New product!", "hashtags": ["a", "b"]}


def test_client_methods_cover_every_operation_of_both_clients(stack: Stack) -> None:
    spec = stack.api.get("/openapi.json").json()
    ids = {op["operationId"] for ops in spec["paths"].values() for op in ops.values()}
    assert set(OPERATIONS) == ids, (ids - set(OPERATIONS), set(OPERATIONS) - ids)
    for method in OPERATIONS.values():
        assert callable(getattr(SintraClient, method)) and callable(getattr(AsyncSintraClient, method)), method
        assert getattr(SintraClient, method).__doc__


def test_job_stream_shows_progress_of_a_multi_step_job_and_wait_returns_it(stack: Stack, api_url: str,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from workers.providers.instagram import InstagramClient

    monkeypatch.setattr(InstagramClient, "POLL_INTERVAL", 0.6)  # the container is ready on the next poll
    configure(stack, "soshie", "instagram", GOOD_INSTAGRAM)
    with SintraClient(api_url, stack.key) as client:
        job = client.create_job("soshie", "instagram", "publish_photo", POST)
        seen = list(client.job_events(job.id, max_seconds=30))
        assert seen[0].type == "job.snapshot" and seen[-1].type == "job.snapshot"
        assert seen[-1].data["status"] == "succeeded"
        steps = [(e.data.get("progress") or {}).get("step") for e in seen if e.type == "job.snapshot"]
        steps += [e.data["data"].get("step") for e in seen if e.type == "job.progress"]
        assert "creating media container" in steps, [(e.type, e.data) for e in seen]
        assert client.wait(job.id, timeout=10).status == "succeeded"  # finished: the stream ends at once


def test_workspace_stream_resumes_after_last_event_id_and_filters_types(stack: Stack, api_url: str) -> None:
    with session_scope(stack.engine) as s:
        for n in range(3):
            events.record(s, workspace=stack.workspace, type="schedule.paused", data={"n": n})
        events.record(s, workspace=stack.workspace, type="integration.error", data={"n": 9})
    with SintraClient(api_url, stack.key) as client:
        got = []
        for event in client.events(after=0, types=["schedule.paused"], max_seconds=1.5):
            got.append(event)
        mine = [e for e in got if e.data["data"].get("n") is not None]
        assert [e.data["data"]["n"] for e in mine][-3:] == [0, 1, 2]
        assert all(e.type == "schedule.paused" for e in got)
        after = list(client.events(after=mine[-2].id, types=["schedule.paused"], max_seconds=1))
        assert [e.data["data"]["n"] for e in after] == [2]
        with pytest.raises(SintraApiError) as err:
            list(client.job_events("no-such-job", max_seconds=1))
        assert err.value.status == 404


def test_a_cursor_past_any_event_id_is_refused_by_name(stack: Stack) -> None:
    """Event ids are int4: a larger cursor is a 422 naming it, never a database error (schemathesis found a 500)."""
    huge = 2**40
    got = stack.api.get(f"/api/events?after={huge}&max_seconds=1", headers=stack.headers())
    assert got.status_code == 422 and "after" in got.text, got.text
    got = stack.api.get("/api/events?max_seconds=1", headers={**stack.headers(), "Last-Event-ID": str(huge)})
    assert got.status_code == 422 and "Last-Event-ID" in got.json()["error"]["message"], got.text


def test_sync_client_returns_typed_results_for_every_kind_of_call(stack: Stack, api_url: str) -> None:
    with SintraClient(api_url, stack.key) as client:
        assert client.healthz().status == "ok"
        assert isinstance(client.readyz(), Readiness)
        assert {a.id for a in client.integrations().agents} >= {"emmie", "soshie"}
        assert client.agent("emmie").queue and client.integration("emmie", "mailchimp").id == "mailchimp"
        assert client.configure("emmie", "mailchimp", GOOD_MAILCHIMP).status == "configured"
        assert isinstance(client.connect("emmie", "mailchimp"), ConnectResult)
        job = client.create_job("emmie", "mailchimp", "list_campaigns", {"limit": 1})
        assert client.wait(job.id, timeout=30).status == "succeeded"
        page = client.list_jobs(agent="emmie", limit=1)
        assert isinstance(page, JobsPublic) and page.count == 1 and page.next_cursor
        assert client.list_jobs(agent="emmie", limit=1, cursor=page.next_cursor).jobs[0].id != page.jobs[0].id
        sched = client.create_schedule("0 9 * * MON", {"agent": "emmie", "integration": "mailchimp",
                                                       "action": "list_campaigns", "params": {}})
        assert client.pause_schedule(sched.id).status == "paused"
        assert client.schedule(sched.id).jobs == []
        assert client.resume_schedule(sched.id).status == "active"
        assert client.update_schedule(sched.id, name="weekly").name == "weekly"
        assert sched.id in {s.id for s in client.schedules(limit=500).schedules}
        assert client.delete_schedule(sched.id) is None
        assert isinstance(client.workflows(), WorkflowsPublic)
        hook = client.create_webhook("https://hooks.example.com/x", ["job.failed"])
        assert hook.secret.startswith("whsec_") and client.webhook(hook.id).url == hook.url
        assert hook.id in {w.id for w in client.webhooks().webhooks}
        assert client.webhook_deliveries(hook.id).deliveries == []
        assert client.delete_webhook(hook.id) is None
        with pytest.raises(SintraApiError) as err:
            client.get_job("nope")
        assert err.value.status == 404 and err.value.code == "not_found"
        assert client.disconnect("emmie", "mailchimp").status == "disconnected"


def test_async_client_covers_the_same_calls(stack: Stack, api_url: str) -> None:
    async def scenario() -> None:
        async with AsyncSintraClient(api_url, stack.key) as client:
            assert (await client.healthz()).status == "ok"
            await client.configure("emmie", "mailchimp", GOOD_MAILCHIMP)
            assert (await client.connect("emmie", "mailchimp")).status == "connected"
            job = await client.create_job("emmie", "mailchimp", "list_campaigns", {"limit": 1})
            done = await client.wait(job.id, timeout=30)
            assert done.status == "succeeded" and done.id == job.id
            assert (await client.get_job(job.id)).status == "succeeded"
            assert job.id in {j.id for j in (await client.list_jobs(agent="emmie", limit=50)).jobs}
            hook = await client.create_webhook("https://hooks.example.com/y", ["job.succeeded"])
            assert (await client.webhook(hook.id)).events == ["job.succeeded"]
            await client.delete_webhook(hook.id)
            wf = await client.workflows()
            assert wf.workflows[0].id == "seo_analysis"
            assert re.fullmatch(r"[0-9a-f]{32}", job.id)

    asyncio.run(scenario())


def test_keys_are_listed_rotated_and_revoked_through_the_client(stack: Stack, api_url: str) -> None:
    from workers.store.db import session_scope
    from workers.store.keys import create_key

    with session_scope(stack.engine) as s:  # type: ignore[arg-type]
        spare = create_key(session=s, workspace=stack.workspace)
    with SintraClient(api_url, stack.key) as client:
        listed = client.keys().keys
        mine = next(k for k in listed if k.prefix == spare[:10])
        assert mine.active and all(spare not in k.model_dump_json() for k in listed)
        rotated = client.rotate_key(str(mine.id))
        assert rotated.revoked.active is False and rotated.key != spare
        with SintraClient(api_url, spare) as old, pytest.raises(SintraApiError) as refused:
            old.keys()
        assert refused.value.status == 401
        with SintraClient(api_url, rotated.key) as new:
            assert any(k.prefix == rotated.prefix for k in new.keys().keys)
        revoked = client.revoke_key(rotated.prefix)
        assert revoked.active is False
