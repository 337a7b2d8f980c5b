"""Sintra's agents as tools for AI models: an MCP server per agent (stdio and ``/mcp/{agent}``) and the
function-calling exports of ``GET /api/agents/{agent}/tools``.

``tools`` builds an agent's tools from the catalog, ``exports`` shapes them per framework, ``calls`` runs a
call as a job through the API, ``server`` is the MCP server, ``http`` mounts it on the API, ``cli`` is
``sintra mcp``.
"""
