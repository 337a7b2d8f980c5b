"""An agent's tools in the shapes other frameworks take: OpenAI and Anthropic function calling, and MCP.

The models are the response of ``GET /api/agents/{agent}/tools`` (so the OpenAPI document shows each
shape) and what :mod:`producers.mcp.server` lists.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field

if TYPE_CHECKING:
    from producers.mcp.tools import ToolDef

ToolFormat = Literal["openai", "anthropic", "mcp"]


class OpenAIFunction(BaseModel):
    """The ``function`` of an OpenAI tool."""

    name: str = Field(pattern=r"^[a-zA-Z0-9_-]{1,64}$", examples=["mailchimp_list_campaigns"])
    description: str
    parameters: dict[str, Any] = Field(description="A JSON Schema object.")


class OpenAITool(BaseModel):
    """An OpenAI Chat Completions tool: ``{"type": "function", "function": {...}}``."""

    type: Literal["function"] = "function"
    function: OpenAIFunction


class AnthropicTool(BaseModel):
    """An Anthropic Messages API tool."""

    name: str = Field(pattern=r"^[a-zA-Z0-9_-]{1,64}$", examples=["mailchimp_list_campaigns"])
    description: str
    input_schema: dict[str, Any] = Field(description="A JSON Schema object.")


class McpToolAnnotations(BaseModel):
    """MCP tool annotations (hints about the tool's behaviour)."""

    readOnlyHint: bool | None = None  # noqa: N815 - MCP's wire names
    destructiveHint: bool | None = None  # noqa: N815
    idempotentHint: bool | None = None  # noqa: N815
    openWorldHint: bool | None = None  # noqa: N815


class McpTool(BaseModel):
    """An MCP tool as ``tools/list`` returns it."""

    name: str = Field(examples=["mailchimp_list_campaigns"])
    description: str
    inputSchema: dict[str, Any] = Field(description="A JSON Schema object.")  # noqa: N815
    annotations: McpToolAnnotations


class AgentTools(BaseModel):
    """An agent's tools (its connected integrations' available actions) in one format."""

    agent: str = Field(examples=["emmie"])
    format: ToolFormat
    count: int
    tools: list[OpenAITool] | list[AnthropicTool] | list[McpTool]


def openai_tool(tool: ToolDef) -> OpenAITool:
    """``tool`` for OpenAI function calling."""
    return OpenAITool(function=OpenAIFunction(name=tool.name, description=tool.description,
                                              parameters=tool.input_schema))


def anthropic_tool(tool: ToolDef) -> AnthropicTool:
    """``tool`` for Anthropic tool use."""
    return AnthropicTool(name=tool.name, description=tool.description, input_schema=tool.input_schema)


def mcp_tool(tool: ToolDef) -> McpTool:
    """``tool`` as an MCP tool."""
    return McpTool(name=tool.name, description=tool.description, inputSchema=tool.input_schema,
                   annotations=McpToolAnnotations(**tool.annotations))


EXPORTERS = {"openai": openai_tool, "anthropic": anthropic_tool, "mcp": mcp_tool}


def export(agent: str, tools: list[ToolDef], fmt: ToolFormat) -> AgentTools:
    """``tools`` of ``agent`` in format ``fmt``."""
    return AgentTools(agent=agent, format=fmt, count=len(tools),
                      tools=[EXPORTERS[fmt](t) for t in tools])  # type: ignore[arg-type]
