"""Declared result schemas of the catalog's actions, one module per provider (issue 11).

Each module holds ``RESULTS``: (integration id, action name) -> a :class:`~config.catalog.results.base.Result`
model of what that action's job returns. tests/providers/test_examples.py requires one for every available
action and validates every example job's real result against it.
"""

from __future__ import annotations

import copy
from functools import cache, lru_cache
from importlib import import_module
from typing import Any

from config.catalog.results.base import Registry, Result

__all__ = ["PROVIDERS", "Result", "registry", "result_model", "result_schema"]

#: The modules of this package, one per provider (a provider's client lives in workers/providers/<name>.py).
PROVIDERS = (
    "ahrefs", "amplitude", "brevo", "copy_ai", "facebook", "freshdesk", "google_analytics",
    "google_search_console", "grammarly", "hubspot", "instagram", "intercom", "jasper", "linkedin",
    "mailchimp", "mixpanel", "pipedrive", "salesforce", "semrush", "sendgrid", "tiktok", "x", "zendesk",
)


@lru_cache(maxsize=1)
def registry() -> Registry:
    """Every declared result model, merged from the provider modules (imported on first use)."""
    merged: Registry = {}
    for name in PROVIDERS:
        merged.update(import_module(f"config.catalog.results.{name}").RESULTS)
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
