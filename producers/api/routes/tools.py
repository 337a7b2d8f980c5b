"""``/api/agents/{agent}/tools``: an agent's tools for function calling (OpenAI, Anthropic) or MCP.

The same tools the agent's MCP server lists: each available action of an integration connected in the
caller's workspace. A model's call of one becomes ``POST /api/jobs`` with the tool's integration and
action (``<integration>_<action>``) and its arguments as ``params``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from config.catalog import CatalogError
from config.catalog import agent as catalog_agent
from producers.api.deps import CallerDep, SessionDep
from producers.api.errors import ApiError
from producers.mcp.exports import AgentTools, ToolFormat, export
from producers.mcp.tools import agent_tools, select
from producers.schemas import COMMON_ERRORS, errors
from workers.store.integrations import states_for

router = APIRouter(prefix="/api/agents", tags=["tools"], responses=COMMON_ERRORS)


@router.get("/{agent_id}/tools", response_model=AgentTools, responses=errors(404))
def export_(agent_id: str, caller: CallerDep, session: SessionDep,
            format: Annotated[ToolFormat, Query(description="`openai`, `anthropic` or `mcp`.")] = "mcp",
            tools: Annotated[str | None, Query(max_length=2000, description="Only these tools or integrations, "
                                               "comma-separated.")] = None) -> AgentTools:
    """The agent's tools (available actions of its connected integrations) in one framework's tool shape."""
    try:
        spec = catalog_agent(agent_id)
    except CatalogError as exc:
        raise ApiError(404, "not_found", str(exc)) from None
    states = states_for(session=session, workspace=caller.workspace)
    connected = {i.id for i in spec.integrations if (s := states.get((spec.id, i.id))) and s.status == "connected"}
    chosen = [t.strip() for t in (tools or "").split(",") if t.strip()] or None
    try:
        listed = select(agent_tools(spec, connected), spec, chosen)
    except ValueError as exc:
        raise ApiError(422, "invalid_request", str(exc), fields=[{"field": "query.tools", "problem": str(exc)}]) \
            from None
    return export(spec.id, listed, format)
