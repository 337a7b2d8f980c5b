"""Webhooks on the real stack: signed deliveries, each event once, retries, the log, manual redelivery."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import datetime

import hvac
import pytest
from sqlalchemy import text

from producers.client import WebhookVerificationError, verify
from producers.webhooks import WebhookDispatcher, vault_secrets
from tests.integration.conftest import Stack
from tests.integration.helpers import GOOD_MAILCHIMP
from tests.integration.webhook_receiver import Receiver, webhook_receiver
from workers.store import events
from workers.store.db import session_scope
from workers.store.keys import create_key

ALL = ["integration.disconnected", "integration.error", "job.failed", "job.succeeded", "schedule.paused"]


@pytest.fixture
def tenant(stack: Stack) -> dict[str, str]:
    """A fresh workspace (so other tests' events stay out) and its auth header."""
    workspace = f"wh-{uuid.uuid4().hex[:6]}"
    with session_scope(stack.engine) as s:
        key = create_key(session=s, workspace=workspace)
    return {"workspace": workspace, "Authorization": f"Bearer {key}"}


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with webhook_receiver() as r:
        yield r


def _auth(tenant: dict[str, str]) -> dict[str, str]:
    return {"Authorization": tenant["Authorization"]}


def _create(stack: Stack, tenant: dict[str, str], url: str, events_: list[str] = ALL) -> dict:
    r = stack.api.post("/api/webhooks", json={"url": url, "events": events_}, headers=_auth(tenant))
    assert r.status_code == 201, r.text
    return r.json()


def _dispatcher(stack: Stack, **settings: object) -> WebhookDispatcher:
    conf = stack.settings.model_copy(update=settings)
    return WebhookDispatcher(stack.engine, conf, vault_secrets(conf))


def _pump(dispatchers: list[WebhookDispatcher], until: object, timeout: float = 20.0) -> None:
    """Run every dispatcher's ticks concurrently until ``until()`` holds."""
    deadline = time.monotonic() + timeout
    while not until():  # type: ignore[operator]
        assert time.monotonic() < deadline, "webhook deliveries did not arrive in time"
        threads = [threading.Thread(target=d.tick) for d in dispatchers]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        time.sleep(0.05)


def _record(stack: Stack, workspace: str, type_: str, **data: object) -> None:
    with session_scope(stack.engine) as s:
        events.record(s, workspace=workspace, type=type_, data=dict(data))


def test_the_signing_secret_is_shown_once_and_kept_in_vault_only(stack: Stack, tenant: dict[str, str],
                                                                  vault_server: object) -> None:
    hook = _create(stack, tenant, "https://hooks.example.com/sintra", ["job.failed"])
    secret = hook["secret"]
    assert secret.startswith("whsec_") and len(secret) > 40
    shown = stack.api.get(f"/api/webhooks/{hook['id']}", headers=_auth(tenant)).text
    listed = stack.api.get("/api/webhooks", headers=_auth(tenant)).text
    assert hook["id"] in listed and secret not in shown + listed and "secret" not in json.loads(shown)
    with stack.engine.connect() as conn:  # type: ignore[attr-defined]
        rows = [str(r) for r in conn.execute(text("SELECT * FROM webhook_endpoints"))]
    assert rows and not any(secret in r for r in rows)
    admin = hvac.Client(url=vault_server.addr, token=vault_server.root_token)  # type: ignore[attr-defined]
    stored = admin.secrets.kv.v2.read_secret_version(path=f"webhooks/{tenant['workspace']}/{hook['id']}",
                                                     raise_on_deleted_version=True)
    assert stored["data"]["data"] == {"secret": secret}
    from workers.vault.client import VaultForbidden, VaultSession
    from workers.vault.webhook_secrets import WebhookSecretReader

    with pytest.raises(VaultForbidden):  # the API identity writes secrets but cannot read them
        WebhookSecretReader(VaultSession.from_settings(stack.settings, "api")).read(tenant["workspace"], hook["id"])
    assert stack.api.delete(f"/api/webhooks/{hook['id']}", headers=_auth(tenant)).status_code == 204
    assert stack.api.get(f"/api/webhooks/{hook['id']}", headers=_auth(tenant)).status_code == 404
    with pytest.raises(hvac.exceptions.InvalidPath):
        admin.secrets.kv.v2.read_secret_version(path=f"webhooks/{tenant['workspace']}/{hook['id']}",
                                                raise_on_deleted_version=True)


@pytest.mark.parametrize("url", ["http://hooks.example.com/x", "https://127.0.0.2/x", "https://localhost/x", "https://10.1.2.3/x",
                                 "https://[::1]/x", "https://169.254.169.254/latest", "ftp://example.com/x",
                                 "https://user:pw@hooks.example.com/x"])
def test_webhook_urls_must_be_https_to_public_addresses(stack: Stack, tenant: dict[str, str], url: str) -> None:
    r = stack.api.post("/api/webhooks", json={"url": url, "events": ["job.failed"]}, headers=_auth(tenant))
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "invalid_url"


def test_unknown_event_types_are_refused_naming_the_valid_ones(stack: Stack, tenant: dict[str, str]) -> None:
    r = stack.api.post("/api/webhooks", json={"url": "https://hooks.example.com/x", "events": ["job.exploded"]},
                       headers=_auth(tenant))
    assert r.status_code == 422 and r.json()["error"]["fields"][0]["field"].startswith("events")


def test_receiver_verifies_every_event_once_from_two_dispatchers(stack: Stack, tenant: dict[str, str],
                                                                 receiver: Receiver) -> None:
    hook = _create(stack, tenant, receiver.url)
    ws, headers = tenant["workspace"], _auth(tenant)
    assert stack.api.post("/api/integrations/emmie/mailchimp/configure", json={"credentials": GOOD_MAILCHIMP},
                          headers=headers).status_code == 200
    job = {"agent": "emmie", "integration": "mailchimp", "action": "list_campaigns", "params": {}}
    for cron in ("0 9 * * MON", "0 9 * * TUE"):
        assert stack.api.post("/api/schedules", json={"cron": cron, "job": job}, headers=headers).status_code == 201
    first = stack.api.get("/api/schedules", headers=headers).json()["schedules"][0]["id"]
    assert stack.api.post(f"/api/schedules/{first}/pause", headers=headers).status_code == 200  # schedule.paused
    r = stack.api.post("/api/integrations/emmie/mailchimp/disconnect", headers=headers)  # + 1 more paused
    assert r.status_code == 200 and r.json()["schedules_paused"] == 1
    _record(stack, ws, "job.running", job_id="j1")  # not subscribed: never delivered
    _record(stack, ws, "job.succeeded", job_id="j1")
    _record(stack, ws, "job.failed", job_id="j2")
    _record(stack, ws, "integration.error", agent="emmie", integration="mailchimp", message="401")
    _record(stack, f"{ws}-other", "job.failed", job_id="j3")  # another workspace's event
    expected = Counter({"schedule.paused": 2, "integration.disconnected": 1, "job.succeeded": 1, "job.failed": 1,
                        "integration.error": 1})
    _pump([_dispatcher(stack), _dispatcher(stack)], lambda: len(receiver.got) >= sum(expected.values()))
    time.sleep(0.3)
    _pump([_dispatcher(stack)], lambda: True)  # one more round: nothing else may arrive
    payloads = [verify(hook["secret"], g.headers, g.body) for g in receiver.got]
    assert Counter(p["type"] for p in payloads) == expected
    ids = [g.headers["webhook-id"] for g in receiver.got]
    assert len(ids) == len(set(ids)) == 6
    disconnected = next(p for p in payloads if p["type"] == "integration.disconnected")
    assert disconnected["data"]["integration"] == "mailchimp" and disconnected["data"]["schedules_paused"] == 1
    assert {p["data"].get("job_id") for p in payloads if p["type"].startswith("job.")} == {"j1", "j2"}
    log = stack.api.get(f"/api/webhooks/{hook['id']}/deliveries", headers=headers).json()["deliveries"]
    assert len(log) == 6 and all(d["status"] == "delivered" and d["attempts"] == 1 for d in log)
    with pytest.raises(WebhookVerificationError):
        verify("whsec_" + "A" * 44, receiver.got[0].headers, receiver.got[0].body)


def test_a_failed_delivery_is_retried_with_backoff_and_arrives_once_the_receiver_recovers(
        stack: Stack, tenant: dict[str, str], receiver: Receiver) -> None:
    hook = _create(stack, tenant, receiver.url, ["job.failed"])
    receiver.fail_next, receiver.fail_status = 2, 503
    _record(stack, tenant["workspace"], "job.failed", job_id="j9")
    _pump([_dispatcher(stack)], lambda: any(g.answered == 200 for g in receiver.got))
    assert [g.answered for g in receiver.got] == [503, 503, 200]
    assert len({g.headers["webhook-id"] for g in receiver.got}) == 1  # the same delivery each time
    stamps = [int(g.headers["webhook-timestamp"]) for g in receiver.got]
    assert stamps == sorted(stamps)
    [delivery] = stack.api.get(f"/api/webhooks/{hook['id']}/deliveries", headers=_auth(tenant)).json()["deliveries"]
    assert delivery["status"] == "delivered" and delivery["attempts"] == 3
    assert [a["status"] for a in delivery["attempt_log"]] == [503, 503, 200]
    assert delivery["attempt_log"][1]["error"] == "receiver answered HTTP 503"
    at = [datetime.fromisoformat(x["at"]) for x in delivery["attempt_log"]]
    gaps = [(b - a).total_seconds() for a, b in zip(at, at[1:], strict=False)]
    assert gaps[0] >= 0.2 and gaps[1] >= 0.4, gaps  # base backoff, then doubled
    verify(hook["secret"], receiver.got[-1].headers, receiver.got[-1].body)


def test_an_exhausted_delivery_is_failed_and_manual_redelivery_sends_it_again(
        stack: Stack, tenant: dict[str, str], receiver: Receiver) -> None:
    hook = _create(stack, tenant, receiver.url, ["job.succeeded"])
    receiver.fail_next, receiver.fail_status = 2, 500
    _record(stack, tenant["workspace"], "job.succeeded", job_id="j7")
    dispatcher = _dispatcher(stack, webhook_max_attempts=2)
    log_url = f"/api/webhooks/{hook['id']}/deliveries"

    def failed() -> bool:
        rows = stack.api.get(log_url, params={"status": "failed"}, headers=_auth(tenant)).json()["deliveries"]
        return bool(rows)

    _pump([dispatcher], failed)
    [delivery] = stack.api.get(log_url, headers=_auth(tenant)).json()["deliveries"]
    assert delivery["attempts"] == 2 and delivery["next_attempt_at"] is None and delivery["last_status"] == 500
    time.sleep(0.5)
    dispatcher.tick()
    assert len(receiver.got) == 2  # given up: no third attempt
    r = stack.api.post(f"{log_url}/{delivery['id']}/redeliver", headers=_auth(tenant))
    assert r.status_code == 202 and r.json()["status"] == "pending"
    _pump([dispatcher], lambda: len(receiver.got) == 3)
    assert receiver.got[-1].answered == 200 and receiver.got[-1].headers["webhook-id"] == delivery["id"]
    assert verify(hook["secret"], receiver.got[-1].headers, receiver.got[-1].body)["data"]["job_id"] == "j7"
    assert stack.api.get(log_url, headers=_auth(tenant)).json()["deliveries"][0]["status"] == "delivered"
    missing = stack.api.post(f"{log_url}/msg_nope/redeliver", headers=_auth(tenant))
    assert missing.status_code == 404


def test_real_jobs_and_connection_tests_are_delivered_with_the_job(stack: Stack, tenant: dict[str, str],
                                                                   receiver: Receiver) -> None:
    hook = _create(stack, tenant, receiver.url)
    headers = _auth(tenant)
    creds = {**GOOD_MAILCHIMP, "api_key": "bad-key-0123456789-us21"}
    assert stack.api.post("/api/integrations/emmie/mailchimp/configure", json={"credentials": creds},
                          headers=headers).status_code == 200
    assert stack.api.post("/api/integrations/emmie/mailchimp/connect", headers=headers).json()["status"] == \
        "auth_failed"  # integration.error (its test job's own job.failed is not sent)
    assert stack.api.post("/api/integrations/emmie/mailchimp/configure", json={"credentials": GOOD_MAILCHIMP},
                          headers=headers).status_code == 200
    assert stack.api.post("/api/integrations/emmie/mailchimp/connect", headers=headers).json()["status"] == \
        "connected"  # integration.connected: not subscribable, not sent
    body = {"agent": "emmie", "integration": "mailchimp", "action": "list_campaigns", "params": {"limit": 1}}
    ok = stack.api.post("/api/jobs", json=body, headers=headers).json()["id"]
    bad = stack.api.post("/api/jobs", json={**body, "action": "get_campaign_report",
                                            "params": {"campaign_id": "missing-1"}}, headers=headers).json()["id"]
    _pump([_dispatcher(stack)], lambda: len(receiver.got) >= 3, timeout=60)
    time.sleep(0.5)
    _pump([_dispatcher(stack)], lambda: True)
    payloads = [verify(hook["secret"], g.headers, g.body) for g in receiver.got]
    assert sorted(p["type"] for p in payloads) == ["integration.error", "job.failed", "job.succeeded"]
    by_type = {p["type"]: p["data"] for p in payloads}
    assert by_type["job.succeeded"]["job"]["id"] == ok and by_type["job.succeeded"]["job"]["status"] == "succeeded"
    assert by_type["job.failed"]["job"]["id"] == bad and by_type["job.failed"]["job"]["error"]["type"]
    assert by_type["integration.error"]["integration"] == "mailchimp"
    assert "bad-key-0123456789" not in b"".join(g.body for g in receiver.got).decode()


def test_creating_a_webhook_while_vault_is_down_is_503_and_stores_nothing(stack: Stack, tenant: dict[str, str]) -> None:
    from fastapi.testclient import TestClient

    from producers.api.app import create_app

    settings = stack.settings.model_copy(update={"vault_addr": "http://127.0.0.1:9"})
    with TestClient(create_app(settings, broker=stack.broker)) as api:
        r = api.post("/api/webhooks", json={"url": "https://hooks.example.com/v", "events": ["job.failed"]},
                     headers=_auth(tenant))
    assert r.status_code == 503 and r.json()["error"]["code"] == "vault_unavailable"
    assert stack.api.get("/api/webhooks", headers=_auth(tenant)).json()["webhooks"] == []


def test_the_scheduler_process_dispatches_webhooks(stack: Stack, tenant: dict[str, str], receiver: Receiver) -> None:
    import os
    import subprocess
    import sys

    hook = _create(stack, tenant, receiver.url, ["schedule.paused"])
    env = {**os.environ, "SINTRA_DATABASE_URL": stack.settings.db_url,
           "SINTRA_STATE_DIR": str(stack.settings.state_dir), "SINTRA_VAULT_ADDR": stack.settings.vault_addr,
           "SINTRA_WEBHOOK_ALLOW_HOSTS": '["127.0.0.1"]',
           "SINTRA_LOG_LEVEL": "WARNING"}
    proc = subprocess.Popen([sys.executable, "-m", "schedules", "--interval", "0.2"], env=env)
    try:
        _record(stack, tenant["workspace"], "schedule.paused", schedule_id="s1", reason="test")
        deadline = time.monotonic() + 30
        while not receiver.got:
            assert proc.poll() is None, "python -m schedules exited"
            assert time.monotonic() < deadline, "the scheduler process delivered nothing"
            time.sleep(0.1)
    finally:
        proc.terminate()
        proc.wait(30)
    assert verify(hook["secret"], receiver.got[0].headers, receiver.got[0].body)["data"]["schedule_id"] == "s1"
