"""The base of every declared job-result model."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Result(BaseModel):
    """A job result's declared shape: the typed fields a caller relies on; extra fields are allowed.

    ``extra="allow"`` because a result often carries the provider's own JSON: a provider that adds a
    field must never make a succeeded job's result "invalid".
    """

    model_config = ConfigDict(extra="allow")


#: Declared results: (integration id, action name) -> result model.
Registry = dict[tuple[str, str], type[Result]]
