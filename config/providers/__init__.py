"""Provider definitions: one per provider, the single place its HTTP facts are written.

Typed Python rather than YAML: a definition is data built with the frozen pydantic model of
:mod:`config.providers.model`, so it validates when imported (H6), mypy checks every field name, and
no file is read at run time. Definitions are grouped by domain in small modules (social, support, crm,
marketing, analytics, content). :func:`provider_base_url` and :func:`provider_token_url` derive every
URL a deployment uses from one root (``SINTRA_PROVIDER_ROOT``): ``root + "/" + id + path of the real URL``.
"""

from __future__ import annotations

from functools import cache

from config.providers.model import (
    Auth,
    ErrorIn200,
    Errors,
    LongLived,
    OAuthFlow,
    Pagination,
    ProviderDefinition,
    RateLimits,
    TestCall,
    Token,
    _path_of,
    placeholders,
)

__all__ = [
    "Auth",
    "ErrorIn200",
    "Errors",
    "LongLived",
    "OAuthFlow",
    "Pagination",
    "ProviderDefinition",
    "RateLimits",
    "TestCall",
    "Token",
    "definition",
    "definitions",
    "placeholders",
    "root_base_path",
    "root_path",
    "root_token_path",
]


@cache
def definitions() -> dict[str, ProviderDefinition]:
    """Every provider definition by id, in id order."""
    from config.providers import analytics, content, crm, marketing, social, support

    found = [value for module in (analytics, content, crm, marketing, social, support)
             for value in vars(module).values() if isinstance(value, ProviderDefinition)]
    ids = [d.id for d in found]
    if len(ids) != len(set(ids)):
        raise ValueError(f"duplicate provider definitions in {sorted(ids)}")
    return {d.id: d for d in sorted(found, key=lambda d: d.id)}


def definition(provider: str) -> ProviderDefinition:
    """The definition of ``provider`` (KeyError naming the known ones when there is none)."""
    found = definitions().get(provider)
    if found is None:
        raise KeyError(f"no provider definition {provider!r}; known: {', '.join(definitions())}")
    return found


def root_base_path(provider: str) -> str:
    """The provider's base path under a root that serves every provider (the simulator, a proxy)."""
    return f"/{provider}{definition(provider).base_path}"


def root_path(provider: str, url: str) -> str:
    """Where any of the provider's real URLs (consent page, code exchange) lives under such a root."""
    return f"/{provider}{_path_of(url, keep_slash=True)}"


def root_token_path(provider: str) -> str | None:
    """The provider's token path under such a root, or None without a token endpoint."""
    path = definition(provider).token_path
    return None if path is None else f"/{provider}{path}"
