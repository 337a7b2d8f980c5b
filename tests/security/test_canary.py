"""Secrets never leave Vault in any form: a canary echoed by providers is found nowhere else.

Each provider is configured with a fresh canary secret; the simulator then echoes it back raw,
URL-encoded, base64'd (alone and inside a Basic header), partially, and inside a successful answer.
Afterwards the canary (and its encodings) is searched in every log line of the run, every row of
every table, every Redis key and value (queued, retried and dead-lettered messages included), every
API response of the scenario and the OpenAPI document: 0 occurrences.
"""

from __future__ import annotations

import base64
import io
import json
import secrets
from typing import Any
from urllib.parse import quote

import httpx
import redis
from sqlalchemy import MetaData, select

from tests.integration.helpers import wait_job
from tests.stack import Stack

#: agent, integration, the secret field, other fields, the test-connection path.
PROVIDERS: list[tuple[str, str, str, dict[str, str], str]] = [
    ("penn", "copy_ai", "api_key", {}, "/"),
    ("seomi", "semrush", "api_key", {}, "/"),
    ("dexter", "mixpanel", "service_account_secret",
     {"service_account_username": "svc.user", "project_id": "12345", "region": "us"}, "/"),
    ("dexter", "amplitude", "secret_key", {"api_key": "amp-api-key-not-canary", "region": "us"}, "/"),
    ("buddy", "pipedrive", "api_token", {}, "/users/me"),
    ("emmie", "mailchimp", "api_key", {"list_id": "leads"}, "/"),
]


def _echoes(canary: str) -> dict[str, str]:
    return {
        "raw": f"invalid key {canary}",
        "url": f"bad request to /x?key={quote(canary, safe='')}&y=1",
        "base64": f"token {base64.b64encode(canary.encode()).decode()} refused",
        "basic": "Authorization: Basic " + base64.b64encode(f"svc.user:{canary}".encode()).decode(),
        "partial": f"key starting {canary[:14]} is unknown",
        "json": json.dumps({"error": {"message": f"key {canary} revoked", "code": canary}}),
    }


def _forms(canary: str) -> list[str]:
    return [canary, quote(canary, safe=""), base64.b64encode(canary.encode()).decode()[:16], canary[:14]]


def _fault(stack: Stack, provider: str, status: int, body: str, path: str) -> None:
    url = stack.simulator.url  # type: ignore[attr-defined]
    httpx.post(f"{url}/_sim/faults", json={"provider": provider, "status": status, "times": 1, "body": body,
                                          "path": path, "content_type": "application/json"}).raise_for_status()


def _tables(stack: Stack) -> str:
    meta = MetaData()
    meta.reflect(bind=stack.engine)  # type: ignore[arg-type]
    out = io.StringIO()
    with stack.engine.connect() as conn:  # type: ignore[attr-defined]
        for table in meta.sorted_tables:
            for row in conn.execute(select(table)):
                out.write(repr(tuple(row)))
    return out.getvalue()


def _redis(stack: Stack) -> str:
    client = redis.Redis.from_url(stack.settings.redis_url)
    out = io.StringIO()
    read: dict[str, Any] = {"string": client.get, "list": lambda k: client.lrange(k, 0, -1),
                            "hash": client.hgetall, "set": client.smembers, "zset": lambda k: client.zrange(k, 0, -1)}
    for key in client.scan_iter(count=1000):
        value: Any = read.get(client.type(key).decode(), lambda k: b"")(key)
        out.write(repr((key, value)))
    return out.getvalue()


def test_canary_echoed_in_every_form_is_found_nowhere(stack: Stack, log_stream: io.StringIO) -> None:
    responses: list[str] = []
    canaries: list[str] = []
    for agent, integration, field, others, path in PROVIDERS:
        canary = f"CANARY{secrets.token_hex(10)}" + ("-us21" if integration == "mailchimp" else "")
        canaries.append(canary)
        r = stack.api.post(f"/api/integrations/{agent}/{integration}/configure", headers=stack.headers(),
                           json={"credentials": {**others, field: canary}})
        assert r.status_code == 200, r.text
        responses.append(r.text)
        for status in (400, 401, 500):
            for body in _echoes(canary).values():
                _fault(stack, integration, status, body, path)
                r = stack.api.post(f"/api/integrations/{agent}/{integration}/connect", headers=stack.headers())
                answer = r.json()
                if r.status_code == 202:
                    answer = wait_job(stack, answer["job_id"])
                responses.append(json.dumps(answer))
    # inside a successful answer: Pipedrive's "who am I" result carries the echoed key
    pipedrive_canary = canaries[4]
    _fault(stack, "pipedrive", 200, json.dumps({"success": True, "data": {
        "id": 1, "name": f"user {pipedrive_canary}", "email": base64.b64encode(pipedrive_canary.encode()).decode(),
        "company_name": quote(pipedrive_canary)}}), "/users/me")
    r = stack.api.post("/api/integrations/buddy/pipedrive/connect", headers=stack.headers())
    assert r.status_code == 200 and r.json()["status"] == "connected", r.text
    responses.append(r.text)
    responses.append(stack.api.get("/api/jobs?limit=200", headers=stack.headers()).text)
    responses.append(stack.api.get("/openapi.json").text)

    places = {"logs": log_stream.getvalue(), "database": _tables(stack), "redis": _redis(stack),
              "api": "\n".join(responses)}
    found = {(where, form[:10]): text.count(form) for where, text in places.items()
             for canary in canaries for form in _forms(canary) if text.count(form)}
    assert found == {}
