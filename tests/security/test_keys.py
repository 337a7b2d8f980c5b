"""API keys: every /api route needs one, OpenAPI declares the scheme, keys can be listed, revoked, rotated."""

from __future__ import annotations

import re
import uuid

import pytest

from producers.cli import main as sintra
from tests.stack import Stack
from workers.store.db import session_scope
from workers.store.keys import create_key


def _new_key(stack: Stack) -> tuple[str, str]:
    workspace = f"ws-{uuid.uuid4().hex[:6]}"
    with session_scope(stack.engine) as s:
        return workspace, create_key(session=s, workspace=workspace)


def test_every_api_operation_refuses_a_request_without_a_key(stack: Stack) -> None:
    spec = stack.api.get("/openapi.json").json()
    served = []
    for path, operations in spec["paths"].items():
        if not path.startswith("/api/"):
            continue  # /healthz and /readyz answer load balancers without a key
        concrete = re.sub(r"\{[^}]+\}", "x", path)
        for method in operations:
            r = stack.api.request(method.upper(), concrete, json={})
            if r.status_code != 401:
                served.append((method, path, r.status_code))
    assert served == []


def test_openapi_declares_the_bearer_scheme_on_every_operation(stack: Stack) -> None:
    spec = stack.api.get("/openapi.json").json()
    schemes = spec["components"]["securitySchemes"]
    assert any(s == {"type": "http", "scheme": "bearer", **({"description": s["description"]}
                                                          if "description" in s else {})} for s in schemes.values())
    missing = [(m, p) for p, ops in spec["paths"].items() for m, op in ops.items()
               if p.startswith("/api/") and not op.get("security")]
    assert missing == []


def test_keys_are_listed_without_their_value_and_revoked_at_once(stack: Stack) -> None:
    _, key = _new_key(stack)
    listed = stack.api.get("/api/keys", headers=stack.headers(key)).json()["keys"]
    assert [k["prefix"] for k in listed] == [key[:10]] and key not in str(listed)
    r = stack.api.post(f"/api/keys/{key[:10]}/revoke", headers=stack.headers(key))
    assert r.status_code == 200 and r.json()["active"] is False
    assert stack.api.get("/api/jobs", headers=stack.headers(key)).status_code == 401


def test_rotating_a_key_revokes_it_and_answers_a_working_replacement(stack: Stack) -> None:
    _, key = _new_key(stack)
    body = stack.api.post(f"/api/keys/{key[:10]}/rotate", headers=stack.headers(key)).json()
    assert stack.api.get("/api/jobs", headers=stack.headers(key)).status_code == 401
    assert stack.api.get("/api/jobs", headers=stack.headers(body["key"])).status_code == 200


def test_a_workspace_cannot_see_or_revoke_another_workspaces_key(stack: Stack) -> None:
    _, mine = _new_key(stack)
    _, theirs = _new_key(stack)
    r = stack.api.post(f"/api/keys/{theirs[:10]}/revoke", headers=stack.headers(mine))
    assert r.status_code == 404
    assert theirs[:10] not in stack.api.get("/api/keys", headers=stack.headers(mine)).text
    assert stack.api.get("/api/jobs", headers=stack.headers(theirs)).status_code == 200


def test_cli_lists_revokes_and_rotates_keys(stack: Stack, capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SINTRA_DATABASE_URL", stack.settings.db_url)
    from config.settings import get_settings

    get_settings.cache_clear()
    try:
        workspace, key = _new_key(stack)
        assert sintra(["keys", "list", "--workspace", workspace]) == 0
        out = capsys.readouterr().out
        assert key[:10] in out and key not in out and "active" in out
        assert sintra(["keys", "rotate", key[:10]]) == 0
        new = capsys.readouterr().out.strip().splitlines()[-1]
        assert stack.api.get("/api/jobs", headers=stack.headers(key)).status_code == 401
        assert stack.api.get("/api/jobs", headers=stack.headers(new)).status_code == 200
        assert sintra(["keys", "revoke", new[:10]]) == 0
        assert stack.api.get("/api/jobs", headers=stack.headers(new)).status_code == 401
        assert sintra(["keys", "revoke", "sk_nothing"]) == 2
    finally:
        get_settings.cache_clear()


def test_an_operator_key_manages_every_workspaces_keys(stack: Stack, capsys: pytest.CaptureFixture[str],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SINTRA_DATABASE_URL", stack.settings.db_url)
    from config.settings import get_settings

    get_settings.cache_clear()
    try:
        assert sintra(["keys", "create", "--workspace", "ops", "--operator"]) == 0
        operator = capsys.readouterr().out.strip().splitlines()[-1]
    finally:
        get_settings.cache_clear()
    _, tenant = _new_key(stack)
    listed = stack.api.get("/api/keys", headers=stack.headers(operator)).json()["keys"]
    assert {k["prefix"] for k in listed} >= {tenant[:10], operator[:10]}
    assert next(k for k in listed if k["prefix"] == operator[:10])["scope"] == "operator"
    assert stack.api.post(f"/api/keys/{tenant[:10]}/revoke", headers=stack.headers(operator)).status_code == 200
    assert stack.api.get("/api/jobs", headers=stack.headers(tenant)).status_code == 401
