"""One-click OAuth connect, for every OAuth pair of the catalog, against the simulator's consent pages.

The whole flow per pair: configure the app's fields only, authorize (scopes of the integration's actions,
signed state, PKCE where the provider has it), Allow on the simulated consent page, the callback, the code
exchange on the agent's worker, tokens in Vault, ``connected``. Then the refusals: the replayed state, the
reused code (refused by the simulator as the provider would), Deny, a forged state, an expired one. A canary
check ends it: client secrets, codes, PKCE verifiers and tokens are found nowhere outside Vault.
"""

from __future__ import annotations

import base64
import io
import json
import re
import secrets
import time
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import hvac
import pytest

from config.catalog import IntegrationSpec, agents
from config.providers.oauth import pkce_challenge
from producers import oauth_state
from tests.integration.helpers import new_key
from tests.security.test_canary import _redis, _tables
from tests.stack import Stack

ON_POSTGRESQL = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
#: Every (agent, integration) whose provider has an authorization-code flow: 12 in the catalog.
PAIRS: list[tuple[str, IntegrationSpec]] = [(a.id, i) for a in agents() for i in a.integrations
                                            if i.definition.oauth is not None]


def _app_fields(spec: IntegrationSpec) -> dict[str, str]:
    """The app's client id and a fresh canary secret, plus the required non-token fields (catalog examples)."""
    values = {f.name: f.example for f in spec.credential_fields
              if not f.secret and (f.required or f.name == "client_id")}
    values["client_secret"] = "csec" + secrets.token_hex(16)
    return values


def _authorize(stack: Stack, key: str, agent: str, spec: IntegrationSpec) -> tuple[dict[str, Any], dict[str, str]]:
    r = stack.api.post(f"/api/integrations/{agent}/{spec.id}/authorize", headers=stack.headers(key))
    assert r.status_code == 200, r.text
    body = r.json()
    query = {k: v[0] for k, v in parse_qs(urlsplit(body["authorization_url"]).query).items()}
    return body, query


def _consent(url: str, decision: str) -> dict[str, str]:
    """Open the consent page, press Allow or Deny; the query of the redirect back to Sintra."""
    page = httpx.get(url)
    assert page.status_code == 200 and 'id="allow"' in page.text and 'id="deny"' in page.text, page.text
    ticket = re.search(r'name="ticket" value="([^"]+)"', page.text)
    assert ticket is not None
    back = httpx.post(url.split("?")[0], data={"ticket": ticket[1], "decision": decision})
    assert back.status_code == 303, back.text
    return {k: v[0] for k, v in parse_qs(urlsplit(back.headers["location"]).query).items()}


def _callback(stack: Stack, query: dict[str, str]) -> Any:
    return stack.api.get("/api/oauth/callback", params=query, headers={"Accept": "application/json"})


def _wait(stack: Stack, key: str, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    while True:
        job = stack.api.get(f"/api/jobs/{job_id}", headers=stack.headers(key)).json()
        if job["status"] in ("succeeded", "failed") or time.monotonic() > deadline:
            return dict(job)
        time.sleep(0.05)


def _reuse_code(stack: Stack, spec: IntegrationSpec, app: dict[str, str], query: dict[str, str],
                redirect_uri: str, verifier: str) -> httpx.Response:
    """Send an already exchanged code to the simulated token endpoint again, the way the worker sends it."""
    defn, flow = spec.definition, spec.definition.oauth
    assert flow is not None
    path = urlsplit(defn.exchange_url).path
    fields = {"grant_type": "authorization_code", flow.code_param: query["code"], "redirect_uri": redirect_uri,
              flow.exchange_client_id_param: app["client_id"], "client_secret": app["client_secret"],
              "code_verifier": verifier}
    url = f"{stack.settings.provider_root}/{defn.id}{path}"
    if flow.exchange_method == "GET":
        return httpx.get(url, params=fields)
    return httpx.post(url, json=fields) if flow.exchange_format == "json" else httpx.post(url, data=fields)


def _vault(vault_server: Any, path: str) -> dict[str, str]:
    client = hvac.Client(url=vault_server.addr, token=vault_server.root_token)
    answer = client.secrets.kv.v2.read_secret_version(path, mount_point="secret", raise_on_deleted_version=True)
    return dict(answer["data"]["data"])


def api_state(stack: Stack) -> Any:
    """The API app's state (its OAuth states: the test recomputes a verifier to look for it everywhere)."""
    app: Any = stack.api.app
    return app.state


def _payload(state: str) -> dict[str, Any]:
    """The (signed, not secret) payload of a state: its id and the workspace it is bound to."""
    body = state.split(".")[0]
    return dict(json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))))


@ON_POSTGRESQL
def test_every_oauth_pair_connects_through_consent_and_refusals_change_nothing(
        stack: Stack, vault_server: Any, log_stream: io.StringIO) -> None:
    assert len(PAIRS) == 12, [f"{a}/{s.id}" for a, s in PAIRS]
    key = new_key(stack)
    secrets_seen: list[str] = []
    answers: list[str] = []
    for agent, spec in PAIRS:
        flow, name = spec.definition.oauth, f"{agent}/{spec.id}"
        assert flow is not None
        app = _app_fields(spec)
        r: Any = stack.api.post(f"/api/integrations/{agent}/{spec.id}/configure", json={"credentials": app},
                           headers=stack.headers(key))
        assert r.status_code == 200, f"{name}: app fields alone are accepted: {r.text}"
        body, query = _authorize(stack, key, agent, spec)
        answers += [r.text, json.dumps(body)]
        assert body["authorization_url"].startswith(f"{stack.settings.provider_root}/{spec.provider}/"), name
        assert query[flow.client_id_param] == app["client_id"] and query["state"] == body["state"], name
        wanted = flow.scopes_for([a.name for a in spec.actions if not a.restricted])
        assert query["scope"].split(flow.scope_separator) == wanted == body["scopes"], name
        assert query.items() >= flow.extra_params.items(), name
        verifier = api_state(stack).oauth_states.verifier(_payload(body["state"])["s"])
        assert (query.get("code_challenge") == pkce_challenge(verifier)) == (flow.pkce == "S256"), name

        back = _consent(body["authorization_url"], "allow")
        assert back["state"] == body["state"] and back["code"], name
        r = _callback(stack, back)
        assert r.status_code == 200 and r.json()["status"] == "exchanging", f"{name}: {r.text}"
        job = _wait(stack, key, r.json()["job_id"])
        assert job["status"] == "succeeded", f"{name}: {job}"
        view = stack.api.get(f"/api/integrations/{agent}/{spec.id}", headers=stack.headers(key)).json()
        assert view["status"] == "connected", f"{name}: {view['status']} {view['message']}"
        stored = _vault(vault_server, f"agents/{agent}/tenants/{_payload(body['state'])['w']}/{spec.id}")
        assert stored["access_token"] and stored["client_secret"] == app["client_secret"], name
        if spec.provider not in ("facebook", "instagram"):  # Meta issues no refresh tokens
            assert stored["refresh_token"], f"{name}: a refresh token is issued (offline access)"
        if spec.provider == "salesforce":
            assert stored["instance_url"] == "https://simorg.my.salesforce.com"
        replay = _callback(stack, back)
        assert replay.status_code == 400 and replay.json()["error"]["code"] == "state_used", name
        reused = _reuse_code(stack, spec, app, back, body["redirect_uri"], verifier)
        assert "already used" in reused.text and (reused.status_code >= 400 or reused.json()["code"] != 0), name
        secrets_seen += [app["client_secret"], back["code"], verifier, stored["access_token"],
                         *([stored["refresh_token"]] if stored.get("refresh_token") else [])]
        answers += [r.text, json.dumps(job), json.dumps(view), replay.text]

    agent, spec = PAIRS[0]
    body, _ = _authorize(stack, key, agent, spec)
    forged = body["state"][:-2] + ("AA" if not body["state"].endswith("AA") else "BB")
    r = _callback(stack, {"state": forged, "code": "x"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "state_invalid"
    denied = _callback(stack, _consent(body["authorization_url"], "deny"))
    assert denied.json()["status"] == "consent_denied"
    view = stack.api.get(f"/api/integrations/{agent}/{spec.id}", headers=stack.headers(key)).json()
    assert view["status"] == "error" and "consent was denied" in view["message"]
    answers += [denied.text, r.text]

    places = {"logs": log_stream.getvalue(), "database": _tables(stack), "redis": _redis(stack),
              "api": "\n".join(answers)}
    found = {(where, value[:12]) for where, text in places.items() for value in secrets_seen if value in text}
    assert found == set(), "secrets outside Vault"


@ON_POSTGRESQL
def test_an_expired_or_unsigned_state_is_refused(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    states = api_state(stack).oauth_states if hasattr(api_state(stack), "oauth_states") else \
        oauth_state.OAuthStates(b"k" * 32, api_state(stack).throttle.redis)
    state, _ = states.issue(workspace="ws-a", agent="soshie", integration="x", redirect_uri="http://t/cb")
    later = time.time() + oauth_state.STATE_TTL + 1
    monkeypatch.setattr(oauth_state, "time", SimpleNamespace(time=lambda: later))
    with pytest.raises(oauth_state.StateRefused) as expired:
        states.claim(state)
    assert expired.value.code == "state_expired"
    with pytest.raises(oauth_state.StateRefused) as unsigned:
        states.claim(state.split(".")[0] + ".")
    assert unsigned.value.code == "state_invalid"


@ON_POSTGRESQL
def test_app_fields_live_in_the_database_not_redis_and_disconnect_clears_them(
        stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    from sqlmodel import Session

    from config import logging as sintra_logging
    from config.redaction import SecretIndex
    from workers.store.integrations import get_state

    agent, spec = next((a, s) for a, s in PAIRS if s.definition.oauth and s.definition.oauth.host_field)
    flow = spec.definition.oauth
    assert flow is not None
    key = new_key(stack)
    fields = {f.name: f.example for f in spec.credential_fields if not f.secret}  # client id and My Domain
    canaries = {f.name: "canary" + secrets.token_hex(16) for f in spec.credential_fields if f.secret}
    # some other tenant's secret shares a run with this app's client id (as the catalog's shape-only
    # examples do): the id is not a secret and must be kept whole, not scrubbed
    monkeypatch.setattr(sintra_logging, "SECRETS", SecretIndex())  # this test's registry, dropped after it
    sintra_logging.register_secret("zz" + fields["client_id"][4:20] + "zz")
    r = stack.api.post(f"/api/integrations/{agent}/{spec.id}/configure", json={"credentials": fields | canaries},
                       headers=stack.headers(key))
    assert r.status_code == 200, r.text
    client = api_state(stack).throttle.redis
    for old in client.scan_iter(match="sintra:oauth:app:*"):  # as after a Redis restart: nothing kept there
        client.delete(old)
    body, query = _authorize(stack, key, agent, spec)
    assert query[flow.client_id_param] == fields["client_id"]
    assert list(client.scan_iter(match="sintra:oauth:app:*")) == []
    workspace = _payload(body["state"])["w"]
    with Session(stack.engine) as s:  # type: ignore[arg-type]
        row = get_state(session=s, workspace=workspace, agent=agent, integration=spec.id)
        assert row is not None and row.app_fields == fields, "exactly the non-secret fields, no secret"

    r = stack.api.post(f"/api/integrations/{agent}/{spec.id}/disconnect", headers=stack.headers(key))
    assert r.status_code == 200, r.text
    with Session(stack.engine) as s:  # type: ignore[arg-type]
        row = get_state(session=s, workspace=workspace, agent=agent, integration=spec.id)
        assert row is not None and row.app_fields is None
    again = stack.api.post(f"/api/integrations/{agent}/{spec.id}/authorize", headers=stack.headers(key))
    assert again.status_code == 409 and again.json()["error"]["code"] == "app_not_configured", again.text
