"""Pure pieces of the console: percentiles, example params, the signed session cookie."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import fakeredis
import pytest
from starlette.requests import Request
from starlette.responses import Response

from config.catalog import agents
from config.settings import Settings
from producers.console.examples import example_params
from producers.console.session import COOKIE, CsrfError, Sessions, load_secret
from workers.store.models import ApiKey
from workers.store.ops import percentiles


@pytest.mark.parametrize(("values", "expected"), [
    ([], {"p50": None, "p95": None, "p99": None}),
    ([3.0], {"p50": 3.0, "p95": 3.0, "p99": 3.0}),
    ([float(i) for i in range(1, 101)], {"p50": 50.0, "p95": 95.0, "p99": 99.0}),
    ([5.0, 1.0, 4.0, 2.0, 3.0], {"p50": 3.0, "p95": 5.0, "p99": 5.0}),
])
def test_percentiles_are_nearest_rank(values: list[float], expected: dict[str, float | None]) -> None:
    assert percentiles(values) == expected


def test_every_actions_example_has_its_required_parameters_and_no_unknown_one() -> None:
    for a in agents():
        for spec in a.integrations:
            for act in spec.actions:
                schema = act.schema_json()
                example = example_params(schema)
                required, known = set(schema.get("required", [])), set(schema.get("properties", {}))
                assert required <= set(example) <= known, (spec.id, act.name)


def test_examples_of_simple_actions_validate_as_they_are() -> None:
    from config.catalog import integration

    for agent_id, integration_id, action in (("emmie", "mailchimp", "create_email_sequence"),
                                             ("emmie", "mailchimp", "create_campaign"),
                                             ("seomi", "google_search_console", "submit_sitemap")):
        act = integration(agent_id, integration_id).action(action)
        assert act is not None
        act.params.model_validate(example_params(act.schema_json()))


def _request(cookie: str | None = None) -> Request:
    headers = [(b"cookie", f"{COOKIE}={cookie}".encode())] if cookie else []
    return Request({"type": "http", "method": "GET", "path": "/", "headers": headers, "query_string": b""})


def _issue(manager: Sessions) -> str:
    response = Response()
    manager.issue(response, ApiKey(id=7, workspace_id="acme", prefix="sk_abc", key_hash="x"))
    header = response.headers["set-cookie"]
    assert "HttpOnly" in header and "SameSite=lax" in header
    return header.split(";", 1)[0].split("=", 1)[1]


@pytest.fixture
def manager(tmp_path: Path) -> Sessions:
    return Sessions(Settings(state_dir=tmp_path), fakeredis.FakeRedis())


def test_a_signed_cookie_verifies_and_a_tampered_one_does_not(manager: Sessions) -> None:
    cookie = _issue(manager)
    data = manager.payload(_request(cookie))
    assert data is not None and data["kid"] == 7 and data["ws"] == "acme"
    body, sig = cookie.split(".")
    import base64
    import json

    forged = base64.urlsafe_b64encode(json.dumps({**data, "ws": "victim"}).encode()).rstrip(b"=").decode()
    assert manager.payload(_request(f"{forged}.{sig}")) is None
    assert manager.payload(_request(body + ".AAAA")) is None
    assert manager.payload(_request("garbage")) is None


def test_an_expired_or_signed_out_session_is_refused(manager: Sessions, monkeypatch: Any) -> None:
    cookie = _issue(manager)
    monkeypatch.setattr(time, "time", lambda: 10**10)
    assert manager.payload(_request(cookie)) is None
    monkeypatch.undo()
    request = _request(cookie)
    manager.end(request, Response())
    assert manager.payload(request) is None


def test_the_csrf_token_belongs_to_one_session(manager: Sessions) -> None:
    first, second = _request(_issue(manager)), _request(_issue(manager))
    manager.check_csrf(first, manager.csrf_token(first))
    with pytest.raises(CsrfError):
        manager.check_csrf(first, manager.csrf_token(second))
    with pytest.raises(CsrfError):
        manager.check_csrf(_request(), "")


def test_the_console_secret_is_configured_or_kept_in_the_state_dir(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least 32"):
        load_secret(Settings(state_dir=tmp_path, console_secret="short"))
    assert load_secret(Settings(state_dir=tmp_path, console_secret="x" * 40)) == b"x" * 40
    kept = load_secret(Settings(env="prod", state_dir=tmp_path, log_format="json"))
    assert kept == load_secret(Settings(state_dir=tmp_path))  # every process sharing the dir signs alike
    assert (tmp_path / "console_secret").stat().st_mode & 0o077 == 0
    (tmp_path / "console_secret").write_text("tiny")
    with pytest.raises(ValueError, match="shorter than 32"):
        load_secret(Settings(state_dir=tmp_path))


def test_an_unreachable_session_store_refuses_the_session_and_says_why(tmp_path: Path) -> None:
    import redis

    from producers.console.session import SessionStoreDown

    manager = Sessions(Settings(state_dir=tmp_path), redis.Redis(host="127.0.0.1", port=1, socket_timeout=0.5))
    cookie = _issue(manager)
    with pytest.raises(SessionStoreDown, match="Redis"):
        manager.payload(_request(cookie))


@pytest.mark.parametrize(("target", "expected"), [
    ("/ops/jobs?status=failed", "/ops/jobs?status=failed"), (None, "/agents"), ("", "/agents"),
    ("//evil.example/x", "/agents"), ("https://evil.example/", "/agents"), ("/\\evil.example", "/agents"),
])
def test_after_sign_in_only_a_path_on_this_site_is_followed(target: str | None, expected: str) -> None:
    from producers.console.pages_session import _safe_next

    assert _safe_next(target) == expected
