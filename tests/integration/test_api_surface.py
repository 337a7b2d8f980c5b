"""The API as a documented surface: typed responses, stable operation ids, cursors, 405 Allow, readiness."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from producers.api.app import create_app
from tests.integration.conftest import Stack
from tests.integration.helpers import GOOD_MAILCHIMP, configure, submit


def _operations(stack: Stack) -> list[tuple[str, str, dict]]:
    spec = stack.api.get("/openapi.json").json()
    return [(m, p, op) for p, ops in spec["paths"].items() for m, op in ops.items()]


def test_every_operation_has_a_typed_success_response_and_documented_errors(stack: Stack) -> None:
    ops = _operations(stack)
    assert len(ops) >= 21
    for method, path, op in ops:
        ok = {c: r for c, r in op["responses"].items() if c.startswith("2")}
        assert ok, (method, path)
        for code, response in ok.items():
            content = response.get("content", {})
            typed = content.get("application/json", content.get("text/event-stream", {})).get("schema")
            assert code == "204" or typed, (method, path, code)
        if path.startswith("/api/") and path != "/api/workflows":
            assert "401" in op["responses"], (method, path)
            err = op["responses"]["401"]["content"]["application/json"]["schema"]["$ref"]
            assert err.endswith("/ErrorResponse")


def test_operation_ids_are_stable_tag_and_verb_names(stack: Stack) -> None:
    ids = [op["operationId"] for _, _, op in _operations(stack)]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z]+_[a-z_]+", i) for i in ids), ids
    assert {"jobs_create", "jobs_list", "jobs_read", "integrations_configure", "schedules_pause"} <= set(ids)


def test_a_wrong_method_is_405_with_the_allow_header(stack: Stack) -> None:
    r = stack.api.put("/api/jobs", headers=stack.headers())
    assert r.status_code == 405
    assert set(r.headers["allow"].replace(" ", "").split(",")) == {"GET", "POST"}
    assert r.json()["error"]["code"] == "http_error"


def test_job_list_pages_with_next_cursor_without_gaps_or_repeats(stack: Stack) -> None:
    configure(stack, "emmie", "mailchimp", GOOD_MAILCHIMP)
    made = {submit(stack, "emmie", "mailchimp", "list_campaigns", {"limit": 1}).json()["id"] for _ in range(5)}
    seen: list[str] = []
    cursor = None
    for _ in range(20):
        params = {"limit": 2, "agent": "emmie", **({"cursor": cursor} if cursor else {})}
        page = stack.api.get("/api/jobs", params=params, headers=stack.headers()).json()
        assert page["count"] == len(page["jobs"]) <= 2
        seen += [j["id"] for j in page["jobs"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen))
    assert made <= set(seen)
    created = [j["created_at"] for j in stack.api.get("/api/jobs", params={"limit": 500, "agent": "emmie"},
                                                     headers=stack.headers()).json()["jobs"]]
    assert len(seen) == len(created)


def test_a_bad_cursor_is_422_naming_it(stack: Stack) -> None:
    for path in ("/api/jobs", "/api/schedules"):
        r = stack.api.get(path, params={"cursor": "not-a-cursor"}, headers=stack.headers())
        assert r.status_code == 422, path
        err = r.json()["error"]
        assert err["code"] == "invalid_cursor" and "not-a-cursor" in err["message"]


def test_readyz_checks_redis_database_and_vault(stack: Stack) -> None:
    r = stack.api.get("/readyz")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "ready" and set(body["checks"]) == {"redis", "database", "vault"} and not body["down"]


def test_readyz_is_503_naming_the_service_that_is_down(stack: Stack) -> None:
    settings = stack.settings.model_copy(update={"vault_addr": "http://127.0.0.1:9"})
    with TestClient(create_app(settings, broker=stack.broker)) as api:
        r = api.get("/readyz")
    assert r.status_code == 503
    body = r.json()
    assert body["down"] == ["vault"] and body["checks"]["redis"]["ok"] and body["checks"]["database"]["ok"]
    assert "ConnectError" in body["checks"]["vault"]["detail"]
