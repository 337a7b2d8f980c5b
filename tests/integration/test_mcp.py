"""Sintra's agents as MCP servers (stdio and streamable HTTP) and as function-calling tool exports.

Each transport is driven by the MCP SDK's own client against the real API, worker, Vault and simulator.
"""

from __future__ import annotations

import json
import re
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx2
import mcp.types as mcp_types
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from config.catalog import agents
from producers.client import SintraClient
from producers.mcp.exports import mcp_tool
from producers.mcp.tools import agent_tools
from tests.integration.conftest import Stack
from tests.integration.helpers import GOOD_INSTAGRAM, fault, sim_calls
from tests.stack import serve_http
from workers.store.db import session_scope
from workers.store.keys import create_key

ROOT = Path(__file__).resolve().parents[2]
NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
CAMPAIGN = {"subject_line": "Launch", "from_name": "Acme", "reply_to": "hello@acme.example",
            "html": "<p>New product</p>"}
POST = {"image_url": "https://cdn.example.com/a.jpg", "caption": "New product!", "hashtags": ["a", "b"]}
TRANSPORTS = ["stdio", "http", "http-legacy"]  # legacy: the 2025 initialize handshake, as most clients
# the MCP server reaches the database only through the API, whose store is tested on both databases
# elsewhere: once (PostgreSQL) is enough here, and keeps the file's wall time in budget
ON_POSTGRESQL = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)


class Workspace:
    """A workspace of its own (so a 429 pause or a state change touches no other test), with a key."""

    def __init__(self, stack: Stack) -> None:
        self.stack, self.canary = stack, f"CANARY{uuid.uuid4().hex}"
        with session_scope(stack.engine) as s:  # type: ignore[arg-type]
            self.key = create_key(session=s, workspace=f"mcp-{uuid.uuid4().hex[:6]}")

    def connect(self, agent: str, integration: str, creds: dict[str, str]) -> Workspace:
        """Configure and connect one integration through the API."""
        headers = self.stack.headers(self.key)
        r = self.stack.api.post(f"/api/integrations/{agent}/{integration}/configure", headers=headers,
                                json={"credentials": creds})
        assert r.status_code == 200, r.text
        r = self.stack.api.post(f"/api/integrations/{agent}/{integration}/connect", headers=headers)
        assert r.status_code == 200 and r.json()["status"] == "connected", r.text
        return self

    def mailchimp(self) -> Workspace:
        """Emmie's Mailchimp, with a canary secret as its API key (the simulator takes any key)."""
        return self.connect("emmie", "mailchimp", {"api_key": f"{self.canary}-us21", "list_id": "leads"})


@pytest.fixture(scope="module")
def http_url(stack: Stack) -> Iterator[str]:
    """The stack's API (with ``/mcp/{agent}``) over real HTTP for the whole module."""
    with serve_http(stack.api.app) as url:
        yield url


@asynccontextmanager
async def mcp_client(transport: str, ws: Workspace, http_url: str, agent: str = "emmie",
                     **options: str) -> AsyncIterator[Client]:
    """The SDK's client on ``agent``'s server: a ``sintra mcp`` subprocess, or ``/mcp/{agent}`` over HTTP."""
    if transport == "stdio":
        args = ["-m", "producers.cli", "mcp", "--agent", agent, *(f"--{k.replace('_', '-')}={v}"
                                                                 for k, v in options.items())]
        params = StdioServerParameters(command=sys.executable, args=args, cwd=str(ROOT),
                                       env={"SINTRA_API_URL": http_url, "SINTRA_API_KEY": ws.key})
        async with Client(params) as client:
            yield client
        return
    query = "&".join(f"{'wait' if k == 'wait_seconds' else k}={v}" for k, v in options.items())
    async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {ws.key}"},
                                  timeout=httpx2.Timeout(30, read=60)) as http:
        url = f"{http_url}/mcp/{agent}" + (f"?{query}" if query else "")
        mode = "legacy" if transport == "http-legacy" else "auto"
        async with Client(streamable_http_client(url, http_client=http), mode=mode) as client:
            yield client


def answer(result: mcp_types.CallToolResult) -> dict[str, Any]:
    """The JSON a tool answered (the text block and the structured content say the same)."""
    block = result.content[0]
    assert isinstance(block, mcp_types.TextContent)
    data: dict[str, Any] = json.loads(block.text)
    assert data == result.structured_content
    return data


@ON_POSTGRESQL
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_an_agent_lists_its_connected_tools_runs_them_once_names_bad_fields_and_classifies_a_429(
        stack: Stack, http_url: str, transport: str) -> None:
    ws = Workspace(stack).mailchimp()
    seen: list[str] = []

    async def scenario() -> None:
        async with mcp_client(transport, ws, http_url) as client:
            assert "sendgrid: not connected" in (client.instructions or "")
            listed = (await client.list_tools()).tools
            names = {t.name for t in listed}
            assert {"search_tools", "get_job", "wait_job", "mailchimp_list_campaigns"} <= names
            assert all(n.startswith("mailchimp_") for n in names - {"search_tools", "get_job", "wait_job"})
            size = len(json.dumps([t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in listed]))
            print(f"\n{transport}: emmie with Mailchimp lists {len(listed)} tools, {size} bytes of JSON")
            by_name = {t.name: t for t in listed}
            assert by_name["mailchimp_list_campaigns"].annotations.read_only_hint is True  # type: ignore[union-attr]
            create = by_name["mailchimp_create_campaign"]
            assert create.annotations.read_only_hint is False and create.annotations.idempotent_hint  # type: ignore[union-attr]
            assert "subject_line" in create.input_schema["required"] and create.input_schema["examples"]

            read = await client.call_tool("mailchimp_list_campaigns", {"limit": 5})
            seen.append(str(read))
            assert not read.is_error and answer(read)["status"] == "succeeded"
            assert "campaigns" in json.dumps(answer(read)["result"])

            first = await client.call_tool("mailchimp_create_campaign", CAMPAIGN)
            again = await client.call_tool("mailchimp_create_campaign", dict(reversed(CAMPAIGN.items())))
            seen.extend([str(first), str(again)])
            assert answer(first)["status"] == "succeeded" and not first.is_error
            assert answer(again)["job_id"] == answer(first)["job_id"] and answer(again)["deduplicated"]
            forced = await client.call_tool("mailchimp_create_campaign", {**CAMPAIGN, "dedup_key": "second"})
            assert answer(forced)["job_id"] != answer(first)["job_id"]

            bad = await client.call_tool("mailchimp_create_campaign", {**CAMPAIGN, "reply_to": "nobody"})
            seen.append(str(bad))
            assert bad.is_error and "reply_to" in answer(bad)["error"]["message"]
            assert answer(bad)["error"]["fields"][0]["field"] == "reply_to"
            unknown = await client.call_tool("sendgrid_send_email", {})
            assert unknown.is_error and "not connected" in answer(unknown)["error"]["message"]

            found = answer(await client.call_tool("search_tools", {"query": "schedule campaign"}))
            assert found["tools"][0]["name"] == "mailchimp_schedule_campaign"

            # last: a 429 pauses this workspace's Mailchimp account for the provider's delay
            fault(stack, "mailchimp", 429, path="/campaigns", retry_after=30)
            start = time.monotonic()
            limited = await client.call_tool("mailchimp_list_campaigns", {"limit": 7})
            seen.append(str(limited))
            assert time.monotonic() - start < 10, "a retry 30 s away is said at once, not waited for"
            body = answer(limited)
            assert limited.is_error and body["status"] == "retrying" and "rate limited" in body["error"]["message"]
            assert body["error"]["type"] == "rate_limited" and body["error"]["retry_after_seconds"] == 30

    before = _campaigns_created(stack)
    anyio.run(scenario)
    assert _campaigns_created(stack) - before == 2, "the repeated call created nothing; a new dedup_key did"
    jobs = stack.api.get("/api/jobs", params={"agent": "emmie"}, headers=stack.headers(ws.key)).json()["jobs"]
    assert sum(j["action"] == "create_campaign" for j in jobs) == 2
    assert all(ws.canary not in text for text in seen)


def _campaigns_created(stack: Stack) -> int:
    return sum(c["method"] == "POST" and c["path"].endswith("/campaigns") for c in sim_calls(stack, "mailchimp"))


@ON_POSTGRESQL
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_chosen_subset_is_listed_and_a_long_job_is_followed_with_wait_job_and_progress(
        stack: Stack, http_url: str, transport: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from workers.providers.instagram import InstagramClient

    monkeypatch.setattr(InstagramClient, "POLL_INTERVAL", 0.6)  # publishing takes a few polls
    ws = Workspace(stack).connect("soshie", "instagram", GOOD_INSTAGRAM)
    steps: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        steps.append((progress, total, message))

    async def scenario() -> None:
        async with mcp_client(transport, ws, http_url, agent="soshie", wait_seconds="0.2",
                              tools="instagram_publish_photo") as client:
            names = [t.name for t in (await client.list_tools()).tools]
            assert names == ["instagram_publish_photo", "search_tools", "get_job", "wait_job"]
            started = answer(await client.call_tool("instagram_publish_photo", POST))
            assert started["status"] in ("queued", "running") and "wait_job" in started["message"]
            done = await client.call_tool("wait_job", {"job_id": started["job_id"], "timeout_seconds": 30},
                                         progress_callback=on_progress)
            assert not done.is_error and answer(done)["status"] == "succeeded", answer(done)
            assert answer(await client.call_tool("get_job", {"job_id": started["job_id"]}))["result"]

    anyio.run(scenario)
    assert steps and all(total == 100.0 for _, total, _ in steps) and any(m for _, _, m in steps), steps


@ON_POSTGRESQL
def test_the_mcp_endpoint_needs_a_key_a_known_agent_and_known_tools(stack: Stack) -> None:
    ws = Workspace(stack)
    init = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    r = stack.api.post("/mcp/emmie", json=init)
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert stack.api.post("/mcp/emmie", json=init, headers=stack.headers("sk_wrong")).status_code == 401
    r = stack.api.post("/mcp/nobody", json=init, headers=stack.headers(ws.key))
    assert r.status_code == 404 and "nobody" in r.json()["error"]["message"]
    r = stack.api.post("/mcp/emmie?tools=nothing", json=init, headers=stack.headers(ws.key))
    assert r.status_code == 422 and "nothing" in r.json()["error"]["message"]


@ON_POSTGRESQL
def test_tool_exports_match_each_frameworks_published_shape(stack: Stack, http_url: str) -> None:
    ws = Workspace(stack).mailchimp()
    with SintraClient(http_url, ws.key) as sintra:
        openai = sintra.agent_tools("emmie", format="openai").model_dump()["tools"]
        anthropic = sintra.agent_tools("emmie", format="anthropic").model_dump()["tools"]
        mcp = sintra.agent_tools("emmie", format="mcp").model_dump(exclude_none=True)["tools"]
    assert len(openai) == len(anthropic) == len(mcp) == 18  # Mailchimp's actions: nothing else is connected
    for tool in openai:
        assert set(tool) == {"type", "function"} and tool["type"] == "function"
        assert set(tool["function"]) == {"name", "description", "parameters"}
        assert NAME.match(tool["function"]["name"]) and tool["function"]["parameters"]["type"] == "object"
    for tool in anthropic:
        assert set(tool) == {"name", "description", "input_schema"} and NAME.match(tool["name"])
        assert tool["input_schema"]["type"] == "object"
    for tool in mcp:
        assert mcp_types.Tool.model_validate(tool).input_schema["type"] == "object"
    assert [t["function"]["name"] for t in openai] == [t["name"] for t in anthropic] == [t["name"] for t in mcp]
    r = stack.api.get("/api/agents/emmie/tools", params={"format": "gemini"}, headers=stack.headers(ws.key))
    assert r.status_code == 422 and r.json()["error"]["fields"][0]["field"] == "query.format"
    r = stack.api.get("/api/agents/emmie/tools", params={"tools": "mailchimp_get_campaign"},
                      headers=stack.headers(ws.key))
    assert [t["name"] for t in r.json()["tools"]] == ["mailchimp_get_campaign"]
    assert stack.api.get("/api/agents/emmie/tools").status_code == 401
    exported = stack.api.get("/api/agents/emmie/tools", headers=stack.headers(ws.key)).json()["tools"]
    assert len(json.dumps(exported)) < 20_000, "one integration's tools fit in about 5k tokens"


def test_every_agents_tool_list_stays_within_a_few_thousand_tokens_per_integration() -> None:
    print("\nMCP tools/list JSON per agent (bytes; ~4 per token): largest single integration / all connected")
    for agent in agents():
        each = [len(json.dumps([mcp_tool(t).model_dump() for t in agent_tools(agent, {i.id})]))
                for i in agent.integrations]
        full = agent_tools(agent, {i.id for i in agent.integrations})
        every = len(json.dumps([mcp_tool(t).model_dump() for t in full]))
        print(f"  {agent.id:<7} {max(each):>6} / {every:>6} ({len(full)} tools)")
        assert max(each) < 20_000 and every < 48_000, agent.id
