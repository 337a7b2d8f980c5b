"""Where each provider lives inside the simulator, derived from the provider definitions.

A provider's base path is ``/<provider>`` plus the path of its real base URL, and so is its token path
(:func:`config.providers.root_base_path`). ``settings_env(root)`` points the real provider clients at a
simulator running at ``root`` (``make run``, docker-compose, benchmarks) with the one root setting.
"""

from __future__ import annotations

from config.providers import definitions, root_base_path, root_token_path

#: provider -> base path of its API in the simulator (the client's base URL is root + this).
BASES: dict[str, str] = {p: root_base_path(p) for p in definitions()}

#: provider -> OAuth token endpoint path in the simulator (OAuth 2.0 providers only).
TOKENS: dict[str, str] = {p: path for p in definitions() if (path := root_token_path(p))}


def provider_urls(root: str) -> dict[str, str]:
    """Every provider's base and token URL for a simulator at ``root`` (as ``provider_urls`` keys)."""
    root = root.rstrip("/")
    return {**{p: root + path for p, path in BASES.items()},
            **{f"{p}_token": root + path for p, path in TOKENS.items()}}


def settings_env(root: str) -> dict[str, str]:
    """The environment that points every provider client at a simulator at ``root``."""
    return {"SINTRA_PROVIDER_ROOT": root.rstrip("/")}
