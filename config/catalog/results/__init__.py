"""Declared result schemas of the catalog's actions, one YAML file per provider (issue 11).

Each ``<provider>.yaml`` of this folder declares the shapes of what its actions' jobs return, as data (the
grammar is in :mod:`config.catalog.results.loader`); they are built into
:class:`~config.catalog.results.base.Result` models. tests/providers/test_examples.py requires one for every available
action and validates every example job's real result against it.
"""

from __future__ import annotations

import copy
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from config.catalog.results.base import Registry, Result
from config.catalog.results.loader import ResultsError, load

__all__ = ["DECLARATIONS", "Result", "ResultsError", "registry", "result_model", "result_schema"]

#: The folder of the declaration files, one ``<provider>.yaml`` per provider (its client: workers/providers/).
DECLARATIONS = Path(__file__).parent


@lru_cache(maxsize=1)
def registry() -> Registry:
    """Every declared result model, merged from the declaration files (read on first use)."""
    merged: Registry = {}
    for path in sorted(DECLARATIONS.glob("*.yaml")):
        declared = load(path)
        if twice := merged.keys() & declared.keys():
            raise ResultsError(f"{path.name}: {sorted(twice)} are declared by another file too")
        merged.update(declared)
    return merged


def result_model(integration: str, action: str) -> type[Result] | None:
    """The declared result model of ``action`` of ``integration``, or None."""
    return registry().get((integration, action))


@cache
def _schema(integration: str, action: str) -> dict[str, Any] | None:
    model = result_model(integration, action)
    return model.model_json_schema() if model is not None else None


def result_schema(integration: str, action: str) -> dict[str, Any] | None:
    """JSON Schema of the declared result of ``action`` of ``integration`` (a copy: built once, it is cached)."""
    return copy.deepcopy(_schema(integration, action))
