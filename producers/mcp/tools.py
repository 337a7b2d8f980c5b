"""An agent's tools, built from the catalog: one per available action of a connected integration.

Pure functions of the catalog and the set of connected integrations, so the MCP server, the
function-calling export (``GET /api/agents/{agent}/tools``) and the tests all see the same list.
Schemas are the catalog's JSON Schemas made compact (no per-property titles, ``X | None`` written as
an optional ``X``) because every byte of a tool list is spent again in each model turn.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from config.catalog import ActionSpec, AgentSpec, IntegrationSpec

#: The name rule of OpenAI and Anthropic function names (MCP clients apply the same in practice).
TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
#: The optional argument of a side-effect tool that makes an identical call run again instead of
#: returning the first call's job (``idempotency_key`` is taken: Brevo's transactional email has one).
DEDUP_ARG = "dedup_key"
_DEDUP_SCHEMA = {"type": "string", "description": "Only to repeat an identical call: a new value."}
#: Verbs whose side effect changes or removes what exists (as opposed to adding something new).
_DESTRUCTIVE = frozenset({"update", "set", "delete", "remove", "cancel", "unschedule", "pause", "close", "hide",
                          "upsert", "schedule", "archive", "apply", "assign", "replace"})


@dataclass(frozen=True)
class ToolDef:
    """One tool: a catalog action of one integration, with its compact schema and behaviour hints."""

    name: str
    integration: str
    action: str
    description: str
    input_schema: dict[str, Any]
    side_effect: bool

    @property
    def annotations(self) -> dict[str, Any]:
        """MCP ``ToolAnnotations`` (camelCase): read-only, or which kind of side effect."""
        if not self.side_effect:
            return {"readOnlyHint": True, "openWorldHint": True}
        # a derived idempotency key makes every repeated identical call return the first call's job
        return {"readOnlyHint": False, "destructiveHint": self.action.split("_")[0] in _DESTRUCTIVE,
                "idempotentHint": True, "openWorldHint": True}


def tool_name(integration_id: str, action: str) -> str:
    """The tool name of an action: ``<integration>_<action>``."""
    name = f"{integration_id}_{action}"
    if not TOOL_NAME.match(name):
        raise ValueError(f"tool name {name!r} breaks {TOOL_NAME.pattern}")
    return name


def compact_schema(schema: Any) -> Any:
    """``schema`` without titles or closed-object flags, and with ``anyOf [X, null]`` (default null) as ``X``."""
    if isinstance(schema, list):
        return [compact_schema(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    # titles repeat the names; "additionalProperties: false" is enforced by the API (422 naming the field)
    out = {k: compact_schema(v) for k, v in schema.items()
           if not (k == "title" and isinstance(v, str)) and not (k == "additionalProperties" and v is False)}
    if "properties" in schema:  # property names may be "title": keep them
        out["properties"] = {name: compact_schema(v) for name, v in schema["properties"].items()}
    options = out.get("anyOf")
    if isinstance(options, list) and {"type": "null"} in options and out.get("default") is None:
        rest = [o for o in options if o != {"type": "null"}]
        out.pop("anyOf")
        out.pop("default", None)
        out = {**(rest[0] if len(rest) == 1 else {"anyOf": rest}), **out}
    return out


def _tool(spec: IntegrationSpec, action: ActionSpec) -> ToolDef:
    # imported here: the console package loads the database layer, which a client of exports never needs
    from producers.console.examples import example_params

    full = action.schema_json()
    schema = compact_schema(full)
    schema.pop("description", None)  # the model's docstring: the tool's description says it better
    schema.setdefault("properties", {})
    schema["type"] = "object"
    example = example_params(full)
    if example:
        schema["examples"] = [example]
    if action.side_effect:
        schema["properties"][DEDUP_ARG] = _DEDUP_SCHEMA
    kind = "Changes data at the provider." if action.side_effect else "Read-only."
    return ToolDef(name=tool_name(spec.id, action.name), integration=spec.id, action=action.name,
                   description=f"{spec.name}: {action.description} {kind}", input_schema=schema,
                   side_effect=action.side_effect)


def usable(spec: IntegrationSpec) -> bool:
    """Whether Sintra can run this integration's actions at all."""
    return spec.availability == "available" and spec.implemented


def agent_tools(agent: AgentSpec, connected: set[str]) -> list[ToolDef]:
    """The agent's tools: every unrestricted action of each usable, connected integration, in catalog order."""
    return [_tool(spec, action) for spec in agent.integrations if spec.id in connected and usable(spec)
            for action in spec.actions if not action.restricted]


def left_out(agent: AgentSpec, connected: set[str]) -> list[str]:
    """Why each integration or action of the agent has no tool, one line each."""
    lines = []
    for spec in agent.integrations:
        if not usable(spec):
            lines.append(f"{spec.id}: {spec.reason or 'not implemented in Sintra yet'}")
        elif spec.id not in connected:
            lines.append(f"{spec.id}: not connected in this workspace (configure and connect it in Sintra)")
        else:
            lines += [f"{spec.id}_{a.name}: restricted ({a.restricted})" for a in spec.actions if a.restricted]
    return lines


def select(tools: list[ToolDef], agent: AgentSpec, chosen: list[str] | None) -> list[ToolDef]:
    """The tools named in ``chosen`` (tool names or integration ids); all when ``chosen`` is empty.

    Raises ValueError naming every entry that is no tool or integration of the agent.
    """
    if not chosen:
        return tools
    known = {i.id for i in agent.integrations} | {f"{i.id}_{a.name}" for i in agent.integrations for a in i.actions}
    unknown = [c for c in chosen if c not in known]
    if unknown:
        raise ValueError(f"tools: {', '.join(unknown)} name no tool or integration of {agent.id}")
    return [t for t in tools if t.name in chosen or t.integration in chosen]


class Described(Protocol):
    """Anything with a tool's name and description."""

    @property
    def name(self) -> str: ...  # noqa: D102

    @property
    def description(self) -> str: ...  # noqa: D102


T = TypeVar("T", bound=Described)


def search(tools: list[T], query: str, limit: int = 10) -> list[T]:
    """The tools whose name (counting double) and description contain the most words of ``query``, best first."""
    words = [w for w in re.split(r"[^a-z0-9]+", query.lower()) if w]
    scored = [(sum(2 * (w in t.name) + (w in t.description.lower()) for w in words), i, t)
              for i, t in enumerate(tools)]
    return [t for score, _, t in sorted(scored, key=lambda s: (-s[0], s[1])) if score > 0][:limit]
