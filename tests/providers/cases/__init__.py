"""One module per provider describing how the shared conformance suite drives it.

Each module defines ``CASE: ProviderCase`` (or ``CASES: list[ProviderCase]`` when one provider serves
two agents). ``tests/providers/test_conformance.py`` runs every case through the same tests.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from config.catalog import IntegrationSpec
from simulator.urls import BASES, TOKENS
from workers.providers.base import ProviderClient


@dataclass
class ProviderCase:
    """How to exercise one integration against the simulator."""

    spec: IntegrationSpec
    client: type[ProviderClient]
    #: Credentials that work, and credentials whose secret starts with "bad" (rejected by the simulator).
    good: dict[str, str]
    bad: dict[str, str]
    #: Happy-path params of EVERY non-restricted catalog action (the suite checks none is missing).
    #: A value may be a callable taking the client and returning the params (to create fixtures first).
    actions: dict[str, dict[str, Any] | Callable[[ProviderClient], dict[str, Any]]]
    #: A cheap read used for the fault tests (401, 429, 5xx, malformed body): (action, params).
    probe: tuple[str, dict[str, Any]]
    #: A side-effect action for the crash test: (action, params), and a function that counts the
    #: objects that action creates, using the client (e.g. through a list/search action).
    create: tuple[str, dict[str, Any]] | None = None
    count_created: Callable[[ProviderClient, dict[str, Any]], int] | None = None
    #: Optional assertions on an action's result.
    checks: dict[str, Callable[[Any], None]] = field(default_factory=dict)
    #: Seconds the simulator's 429 asks the client to wait (its Retry-After / reset header).
    retry_after: float = 2.0

    @property
    def sim_prefix(self) -> str:
        """Path prefix of the provider in the simulator (derived from its definition)."""
        return BASES[self.spec.provider]

    @property
    def token_path(self) -> str | None:
        """Simulator path of the OAuth token endpoint (OAuth2 providers only; from the definition)."""
        return TOKENS.get(self.spec.provider)

    @property
    def id(self) -> str:
        """Test id."""
        return f"{self.spec.provider}:{self.spec.id}"


def all_cases() -> list[ProviderCase]:
    """Every case module's cases."""
    out: list[ProviderCase] = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        mod = importlib.import_module(f"{__name__}.{info.name}")
        out.extend(getattr(mod, "CASES", None) or [mod.CASE])
    return out
