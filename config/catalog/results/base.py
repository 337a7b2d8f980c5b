"""The base of every declared job-result model, and helpers shared by the per-provider modules."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Result(BaseModel):
    """A job result's declared shape: the typed fields a caller relies on; extra fields are allowed.

    ``extra="allow"`` because a result often carries the provider's own JSON: a provider that adds a
    field must never make a succeeded job's result "invalid".
    """

    model_config = ConfigDict(extra="allow")


#: Registry entries of one provider module: (integration id, action name) -> result model.
Registry = dict[tuple[str, str], type[Result]]


def desc(text: str, default: Any = ...) -> Any:
    """A described field (required unless ``default`` is given), shorter to write than ``Field(...)``."""
    return Field(default, description=text)


def register(integration: str, models: dict[str, type[Result]]) -> Registry:
    """Registry entries for ``integration``: action name -> model."""
    return {(integration, action): model for action, model in models.items()}
