"""Declarative shapes of the catalog: agents, integrations, credential fields and actions.

Entries validate when they are built (H6), so a broken catalog fails at import, not on the first job.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, model_validator

from config.providers import ProviderDefinition, TestCall, definition

_ID = re.compile(r"^[a-z][a-z0-9_]*$")


class Params(BaseModel):
    """Base of every action's parameter model: unknown parameters are rejected, not ignored."""

    model_config = ConfigDict(extra="forbid", defer_build=True)


class NoParams(Params):
    """An action that takes no parameters."""


def examples(*values: dict[str, Any]) -> ConfigDict:
    """A Params ``model_config`` whose JSON Schema shows ``values`` as ``examples`` (pydantic keeps extra="forbid").

    Each example is validated by tests/providers/test_examples.py and runs as written against the simulator.
    """
    return ConfigDict(json_schema_extra={"examples": list(values)})


class ParamError(ValueError):
    """A cross-field rule broken by one parameter; the API's 422 names ``field``."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field} {problem}")
        self.field = field


def submitted_at(info: ValidationInfo) -> datetime | None:
    """The time a job is validated for at submission (the API's ``context={"now": ...}``); None on a worker."""
    now = info.context.get("now") if isinstance(info.context, dict) else None
    return now if isinstance(now, datetime) else None


_RELATIVE = re.compile(r"^\+(\d{1,4})([mhd])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def _from_now(value: Any) -> Any:
    """``+2d`` / ``+3h`` / ``+45m`` -> that long from now (UTC); anything else is left to datetime parsing."""
    if isinstance(value, str) and (m := _RELATIVE.match(value.strip())):
        return datetime.now(UTC).replace(microsecond=0) + timedelta(**{_UNITS[m[2]]: int(m[1])})
    return value


#: A time that may also be written relative to when the job runs (``+2d``, ``+3h``, ``+45m``): an example
#: that must lie in a provider's window ("10 minutes to 30 days ahead") then holds whenever it is run.
Later = Annotated[datetime, BeforeValidator(_from_now, json_schema_input_type=datetime | Annotated[
    str, Field(pattern=_RELATIVE.pattern)])]


def in_order(start_name: str, start: Any, end_name: str, end: Any) -> None:
    """:class:`ParamError` naming ``end_name`` when a range ends before it starts (None: open end)."""
    if start is not None and end is not None and end < start:
        raise ParamError(end_name, f"is before {start_name}")


def ordered(start: str, end: str) -> Any:
    """A model validator (assign it in a class body): the range from field ``start`` to ``end`` is in order."""

    def check(params: Any) -> Any:
        in_order(start, getattr(params, start), end, getattr(params, end))
        return params

    return model_validator(mode="after")(check)


def exactly_one(first: str, second: str) -> Any:
    """A model validator (assign it in a class body): exactly one of the fields ``first`` and ``second`` is given."""

    def check(params: Any) -> Any:
        if (getattr(params, first) is None) == (getattr(params, second) is None):
            raise ValueError(f"give exactly one of {first} or {second}")
        return params

    return model_validator(mode="after")(check)


def some_change(*besides: str) -> Any:
    """A model validator (assign it in a class body): an update gives at least one field besides ``besides``."""

    def check(params: Any) -> Any:
        if all(value is None for name, value in params.model_dump().items() if name not in besides):
            raise ValueError("give at least one change")
        return params

    return model_validator(mode="after")(check)


def ahead(info: ValidationInfo, name: str, value: datetime | None, *, at_least: timedelta = timedelta(0),
          at_most: timedelta | None = None) -> None:
    """At submission only, :class:`ParamError` unless ``value`` (when given) lies in the allowed window ahead.

    A worker validates without a clock (``info.context`` has no "now"): one that resumes a job whose post
    was already scheduled must not refuse it because time went on.
    """
    now = submitted_at(info)
    if value is None or now is None:
        return
    when = value if value.tzinfo else value.replace(tzinfo=UTC)
    if when < now + at_least:
        raise ParamError(name, "is in the past" if not at_least else
                         f"must be at least {at_least.total_seconds() / 60:g} minutes ahead")
    if at_most is not None and when > now + at_most:
        raise ParamError(name, f"must be at most {at_most.total_seconds() / 3600:g} hours ahead")


#: Longest credential value accepted (the longest real ones, service-account JSON keys, are ~2.5 KB).
MAX_CREDENTIAL_LENGTH = 16_384
#: One DNS label (RFC 1123); also what Zendesk and Freshdesk accept as an account subdomain.
LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"


class CredentialField(BaseModel):
    """One credential field an integration needs; ``secret`` fields are never shown or logged.

    ``pattern`` is a regular expression the whole value must match (checked at configure and again by
    the worker before it builds a URL from it): every field that ends up in a URL declares one.
    """

    model_config = ConfigDict(frozen=True)

    name: str
    secret: bool = False
    required: bool = True
    description: str = ""
    pattern: str | None = None
    #: What ``pattern`` means, in words (the 422 message says it instead of the regex).
    pattern_hint: str = ""
    #: A value of the right format (for a secret: its shape only, never a real secret), shown in forms and docs.
    example: str = ""
    max_length: int = MAX_CREDENTIAL_LENGTH

    @model_validator(mode="after")
    def _compile(self) -> CredentialField:
        if self.pattern is not None:
            re.compile(self.pattern)
        if self.example and self.problem(self.example):
            raise ValueError(f"credential field {self.name!r}: example {self.example!r} {self.problem(self.example)}")
        return self

    def problem(self, value: str) -> str | None:
        """Why ``value`` is not acceptable for this field (never quoting a secret value), or None."""
        if len(value) > self.max_length:
            return f"longer than {self.max_length} characters"
        if any(ord(c) < 32 or ord(c) == 127 for c in value):
            return "contains control characters"
        if value and self.pattern is not None and not re.fullmatch(self.pattern, value):
            return f"must be {self.pattern_hint or 'of the form ' + self.pattern}"
        return None


class ActionSpec(BaseModel):
    """An action a worker can run against the provider, with its parameter model."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    name: str
    description: str
    params: type[Params] = NoParams
    #: True when the action changes something at the provider (needs duplicate protection).
    side_effect: bool = False
    #: Restricted actions are declared but refused, with the reason (partner-only APIs and the like).
    restricted: str | None = None
    #: Optional credential fields this action needs configured; a non-empty parameter of the same name,
    #: when the action takes one, stands in for it (Mailchimp's ``list_id`` overrides the default audience).
    requires: tuple[str, ...] = ()

    def missing_requirements(self, params: dict[str, Any], configured: set[str]) -> list[str]:
        """Names of required credential fields neither configured nor given as a parameter."""
        return [name for name in self.requires if name not in configured and not params.get(name)]

    def schema_json(self) -> dict[str, Any]:  # type: ignore[override]  # the params' schema, not this model's
        """JSON Schema of the parameters, as shown by the API."""
        return self.params.model_json_schema()

    def result_model(self, integration_id: str) -> type[BaseModel] | None:
        """The declared model of this action's job result under ``integration_id`` (None: not declared)."""
        from config.catalog.results import result_model  # imported late: building the result models reads 23 files

        return result_model(integration_id, self.name)

    def result_schema(self, integration_id: str) -> dict[str, Any] | None:
        """JSON Schema of this action's job result under ``integration_id``, as shown by the API."""
        from config.catalog.results import result_schema

        return result_schema(integration_id, self.name)


class IntegrationSpec(BaseModel):
    """A provider as one agent uses it: credentials, actions, availability.

    The provider's HTTP facts (base URL, auth, test-connection call, docs) live in its definition
    (:mod:`config.providers`), found by ``provider``; the properties below read them from there.
    """

    model_config = ConfigDict(frozen=True)

    id: str
    provider: str
    name: str
    credential_fields: tuple[CredentialField, ...]
    actions: tuple[ActionSpec, ...]
    availability: Literal["available", "restricted"] = "available"
    #: Why the integration is restricted, or what account it needs.
    reason: str | None = None
    #: False while Sintra has no client for this provider yet: its actions answer 501.
    implemented: bool = False

    @model_validator(mode="after")
    def _check(self) -> IntegrationSpec:
        for ident in (self.id, self.provider, *(a.name for a in self.actions)):
            if not _ID.match(ident):
                raise ValueError(f"catalog id {ident!r} must match {_ID.pattern}")
        names = [a.name for a in self.actions]
        if len(names) != len(set(names)):
            raise ValueError(f"{self.id}: duplicate action names in {names}")
        if self.availability == "restricted" and not self.reason:
            raise ValueError(f"{self.id}: a restricted integration needs a reason")
        if not any(f.secret for f in self.credential_fields):
            raise ValueError(f"{self.id}: at least one credential field must be secret")
        declared = {f.name for f in self.credential_fields}
        for a in self.actions:
            if unknown := set(a.requires) - declared:
                raise ValueError(f"{self.id}.{a.name} requires undeclared credential fields {sorted(unknown)}")
        definition(self.provider)  # every provider has a definition (KeyError at import otherwise)
        return self

    @property
    def definition(self) -> ProviderDefinition:
        """The provider's definition: base URL, auth, token endpoint, test call, docs."""
        return definition(self.provider)

    @property
    def base_url(self) -> str:
        """The real API's base URL template (from the provider definition)."""
        return self.definition.base_url

    @property
    def auth(self) -> str:
        """How requests authenticate (from the provider definition)."""
        return self.definition.auth.mode

    @property
    def docs_url(self) -> str:
        """The provider's docs for this integration (from the provider definition)."""
        return self.definition.docs_for(self.id)

    @property
    def test_connection(self) -> TestCall:
        """The test-connection call with every credential field set (from the provider definition), its
        ``path`` shown whole: with its query string, or the token URL for a token-request test."""
        call = self.definition.test_call({f.name for f in self.credential_fields})
        token = self.definition.token
        shown = token.url if call.token and token else call.path
        if call.params:
            shown += "?" + "&".join(f"{k}={v}" for k, v in call.params.items())
        return call.model_copy(update={"path": shown})

    def action(self, name: str) -> ActionSpec | None:
        """The action called ``name``, or None."""
        return next((a for a in self.actions if a.name == name), None)

    def credential_problems(self, values: dict[str, str]) -> dict[str, str]:
        """Field name -> why its value is refused, for every declared field present in ``values``."""
        out: dict[str, str] = {}
        for f in self.credential_fields:
            value = values.get(f.name)
            if isinstance(value, str) and (problem := f.problem(value)) is not None:
                out[f.name] = problem
        return out

    @property
    def secret_fields(self) -> frozenset[str]:
        """Names of the fields whose values are secrets."""
        return frozenset(f.name for f in self.credential_fields if f.secret)


class AgentProfile(BaseModel):
    """An agent without its integrations: who it is and what routes and limits its jobs (queue, actor, retries).

    Every agent's profile is cheap to have (:func:`config.catalog.profiles`): a worker declares every agent's
    queue and actor, but builds only the :class:`AgentSpec` of the agent it serves, whose integrations carry the
    parameter models of their actions.
    """

    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    role: str
    #: Retries after transient failures (5xx, timeouts, network); 429 waits are budgeted by time instead.
    max_retries: int = 5
    time_limit_ms: int = 10 * 60 * 1000
    #: Seconds a job keeps waiting on the provider's Retry-After (None: the setting's default, 15 min).
    rate_limit_budget_seconds: float | None = None

    @property
    def queue(self) -> str:
        """The Redis queue this agent's workers consume."""
        return f"agent.{self.id}"

    @property
    def actor_name(self) -> str:
        """Name of the dramatiq actor that runs this agent's jobs."""
        return f"run_{self.id}_job"


class AgentSpec(AgentProfile):
    """An agent: its profile (queue, actor, limits) and the integrations it acts through."""

    integrations: tuple[IntegrationSpec, ...]

    def integration(self, integration_id: str) -> IntegrationSpec | None:
        """The integration called ``integration_id``, or None."""
        return next((i for i in self.integrations if i.id == integration_id), None)


def field(name: str, *, secret: bool = False, required: bool = True, description: str = "",
          pattern: str | None = None, pattern_hint: str = "", example: str = "") -> CredentialField:
    """Shorthand for a :class:`CredentialField`."""
    return CredentialField(name=name, secret=secret, required=required, description=description,
                           pattern=pattern, pattern_hint=pattern_hint, example=example)


def token(name: str, *, description: str, example: str) -> CredentialField:
    """A token Sintra keeps for the integration (set by Connect or a refresh): secret, and optional at configure."""
    return field(name, secret=True, required=False, description=description, example=example)


def one_of(*choices: str) -> dict[str, Any]:
    """``pattern``/``pattern_hint`` keywords of a field that takes one of ``choices`` (any case)."""
    return {"pattern": "(?i)(?:" + "|".join(re.escape(c) for c in choices) + ")",
            "pattern_hint": "one of " + ", ".join(choices)}


def act(name: str, description: str, params: type[Params] = NoParams, *, side_effect: bool = False,
        restricted: str | None = None, requires: tuple[str, ...] = ()) -> ActionSpec:
    """Shorthand for an :class:`ActionSpec`."""
    return ActionSpec(name=name, description=description, params=params, side_effect=side_effect,
                      restricted=restricted, requires=requires)


#: Common field for actions that page through results.
LIMIT = Field(default=50, ge=1, le=1000, description="Maximum number of items to fetch across pages.")
