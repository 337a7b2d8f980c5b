"""One module per simulated provider. Each defines ``PROVIDER`` (its name, the first path segment),
``router`` (a FastAPI router under ``/<PROVIDER>/...``) and ``fault_response(spec) -> Response`` (the
provider's own error body for an injected fault). They are discovered, not listed, so adding a
provider is adding a module.

What is generic comes from the provider's definition through a :class:`simulator.generic.Sim`: the
router (``SIM.router()``, under the definition's base path), the auth check (``SIM.credential`` /
``SIM.account``), error bodies (``SIM.error`` / ``SIM.fail``), ``fault_response = SIM.fault_response``
with the 429 headers, and paging (``SIM.page``). A module keeps its state, its behaviour and, where the
provider truly differs, an override (a ``body`` builder, ``extra`` fields, its own ``fault_response``)."""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType


def provider_modules() -> list[ModuleType]:
    """Every simulated provider module, in name order."""
    mods = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if not info.name.startswith("_"):
            mods.append(importlib.import_module(f"{__name__}.{info.name}"))
    return mods
