"""Provider clients by provider name, discovered: module ``workers.providers.<provider>`` defines
``CLIENT``. A provider without such a module has no client yet (its actions answer 501)."""

from __future__ import annotations

import importlib
from functools import cache

from workers.providers.base import ProviderClient


@cache
def client_class(provider: str) -> type[ProviderClient] | None:
    """The client class of ``provider``, or None when Sintra has none yet."""
    if not provider.isidentifier() or provider in ("base", "oauth"):
        return None
    try:
        module = importlib.import_module(f"{__name__}.{provider}")
    except ModuleNotFoundError as exc:
        if exc.name == f"{__name__}.{provider}":
            return None
        raise
    return getattr(module, "CLIENT", None)
