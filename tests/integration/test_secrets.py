"""A canary secret goes through succeeding and failing jobs and shows up nowhere outside Vault."""

from __future__ import annotations

import io
import uuid

import pytest
import redis
from sqlalchemy import text

from tests.integration.conftest import Stack
from tests.integration.helpers import configure, fault, sim_calls, submit, wait_job
from simulator.urls import TOKENS


def _db_dump(stack: Stack) -> str:
    tables = ["workspaces", "api_keys", "integrations", "jobs", "job_steps", "audit_events"]
    with stack.engine.connect() as conn:  # type: ignore[attr-defined]
        return "\n".join(repr(row) for t in tables for row in conn.execute(text(f"SELECT * FROM {t}")))


def _redis_dump(url: str) -> str:
    r = redis.Redis.from_url(url)
    out = []
    read = {"string": r.get, "list": lambda k: r.lrange(k, 0, -1), "hash": r.hgetall, "set": r.smembers,
            "zset": lambda k: r.zrange(k, 0, -1)}
    for key in r.scan_iter(count=1000):
        value = read.get(r.type(key).decode(), lambda k: b"")(key)
        out.append(f"{key!r} {value!r}")
    return "\n".join(out)


def test_canary_secret_never_leaves_vault(stack: Stack, log_stream: io.StringIO,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    canary = f"CANARY{uuid.uuid4().hex}"
    responses: list[str] = []

    def keep(r):  # type: ignore[no-untyped-def]
        responses.append(r.text)
        return r

    keep(stack.api.post("/api/integrations/emmie/mailchimp/configure", headers=stack.headers(),
                        json={"credentials": {"api_key": f"{canary}-us21", "list_id": "leads"}}))
    keep(stack.api.post("/api/integrations/emmie/mailchimp/connect", headers=stack.headers()))
    outcomes = []
    for status in (None, 401, 503):  # a success, an auth failure, a retried transient failure
        if status is not None:
            fault(stack, "mailchimp", status, path="/campaigns")
        job = wait_job(stack, keep(submit(stack, "emmie", "mailchimp", "list_campaigns", {})).json()["id"])
        responses.append(str(job))
        outcomes.append(job["status"])
    assert outcomes == ["succeeded", "failed", "succeeded"]

    from workers.providers.mailchimp import MailchimpClient

    def buggy(self, params, steps):  # type: ignore[no-untyped-def]
        token = self.credentials["api_key"]
        raise RuntimeError(f"bug while holding {token}")  # a traceback that names the secret

    monkeypatch.setattr(MailchimpClient, "action_list_campaigns", buggy)
    crashed = wait_job(stack, keep(submit(stack, "emmie", "mailchimp", "list_campaigns", {})).json()["id"])
    assert crashed["status"] == "failed" and crashed["error"]["message"] == \
        "internal error in worker: RuntimeError"
    responses.append(str(crashed))
    keep(stack.api.get("/api/integrations/emmie/mailchimp", headers=stack.headers()))
    keep(stack.api.get("/api/jobs?limit=500", headers=stack.headers()))
    # a failing connect with a canary-bearing bad key exercises the provider's auth-error body
    keep(stack.api.post("/api/integrations/emmie/mailchimp/configure", headers=stack.headers(),
                        json={"credentials": {"api_key": f"bad{canary}-us21", "list_id": "leads"}}))
    keep(stack.api.post("/api/integrations/emmie/mailchimp/connect", headers=stack.headers()))

    logs = log_stream.getvalue()
    assert "bug while holding" in logs, "the crash should be logged (with the secret redacted)"
    places = {"logs": logs, "database": _db_dump(stack), "redis": _redis_dump(stack.settings.redis_url),
              "api responses": "\n".join(responses)}
    for where, content in places.items():
        assert canary not in content, f"canary secret found in {where}"
    configure(stack, "emmie", "mailchimp", {"api_key": "sandboxkey0123456789-us21", "list_id": "leads"})


def test_canary_oauth_secrets_stay_secret_through_a_refresh(stack: Stack, log_stream: io.StringIO) -> None:
    import httpx

    httpx.post(f"{stack.simulator.url}/_sim/reset").raise_for_status()  # type: ignore[attr-defined]
    canary = f"CANARY{uuid.uuid4().hex}"
    creds = {"client_id": "sintra-x-app", "client_secret": f"cs-{canary}", "refresh_token": f"rt-{canary}",
             "access_token": f"at-{canary}"}
    responses = [stack.api.post("/api/integrations/soshie/x/configure", headers=stack.headers(),
                                json={"credentials": creds}).text]
    fault(stack, "x", 401, path="/x/2/users", times=1)  # the access token is refused once: refresh, replay
    job = wait_job(stack, submit(stack, "soshie", "x", "get_user_metrics", {}).json()["id"])
    assert job["status"] == "succeeded", job
    refreshes = [c for c in sim_calls(stack, "x") if c["path"] == TOKENS["x"]]
    assert len(refreshes) == 1  # the refresh really happened (and its new tokens went back to Vault)
    responses += [str(job), stack.api.get("/api/integrations/soshie/x", headers=stack.headers()).text]
    places = {"logs": log_stream.getvalue(), "database": _db_dump(stack),
              "redis": _redis_dump(stack.settings.redis_url), "api responses": "\n".join(responses)}
    for where, content in places.items():
        assert canary not in content, f"canary OAuth secret found in {where}"
