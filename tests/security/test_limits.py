"""Limits: body size before parsing and auth, credential and params sizes, hostile characters, throttling,
and one tenant's hung connects not stalling another tenant."""

from __future__ import annotations

import statistics
import threading
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from sqlmodel import select

from producers.api.limits import WINDOW_SECONDS
from tests.integration.helpers import GOOD_MAILCHIMP
from tests.stack import Stack
from workers.store.db import session_scope
from workers.store.keys import create_key
from workers.store.models import Job


def _client(stack: Stack) -> TestClient:
    """A client calling from its own address, so its throttling counts are its own."""
    return TestClient(stack.api.app, client=(f"2001:db8::{uuid.uuid4().hex[:4]}:{uuid.uuid4().hex[:4]}", 4000))


def test_oversized_body_is_refused_with_413_before_auth_and_parsing(stack: Stack) -> None:
    big = b"{" + b" " * (stack.settings.max_body_bytes + 10) + b"}"
    r = stack.api.post("/api/jobs", content=big, headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and r.json()["error"]["code"] == "body_too_large"


def test_streamed_oversized_body_is_cut_off_with_413(stack: Stack) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(40):
            yield b" " * 65_536

    r = stack.api.post("/api/jobs", content=chunks(), headers={**stack.headers(), "Content-Type": "application/json"})
    assert r.status_code == 413


def test_oversized_credential_is_refused_naming_the_field_and_configure_stays_fast(stack: Stack) -> None:
    creds = {**GOOD_MAILCHIMP, "api_key": "k" * 40_000 + "-us21"}
    r = stack.api.post("/api/integrations/emmie/mailchimp/configure", json={"credentials": creds},
                       headers=stack.headers())
    assert r.status_code == 422 and "api_key" in r.json()["error"]["invalid"]
    # a secret near the limit is registered once; configure after it stays fast
    near = {**GOOD_MAILCHIMP, "api_key": "q" * 16_000 + "-us21"}
    assert stack.api.post("/api/integrations/emmie/mailchimp/configure", json={"credentials": near},
                          headers=stack.headers()).status_code == 200
    started = time.perf_counter()
    assert stack.api.post("/api/integrations/emmie/mailchimp/configure", json={"credentials": GOOD_MAILCHIMP},
                          headers=stack.headers()).status_code == 200
    took = time.perf_counter() - started
    print(f"configure after a 16 KB secret: {took * 1000:.0f} ms")
    assert took < 0.5
    two_mb = stack.api.post("/api/integrations/emmie/mailchimp/configure", headers=stack.headers(),
                            json={"credentials": {**GOOD_MAILCHIMP, "api_key": "z" * 2_000_000 + "-us21"}})
    assert two_mb.status_code == 413


def test_oversized_params_are_refused_naming_the_field(stack: Stack) -> None:
    body = {"agent": "emmie", "integration": "mailchimp", "action": "get_campaign_report",
            "params": {"campaign_id": "x" * (stack.settings.max_params_bytes + 1)}}
    r = stack.api.post("/api/jobs", json=body, headers=stack.headers())
    assert r.status_code == 422 and r.json()["error"]["fields"][0]["field"] == "params"


HOSTILE = [
    ("GET", "/api/jobs?status=queued%00", None, "status"),
    ("GET", "/api/jobs?agent=emmie%00x", None, "agent"),
    ("GET", "/api/jobs?integration=%01", None, "integration"),
    ("GET", "/api/jobs/abc%00def", None, "job_id"),
    ("GET", "/api/schedules/abc%00", None, "schedule_id"),
    ("POST", "/api/jobs/abc%00/cancel", None, "job_id"),
    ("GET", "/api/integrations/emmie%00", None, "agent_id"),
    ("POST", "/api/jobs", {"agent": "emmie", "integration": "mailchimp", "action": "get_campaign_report",
                           "params": {"campaign_id": "c1"}, "idempotency_key": "k\x00"}, "idempotency_key"),
    ("POST", "/api/jobs", {"agent": "emmie", "integration": "mailchimp", "action": "get_campaign_report",
                           "params": {"campaign_id": "c\x00"}}, "params.campaign_id"),
    ("POST", "/api/schedules", {"name": "n\x00", "cron": "0 9 * * *", "timezone": "UTC",
                                "job": {"agent": "emmie", "integration": "mailchimp",
                                        "action": "get_campaign_report", "params": {}}}, "name"),
    ("POST", "/api/integrations/emmie/mailchimp/configure",
     {"credentials": {"api_key": "abc\x00-us21", "list_id": "l"}}, "credentials.api_key"),
]


@pytest.mark.parametrize(("method", "path", "body", "field"), HOSTILE)
def test_control_characters_are_a_422_naming_the_field(stack: Stack, method: str, path: str, body: object,
                                                       field: str) -> None:
    r = stack.api.request(method, path, json=body, headers=stack.headers())
    assert r.status_code == 422, r.text
    assert field in r.json()["error"]["message"]


def test_wrong_keys_are_throttled_per_address_with_retry_after(stack: Stack) -> None:
    client = _client(stack)
    limit = 30
    stack.settings.auth_failures_per_ip = limit
    try:
        # the counters are per minute window: start early in one, so the 200 requests do not straddle two
        if (into := time.time() % WINDOW_SECONDS) > WINDOW_SECONDS - 20:
            time.sleep(WINDOW_SECONDS - into + 0.1)
        codes = [client.get("/api/jobs", headers={"Authorization": f"Bearer sk_guess{i}"}) for i in range(200)]
        throttled = [r for r in codes if r.status_code == 429]
        print(f"200 wrong keys from one address: {len(throttled)} throttled (429), "
              f"{sum(r.status_code == 401 for r in codes)} answered 401")
        assert len(throttled) >= 200 - limit
        assert all(int(r.headers["Retry-After"]) > 0 for r in throttled)
        # the address is refused even with a good key until the window passes; other addresses are not
        assert client.get("/api/jobs", headers=stack.headers()).status_code == 429
        assert _client(stack).get("/api/jobs", headers=stack.headers()).status_code == 200
    finally:
        stack.settings.auth_failures_per_ip = 100_000


def test_a_key_is_throttled_past_its_limit(stack: Stack) -> None:
    with session_scope(stack.engine) as s:
        key = create_key(session=s, workspace=f"ws-{uuid.uuid4().hex[:6]}")
    stack.settings.rate_limit_per_key = 20
    try:
        codes = [stack.api.get("/api/jobs", headers=stack.headers(key)).status_code for _ in range(30)]
    finally:
        stack.settings.rate_limit_per_key = 3000
    assert codes.count(200) == 20 and codes.count(429) == 10
    assert stack.api.get("/api/jobs", headers=stack.headers()).status_code == 200  # other keys unaffected


def _jobs_of(stack: Stack, workspace: str) -> int:
    with session_scope(stack.engine) as s:
        return len(s.exec(select(Job).where(Job.workspace_id == workspace)).all())


def test_neighbour_stays_fast_while_another_tenant_runs_60_connects_to_a_hung_provider(stack: Stack) -> None:
    sim = stack.simulator.url  # type: ignore[attr-defined]
    hung_ws = f"ws-{uuid.uuid4().hex[:6]}"
    with session_scope(stack.engine) as s:
        hung_key = create_key(session=s, workspace=hung_ws)
    hung = stack.headers(hung_key)
    assert stack.api.post("/api/integrations/buddy/pipedrive/configure", headers=hung,
                          json={"credentials": {"api_token": "goodPipedriveToken01"}}).status_code == 200
    httpx.post(f"{sim}/_sim/faults", json={"provider": "pipedrive", "status": 503, "times": 60,
                                          "delay": 12.0, "path": "/users/me"}).raise_for_status()
    stack.settings.connect_wait_seconds = 8.0
    answers: list[int] = []
    try:
        threads = [threading.Thread(target=lambda: answers.append(
            stack.api.post("/api/integrations/buddy/pipedrive/connect", headers=hung)))
            for _ in range(60)]
        for t in threads:
            t.start()
        # measure while all 60 wait on the hung provider (their own start-up is ordinary request work)
        deadline = time.monotonic() + 10
        while _jobs_of(stack, hung_ws) < 60 and time.monotonic() < deadline:
            time.sleep(0.05)
        latencies: list[float] = []
        until = time.monotonic() + 5  # well inside the connects' wait: all 60 are pending meanwhile
        while len(latencies) < 200 and time.monotonic() < until:
            started = time.perf_counter()
            assert stack.api.get("/api/jobs?limit=5", headers=stack.headers()).status_code == 200
            latencies.append(time.perf_counter() - started)
            time.sleep(0.005)
        for t in threads:
            t.join()
    finally:
        stack.settings.connect_wait_seconds = 10
        stack.api.post("/api/integrations/buddy/pipedrive/disconnect", headers=hung)  # fails the queued tests
        httpx.post(f"{sim}/_sim/faults/clear", params={"provider": "pipedrive"}).raise_for_status()
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    p95, p99 = cuts[94], cuts[98]
    print(f"neighbour GET /api/jobs under 60 hung connects: p50 {statistics.median(latencies) * 1000:.0f} ms, "
          f"p95 {p95 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms")
    # each connect answered: pending (202), or the provider's 503 when its test finished within the wait
    assert len(answers) == 60 and {r.status_code for r in answers} <= {200, 202} and len(latencies) >= 50
    # p95 under 200 ms, and no request stalled (a blocked thread pool made them wait seconds: 13.3 s before);
    # p95 rather than p99: this process also runs the worker and the simulator, on two shared cores
    shown = [round(x * 1000) for x in latencies]
    assert p95 < 0.2 and max(latencies) < 1.5, f"neighbour GET p95 {p95 * 1000:.0f} ms: {shown}"
