"""An agent's MCP server (the SDK's low-level ``Server``): its tools, the job tools, and stdio serving.

Why the server works against Sintra's own HTTP API (:class:`~producers.client.AsyncSintraClient`)
rather than the store: a tool call is then exactly a ``POST /api/jobs`` by the caller's key, with the
same validation (422 naming the field), idempotency, throttling, audit and outbox as any other client,
and the server never holds more authority than that key. Over stdio the client talks to a remote API;
mounted on the API (``/mcp/{agent}``, :mod:`producers.mcp.http`) it calls the app in-process through
``httpx.ASGITransport``. Waiting polls ``GET /api/jobs/{id}`` with backoff instead of following the SSE
stream, because ``ASGITransport`` hands a streamed body over only once it is complete.
"""

from __future__ import annotations

import json
from typing import Any

import mcp.types as types
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server

from config.catalog import AgentSpec
from producers.mcp.calls import Answer, ToolSession
from producers.mcp.tools import left_out, search

#: Longest a ``wait_job`` call may wait, whatever it asks for (clients time requests out around a minute).
MAX_WAIT_SECONDS = 60.0
_READ = types.ToolAnnotations(read_only_hint=True, open_world_hint=False)
JOB_TOOLS = [
    types.Tool(name="search_tools", description="Find this agent's tools by keywords (e.g. 'schedule campaign'); "
               "answers names, descriptions and input schemas, including tools not listed here.",
               input_schema={"type": "object", "properties": {"query": {"type": "string", "minLength": 1}},
                             "required": ["query"]}, annotations=_READ),
    types.Tool(name="get_job", description="Where a Sintra job stands now: status, progress, result or error.",
               input_schema={"type": "object", "properties": {"job_id": {"type": "string", "minLength": 1}},
                             "required": ["job_id"]}, annotations=_READ),
    types.Tool(name="wait_job", description="Wait for a Sintra job a tool call answered with (still running) and "
               "answer its result or error.",
               input_schema={"type": "object", "properties": {
                   "job_id": {"type": "string", "minLength": 1},
                   "timeout_seconds": {"type": "number", "minimum": 0, "maximum": MAX_WAIT_SECONDS}},
                   "required": ["job_id"]}, annotations=_READ),
]


def instructions(agent: AgentSpec, connected: set[str]) -> str:
    """What the model is told about this server: who the agent is, how calls behave, what is left out and why."""
    missing = left_out(agent, connected)
    lines = [f"Sintra's {agent.name} ({agent.role}). Each tool runs a job against a connected integration and "
             "answers its result; a job still running after the wait answers its job_id: call wait_job. A tool that "
             "changes data does it once per identical call (repeat with a new dedup_key to really do it again).",
             *(["Left out:", *(f"- {line}" for line in missing)] if missing else [])]
    return "\n".join(lines)


def _result(answer: Answer) -> types.CallToolResult:
    data, is_error = answer
    return types.CallToolResult(content=[types.TextContent(text=json.dumps(data, default=str))],
                                structured_content=json.loads(json.dumps(data, default=str)), is_error=is_error)


def _arg(arguments: dict[str, Any], name: str) -> str | None:
    value = arguments.get(name)
    return value if isinstance(value, str) and value else None


def build_server(session: ToolSession, connected: set[str]) -> Server[Any]:
    """The MCP server of ``session``'s agent (``connected``: what the instructions describe)."""

    async def list_tools(_ctx: Any, _params: Any) -> types.ListToolsResult:
        tools = [types.Tool.model_validate(t.model_dump(exclude_none=True)) for t in await session.listed()]
        return types.ListToolsResult(tools=[*tools, *JOB_TOOLS])

    async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        arguments = dict(params.arguments or {})

        async def progress(value: float, total: float | None, message: str | None) -> None:
            await ctx.session.report_progress(value, total, message)

        if params.name == "search_tools":
            found = search(await session.tools(), _arg(arguments, "query") or "")
            return _result(({"tools": [t.model_dump(exclude_none=True) for t in found]}, False))
        if params.name in ("get_job", "wait_job"):
            job_id = _arg(arguments, "job_id")
            if job_id is None:
                return _result(({"error": {"type": "invalid_arguments", "message": "job_id: required"}}, True))
            if params.name == "get_job":
                return _result(await session.get_job(job_id))
            seconds = arguments.get("timeout_seconds", session.wait_seconds)
            if not isinstance(seconds, int | float) or seconds < 0:
                return _result(({"error": {"type": "invalid_arguments",
                                           "message": "timeout_seconds: a number of seconds, 0 or more"}}, True))
            return _result(await session.wait_job(job_id, min(float(seconds), MAX_WAIT_SECONDS), progress))
        return _result(await session.call(params.name, arguments, progress))

    return Server(f"sintra-{session.agent.id}", version="0.1.0", title=f"Sintra {session.agent.name}",
                  instructions=instructions(session.agent, connected), on_list_tools=list_tools,
                  on_call_tool=call_tool,
                  # our schemas declare no Mcp-Param headers: nothing to check before a call
                  get_tool_input_schema=lambda _name: None)


async def serve_stdio(session: ToolSession) -> None:
    """Serve ``session``'s agent over stdin/stdout until the client closes it."""
    server = build_server(session, await session.connected())
    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())
