"""``sintra mcp --agent <agent>``: serve one agent's tools to an MCP client over stdin/stdout."""

from __future__ import annotations

import argparse
import os
import sys

import anyio

from producers.cli_api import EXIT_API, EXIT_UNAVAILABLE, EXIT_USAGE


def _run(args: argparse.Namespace) -> int:
    import httpx

    from config.catalog import CatalogError, agent
    from config.settings import get_settings
    from producers.client import AsyncSintraClient, SintraApiError
    from producers.mcp.calls import ToolSession
    from producers.mcp.server import serve_stdio
    from producers.mcp.tools import select

    key = args.key or os.environ.get("SINTRA_API_KEY", "")
    chosen = [t.strip() for t in (args.tools or "").split(",") if t.strip()] or None
    try:
        if not key:
            raise ValueError("give --key or set SINTRA_API_KEY (create one with `sintra keys create`)")
        spec = agent(args.agent)
        select([], spec, chosen)
    except (CatalogError, ValueError) as exc:
        print(f"sintra: {exc}", file=sys.stderr)
        return EXIT_USAGE
    wait = args.wait_seconds if args.wait_seconds is not None else get_settings().mcp_wait_seconds

    async def main() -> None:
        async with AsyncSintraClient(args.api or os.environ.get("SINTRA_API_URL", "http://127.0.0.1:8000"),
                                     key) as api:
            await serve_stdio(ToolSession(api=api, agent=spec, chosen=chosen, wait_seconds=max(0.0, wait)))

    try:
        anyio.run(main)
    except SintraApiError as exc:  # before serving: a bad key or an API that refuses us
        print(f"sintra: the API refused: {exc}", file=sys.stderr)
        return EXIT_API
    except httpx.HTTPError as exc:
        print(f"sintra: the API is unreachable: {type(exc).__name__}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    return 0


def add_mcp_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``sintra mcp`` on ``sintra``'s subparsers."""
    p = sub.add_parser("mcp", help="serve an agent's tools to an MCP client over stdio")
    p.add_argument("--agent", required=True, help="the agent, e.g. emmie")
    p.add_argument("--api", default=None, help="API URL (default: SINTRA_API_URL or http://127.0.0.1:8000)")
    p.add_argument("--key", default=None, help="API key (default: SINTRA_API_KEY)")
    p.add_argument("--tools", default=None, help="list only these tools or integrations, comma-separated")
    p.add_argument("--wait-seconds", type=float, default=None,
                   help="how long a call waits for its job (default: SINTRA_MCP_WAIT_SECONDS, 20)")
    p.set_defaults(func=_run)
