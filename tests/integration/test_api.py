"""The HTTP API: auth, catalog, integration lifecycle and bad input, on the real stack."""

from __future__ import annotations

import hvac
import pytest

from config.catalog import agents
from tests.integration.conftest import Stack
from tests.integration.helpers import GOOD_MAILCHIMP, configure, submit


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer sk_wrong"}, {"Authorization": "Basic abc"}])
def test_api_routes_need_a_valid_key(stack: Stack, headers: dict[str, str]) -> None:
    for method, path in (("GET", "/api/integrations/"), ("GET", "/api/jobs"), ("POST", "/api/jobs"),
                         ("POST", "/api/integrations/emmie/mailchimp/configure")):
        r = stack.api.request(method, path, headers=headers, json={})
        assert r.status_code == 401, (method, path)
        assert r.json()["error"]["code"] == "unauthorized"


def test_catalog_lists_all_agents_and_26_pairs_with_actions_and_state(stack: Stack) -> None:
    body = stack.api.get("/api/integrations/", headers=stack.headers()).json()
    assert [a["id"] for a in body["agents"]] == [a.id for a in agents()]
    pairs = [(a["id"], i["id"]) for a in body["agents"] for i in a["integrations"]]
    assert len(pairs) == 26 and len(set(pairs)) == 26
    for a in body["agents"]:
        for i in a["integrations"]:
            assert i["status"] in ("not_configured", "configured", "connected", "error", "disconnected")
            assert i["availability"] in ("available", "restricted")
            assert i["actions"], i["id"]
            assert all("properties" in act["parameters"] or act["parameters"].get("type") == "object"
                       for act in i["actions"])
            assert any(f["secret"] for f in i["credential_fields"])
    one = stack.api.get("/api/integrations/emmie/mailchimp", headers=stack.headers()).json()
    assert one["implemented"] is True and one["test_connection"]["path"] == "/ping"
    agent = stack.api.get("/api/integrations/seomi", headers=stack.headers()).json()
    assert {i["id"] for i in agent["integrations"]} >= {"semrush", "ahrefs", "google_analytics"}


@pytest.mark.parametrize("path", ["/api/integrations/nobody", "/api/integrations/emmie/nothing",
                                  "/api/integrations/nobody/mailchimp/configure"])
def test_unknown_agent_or_integration_is_404(stack: Stack, path: str) -> None:
    method = "POST" if path.endswith("configure") else "GET"
    r = stack.api.request(method, path, headers=stack.headers(), json={"credentials": {"a": "b"}})
    assert r.status_code == 404
    assert "unknown agent" in r.json()["error"]["message"] or "has no integration" in r.json()["error"]["message"]


def test_configure_rejects_missing_and_unknown_fields_and_changes_nothing(stack: Stack) -> None:
    r = stack.api.post("/api/integrations/penn/jasper/configure", headers=stack.headers(),
                       json={"credentials": {"bogus": "x"}})
    assert r.status_code == 422
    err = r.json()["error"]
    assert err["unknown"] == ["bogus"] and err["missing"], err
    assert "bogus" in err["message"] and "missing" in err["message"]
    state = stack.api.get("/api/integrations/penn/jasper", headers=stack.headers()).json()
    assert state["status"] == "not_configured"


def test_configure_stores_values_in_vault_only_and_never_echoes_them(stack: Stack, vault_server: object) -> None:
    creds = {"api_key": "configure-secret-value-us21", "list_id": "l1"}
    r = stack.api.post("/api/integrations/emmie/mailchimp/configure", headers=stack.headers(),
                       json={"credentials": creds})
    assert r.status_code == 200
    assert "configure-secret-value-us21" not in r.text
    body = r.json()
    assert body["status"] == "configured" and body["fields_set"] == ["api_key", "list_id"]
    admin = hvac.Client(url=vault_server.addr, token=vault_server.root_token)  # type: ignore[attr-defined]
    stored = admin.secrets.kv.v2.read_secret_version(
        path=f"agents/emmie/tenants/{stack.workspace}/mailchimp", raise_on_deleted_version=True)
    assert stored["data"]["data"] == creds


def test_connect_before_configure_is_409(stack: Stack) -> None:
    r = stack.api.post("/api/integrations/soshie/instagram/connect", headers=stack.headers())
    if r.status_code == 200:  # configured by an earlier test in this workspace: use another pair
        r = stack.api.post("/api/integrations/cassie/zendesk/connect", headers=stack.headers())
    assert r.status_code == 409
    assert "configure" in r.json()["error"]["message"]


def test_credentials_configured_after_a_disconnect_are_used_not_the_deleted_ones(stack: Stack) -> None:
    """A disconnect deletes the secret with its versions, so the next configures are versions 1, 2... again:
    a worker that cached the deleted credentials under those versions must not use them."""
    for _ in range(3):  # versions 1..3 of good credentials, each tested (so cached) by the worker
        assert configure(stack, "emmie", "mailchimp", GOOD_MAILCHIMP)["status"] == "connected"
    r = stack.api.post("/api/integrations/emmie/mailchimp/disconnect", headers=stack.headers())
    assert r.status_code == 200, r.text
    for _ in range(2):
        configure(stack, "emmie", "mailchimp", {"api_key": "bad-key-us21", "list_id": "leads"}, connect=False)
        r = stack.api.post("/api/integrations/emmie/mailchimp/connect", headers=stack.headers())
        assert r.json()["status"] == "auth_failed", r.json()
    assert configure(stack, "emmie", "mailchimp", GOOD_MAILCHIMP)["status"] == "connected"


def test_connect_reports_connected_and_auth_failed_with_the_providers_message(stack: Stack) -> None:
    ok = configure(stack, "emmie", "mailchimp", GOOD_MAILCHIMP)
    assert ok["status"] == "connected", ok
    assert stack.api.get("/api/integrations/emmie/mailchimp", headers=stack.headers()).json()["status"] == "connected"
    configure(stack, "emmie", "mailchimp", {"api_key": "bad-key-us21", "list_id": "leads"}, connect=False)
    r = stack.api.post("/api/integrations/emmie/mailchimp/connect", headers=stack.headers())
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "auth_failed"
    assert "API Key Invalid" in body["message"] or "invalid" in body["message"].lower()
    state = stack.api.get("/api/integrations/emmie/mailchimp", headers=stack.headers()).json()
    assert state["status"] == "error"
    configure(stack, "emmie", "mailchimp", GOOD_MAILCHIMP)


def test_job_bad_input_is_rejected_with_a_clear_error_and_nothing_enqueued(stack: Stack) -> None:
    configure(stack, "emmie", "mailchimp", GOOD_MAILCHIMP)
    before = len(stack.api.get("/api/jobs?limit=500", headers=stack.headers()).json()["jobs"])
    r = submit(stack, "nobody", "mailchimp", "ping", {})
    assert r.status_code == 404
    r = submit(stack, "emmie", "nothing", "ping", {})
    assert r.status_code == 404
    r = submit(stack, "emmie", "mailchimp", "launch_rocket", {})
    assert r.status_code == 422 and "create_email_sequence" in r.json()["error"]["valid_actions"]
    r = submit(stack, "emmie", "mailchimp", "get_campaign", {"campaign_id": "x", "surprise": 1})
    assert r.status_code == 422 and "surprise" in r.json()["error"]["message"]
    r = submit(stack, "emmie", "mailchimp", "get_campaign", {})
    assert r.status_code == 422 and "campaign_id" in r.json()["error"]["message"]
    r = stack.api.post("/api/jobs", content=b'{"agent": "emmie", ', headers={**stack.headers(),
                                                                          "content-type": "application/json"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "malformed_json"
    after = len(stack.api.get("/api/jobs?limit=500", headers=stack.headers()).json()["jobs"])
    assert after == before


def test_job_for_unconfigured_integration_is_409(stack: Stack) -> None:
    r = submit(stack, "soshie", "x", "publish_post", {"text": "hi"})
    assert r.status_code in (409, 501)


def test_sintra_keys_create_prints_the_key_alone_on_the_last_line(stack: Stack, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import os
    import subprocess
    import sys

    env = {**os.environ, "SINTRA_DATABASE_URL": stack.settings.db_url}
    out = subprocess.run([sys.executable, "-m", "producers.cli", "keys", "create", "--workspace", "cli-test"],
                         env=env, capture_output=True, text=True, check=True).stdout
    key = out.strip().splitlines()[-1]
    assert key.startswith("sk_") and " " not in key
    r = stack.api.get("/api/jobs", headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 200 and r.json()["jobs"] == []  # a new workspace sees none of the others' jobs


def test_actions_of_a_provider_not_built_yet_answer_501(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    import producers.api.routes.jobs as jobs_route
    from config.catalog import integration

    def unbuilt(agent: str, integration_id: str):  # type: ignore[no-untyped-def]
        return integration(agent, integration_id).model_copy(update={"implemented": False})

    monkeypatch.setattr(jobs_route, "integration", unbuilt)
    r = submit(stack, "cassie", "zendesk", "search_tickets", {"query": "status:open"})
    assert r.status_code == 501 and "no client" in r.json()["error"]["message"]


def test_connect_that_does_not_finish_in_time_answers_202_with_the_job_to_poll(stack: Stack) -> None:
    from tests.integration.helpers import wait_job

    configure(stack, "emmie", "mailchimp", GOOD_MAILCHIMP, connect=False)
    settings = stack.api.app.state.settings  # type: ignore[attr-defined]
    saved = settings.connect_wait_seconds
    settings.connect_wait_seconds = 0.0
    stack.worker.pause()  # type: ignore[attr-defined]
    try:
        r = stack.api.post("/api/integrations/emmie/mailchimp/connect", headers=stack.headers())
    finally:
        settings.connect_wait_seconds = saved
        stack.worker.resume()  # type: ignore[attr-defined]
    assert r.status_code == 202 and r.json()["poll"] == f"/api/jobs/{r.json()['job_id']}"
    assert wait_job(stack, r.json()["job_id"])["status"] == "succeeded"
    assert stack.api.get("/api/integrations/emmie/mailchimp", headers=stack.headers()).json()["status"] == "connected"
