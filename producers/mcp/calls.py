"""What a tool call does: create the job through Sintra's API, wait a bounded time, shape the answer.

A call of a side-effect tool carries an idempotency key derived from (agent, tool, canonical
arguments, optional ``dedup_key``), so a model or client that repeats a call gets the first call's
job back instead of a second email or post; if that job failed, the repeat retries it (same id,
resuming from its step log). Read-only calls carry no key: a repeated read should see fresh data.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from config.catalog import ActionSpec, AgentSpec
from config.messages import TERMINAL_STATUSES, JobPublic
from producers.client import SintraApiError
from producers.mcp.exports import McpTool
from producers.mcp.tools import DEDUP_ARG, left_out, tool_name

#: Seconds between job reads while waiting: first, and the most it backs off to.
POLL_FIRST, POLL_MAX = 0.05, 0.5
#: How each kind of job error is told to the model (the provider's own message follows).
ERROR_KINDS = {"auth": "authentication failed (reconnect the integration in Sintra)",
               "rate_limited": "rate limited by the provider", "transient": "provider unavailable",
               "time_limit": "provider too slow (time limit)", "permanent": "rejected by the provider",
               "invalid": "invalid parameters", "unavailable": "unavailable in Sintra",
               "disconnected": "integration disconnected", "cancelled": "cancelled",
               "needs_reconnect": "the integration's grant was revoked or expired (reconnect it in Sintra)"}

Progress = Callable[[float, float | None, str | None], Awaitable[None]]
Answer = tuple[dict[str, Any], bool]


def idempotency_key(agent: str, tool: str, params: dict[str, Any], dedup: str | None) -> str:
    """The job's idempotency key for a call: a hash of agent, tool, canonical arguments and ``dedup``."""
    canonical = json.dumps({"agent": agent, "tool": tool, "params": params, "dedup": dedup}, sort_keys=True,
                           separators=(",", ":"), ensure_ascii=False, default=str)
    return "mcp-" + hashlib.sha256(canonical.encode()).hexdigest()[:40]


def classified(error: dict[str, Any] | None) -> dict[str, Any]:
    """A job error as the model sees it: its type, a message saying what kind of failure, the delay if any."""
    err = dict(error or {"type": "error", "message": "no error recorded"})
    kind = str(err.get("type"))
    out = {"type": kind, "message": f"{ERROR_KINDS.get(kind, kind)}: {err.get('message', '')}"}
    if err.get("retry_after") is not None:
        out["retry_after_seconds"] = err["retry_after"]
        out["message"] += f" (the provider asked to wait {err['retry_after']:g} s)"
    return out


def job_answer(job: JobPublic, *, waited: float, deduplicated: bool = False) -> Answer:
    """A tool result for ``job``: its result, its classified error, or where it stands (and how to wait)."""
    out: dict[str, Any] = {"job_id": job.id, "status": job.status}
    if deduplicated:
        out["deduplicated"] = "an identical earlier call created this job; nothing was done twice"
    if job.status == "succeeded":
        return {**out, "result": job.result}, False
    err = job.error.model_dump() if job.error else None
    if job.status in TERMINAL_STATUSES:
        return {**out, "error": classified(err)}, True
    out["progress"] = job.progress
    out["message"] = f"still {job.status} after {waited:.1f} s; call wait_job with this job_id for the result"
    if job.status == "retrying" and err:  # a failed attempt: say why, and that Sintra retries by itself
        out["error"] = classified(err)
        out["message"] = f"Sintra retries this job by itself at {job.not_before}; call wait_job for the result"
        return out, True
    return out, False


def api_error(exc: SintraApiError) -> Answer:
    """A tool error for a refused request (422 names the field; 409 says what to connect)."""
    body = exc.body.get("error", {}) if isinstance(exc.body, dict) else {}
    out: dict[str, Any] = {"error": {"type": exc.code, "message": exc.message or str(exc)}}
    if body.get("fields"):
        out["error"]["fields"] = body["fields"]
    return out, True


@dataclass
class ToolSession:
    """One caller's view of one agent's tools, through Sintra's own API with the caller's key."""

    #: An :class:`AsyncSintraClient` (typed Any: its methods are declared with the sync client's return types).
    api: Any
    agent: AgentSpec
    chosen: list[str] | None
    wait_seconds: float

    async def connected(self) -> set[str]:
        """The agent's integrations connected in the caller's workspace."""
        view = await self.api.agent(self.agent.id)
        return {i.id for i in view.integrations if i.status == "connected"}

    async def tools(self) -> list[McpTool]:
        """Every tool the caller may call (the chosen subset only narrows what is listed)."""
        return list((await self.api.agent_tools(self.agent.id, format="mcp")).tools)

    async def listed(self) -> list[McpTool]:
        """The tools to list: the chosen subset of :meth:`tools` (the API's export: one list for everyone)."""
        return list((await self.api.agent_tools(self.agent.id, format="mcp", tools=self.chosen)).tools)

    async def call(self, name: str, arguments: dict[str, Any], progress: Progress) -> Answer:
        """Run tool ``name``: create the job (or find the identical call's), wait up to the bound, answer."""
        try:
            if name not in {t.name for t in await self.tools()}:
                return await self._unknown(name)
            integration, action = _actions(self.agent)[name]
            params = {k: v for k, v in arguments.items() if not (action.side_effect and k == DEDUP_ARG)}
            key = idempotency_key(self.agent.id, name, _canonical(action, params),
                                  arguments.get(DEDUP_ARG)) if action.side_effect else None
            deduplicated = key is not None and (await self.api.search_jobs(q=key, limit=1)).total > 0
            job = await self.api.create_job(self.agent.id, integration, action.name, params, idempotency_key=key)
            if deduplicated and job.status in ("failed", "cancelled"):
                job = await self.api.retry_job(job.id)
            return await self.wait(job, progress, self.wait_seconds, deduplicated=deduplicated)
        except SintraApiError as exc:
            return api_error(exc)

    async def _unknown(self, name: str) -> Answer:
        why = [line for line in left_out(self.agent, await self.connected()) if name.startswith(line.split(":")[0])]
        return {"error": {"type": "unknown_tool", "message": f"{self.agent.id} has no tool {name!r} now"
                          + (f" ({'; '.join(why)})" if why else "; call search_tools to find one")}}, True

    async def wait(self, job: JobPublic, progress: Progress, seconds: float, *, deduplicated: bool = False) -> Answer:
        """Follow ``job`` until it finishes or ``seconds`` pass, reporting each new progress step."""
        start = time.monotonic()
        deadline, pause, last, count = start + seconds, POLL_FIRST, None, 0
        while job.status not in TERMINAL_STATUSES and time.monotonic() < deadline:
            if job.status == "retrying" and job.not_before is not None and \
                    job.not_before.timestamp() > time.time() + deadline - time.monotonic():
                break  # it will not run again within the bound: say so now
            await asyncio.sleep(min(pause, max(0.0, deadline - time.monotonic())))
            pause = min(pause * 2, POLL_MAX)
            job = await self.api.get_job(job.id)
            if job.progress and job.progress != last:
                last, count = job.progress, count + 1
                pct = job.progress.get("percent")
                await progress(float(pct) if pct is not None else float(count), 100.0 if pct is not None else None,
                               str(job.progress.get("step") or ""))
        return job_answer(job, waited=time.monotonic() - start, deduplicated=deduplicated)

    async def get_job(self, job_id: str) -> Answer:
        """Where one of this agent's jobs stands, without waiting."""
        return await self.wait_job(job_id, 0.0, _noop)

    async def wait_job(self, job_id: str, seconds: float, progress: Progress) -> Answer:
        """Wait up to ``seconds`` for one of this agent's jobs."""
        try:
            job = await self.api.get_job(job_id)
        except SintraApiError as exc:
            return api_error(exc)
        if job.agent != self.agent.id:
            return {"error": {"type": "not_found", "message": f"job {job_id!r} is not one of {self.agent.id}'s"}}, True
        return await self.wait(job, progress, seconds)


def _actions(agent: AgentSpec) -> dict[str, tuple[str, ActionSpec]]:
    """Tool name -> (integration, action) for every action of the agent."""
    return {tool_name(i.id, a.name): (i.id, a) for i in agent.integrations for a in i.actions}


def _canonical(action: ActionSpec, params: dict[str, Any]) -> Any:
    try:  # defaults filled in, so {} and {"limit": 50} are the same call
        return action.params.model_validate(params).model_dump(mode="json")
    except ValidationError:
        return params  # the API answers 422 naming the field


async def _noop(_p: float, _t: float | None, _m: str | None) -> None:
    return None
