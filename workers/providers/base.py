"""The provider client seam: one subclass per provider, each built on an ``httpx.Client``.

A client turns a catalog action into HTTP calls. :meth:`ProviderClient.request` is the only way out
to the network: it times the call, records an audit entry (method, path without query string, status,
duration, outcome), reads rate-limit headers into :class:`RateLimit`, and maps failures onto the
exception tree in :mod:`workers.errors`.

What is generic comes from the provider's definition (:mod:`config.providers`) and is executed here:
auth headers or query parameter, the test-connection call, rate-limit headers and Retry-After, the
error shape (also errors inside a 200) and :meth:`ProviderClient.paginate`. A subclass overrides a hook
only where its provider truly differs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar

import httpx

from config.catalog import IntegrationSpec, provider_integrations
from config.logging import redact_text
from config.providers import ProviderDefinition, TestCall, definition
from workers.credentials.base import Credentials
from workers.egress import EgressRefused
from workers.errors import (
    AgentError,
    AuthError,
    CredentialsUnavailable,
    IntegrationUnavailable,
    InvalidCredentials,
    MalformedResponse,
    ProviderRejected,
    ProviderUnavailable,
    RateLimited,
)
from workers.middleware.tracing import traced_record
from workers.providers import _definition as executed
from workers.providers._definition import json_path
from workers.providers._definition import parse_retry_after as parse_retry_after  # re-exported for clients
from workers.providers.steps import CLOCK_SKEW as CLOCK_SKEW  # re-exported: clients import them from here
from workers.providers.steps import MemorySteps as MemorySteps
from workers.providers.steps import StepLog as StepLog
from workers.providers.steps import intent_since as intent_since
from workers.providers.steps import record_intent as record_intent

#: Fallback delay when a provider throttles without saying for how long.
DEFAULT_RETRY_AFTER = 30.0
#: Longest provider error text kept in an error message.
MAX_ERROR_TEXT = 300


@dataclass(frozen=True)
class RateLimit:
    """Rate-limit facts read from a provider's response headers, in one common form."""

    limit: int | None = None
    remaining: int | None = None
    #: Seconds until the window resets or until a retry is allowed.
    reset_after: float | None = None


@dataclass(frozen=True)
class CallRecord:
    """What the audit trail keeps about one provider call: never a body, header or query string."""

    provider: str
    action: str
    method: str
    path: str
    status: int | None
    duration_ms: float
    outcome: str
    rate_limit: RateLimit | None = None


class ProviderClient:
    """Base of every provider client.

    Subclasses set ``provider`` and implement one ``action_<name>(params, steps)`` method per catalog
    action; auth, the test call, rate limits and error text come from the provider's definition, and a
    subclass overrides :meth:`auth_headers`, :meth:`test_connection`, :meth:`error_for`,
    :meth:`error_text` or :meth:`rate_limit` only for what its provider does differently.
    """

    provider: ClassVar[str] = ""
    #: Called before every request: raises to stop the job (cancelled, or the account's shared 429 pause).
    checkpoint: Callable[[], None] = staticmethod(lambda: None)

    def __init__(self, *, http: httpx.Client, credentials: Credentials,
                 record: Callable[[CallRecord], None] | None = None, action: str = "") -> None:
        self.http = http
        self.credentials = credentials
        self.record = traced_record(record or (lambda _call: None))
        self.action = action

    # -- hooks for subclasses -------------------------------------------------------------------
    @classmethod
    def definition(cls) -> ProviderDefinition:
        """The provider's definition: the facts this client executes."""
        return definition(cls.provider)

    @classmethod
    def resolve_base_url(cls, template: str, credentials: Mapping[str, str]) -> str:
        """The base URL for these credentials, after checking every field against its catalog pattern.

        Subclasses override :meth:`fill_base_url`, never this: the check must run whatever they do.
        """
        check_credential_fields(cls.provider, credentials)
        return cls.fill_base_url(template, credentials)

    @classmethod
    def fill_base_url(cls, template: str, credentials: Mapping[str, str]) -> str:
        """The base URL for these credentials (fills ``{placeholders}`` from non-secret fields)."""
        secret: frozenset[str] = getattr(credentials, "secret_fields", frozenset())
        fields = {k: v for k, v in credentials.items() if k not in secret}
        try:
            return template.format(**fields)
        except KeyError as exc:
            raise IntegrationUnavailable(f"{cls.provider}: base URL needs credential field {exc}") from None

    def auth_headers(self) -> dict[str, str]:
        """Headers that authenticate a request (and the definition's fixed headers)."""
        return executed.auth_headers(self.definition(), self.credentials)

    def credential(self, name: str) -> str:
        """The credential field ``name``, or :class:`CredentialsUnavailable` when it is missing or empty."""
        if not (value := self.credentials.get(name)):
            raise CredentialsUnavailable(f"{self.provider} credentials have no {name}")
        return str(value)

    def test_call(self) -> TestCall:
        """The definition's test-connection call for these credentials."""
        present = {k for k, v in self.credentials.items() if v}
        return self.definition().test_call(present)

    def send_test_call(self) -> Any:
        """Send the definition's test-connection call; its JSON answer (the text when not JSON).

        Raises :class:`MalformedResponse` when the answer lacks the ``proves`` path that shows the
        account answered.
        """
        call = self.test_call()
        values = {k: v for k, v in self.credentials.items() if k not in self.credentials.secret_fields}
        path, params = call.path.format(**values), {k: v.format(**values) for k, v in call.params.items()}
        what = f"{call.method} {_path(call.path)}"
        response = self.request(call.method, path, **({"params": params} if params else {}))
        body = executed.json_body(response)
        if call.proves and json_path(body, call.proves) is None:
            raise MalformedResponse(f"{self.provider} answered {what} without {call.proves!r}")
        return response.text if body is None else body

    def test_connection(self) -> dict[str, Any]:
        """The provider's cheap authenticated read; returns non-secret account facts (override to pick them)."""
        call = self.test_call()
        body = self.send_test_call()
        found = json_path(body, call.proves) if call.proves else None
        return {"checked": f"{call.method} {_path(call.path)}",
                **({call.proves: found} if isinstance(found, str | int) else {})}

    def rate_limit(self, response: httpx.Response) -> RateLimit | None:
        """Read the rate-limit headers the definition names (Retry-After first for the delay)."""
        limit, remaining, reset = executed.header_limits(self.definition().rate_limits, response.headers)
        if reset is None and limit is None and remaining is None:
            return None
        return RateLimit(limit=None if limit is None else int(limit),
                         remaining=None if remaining is None else int(remaining), reset_after=reset)

    def error_text(self, response: httpx.Response) -> tuple[str, str | None]:
        """The provider's error message and code, read at the definition's error paths (else raw text)."""
        return executed.error_text(self.definition(), response)

    def error_for(self, response: httpx.Response) -> AgentError | None:
        """Map a response to an error, or None when it is a success (a 2xx may carry one: ``in_200``)."""
        status = response.status_code
        if status < 300 and executed.error_in_200(self.definition(), response):
            text, code = self.error_text(response)
            return ProviderRejected(f"{self.provider} answered {status} with an error: {_clip(text)}",
                                    status=status, provider_code=code)
        if status < 400:
            return None
        text, code = self.error_text(response)
        message = f"{self.provider} answered {status}: {_clip(text)}"
        if status in (401, 403):
            return AuthError(message, status=status, provider_code=code)
        if status == 429:
            rl = self.rate_limit(response)
            delay = rl.reset_after if rl and rl.reset_after is not None \
                else self.definition().rate_limits.default_delay
            return RateLimited(message, retry_after=delay, status=status, provider_code=code)
        if status >= 500:
            return ProviderUnavailable(message, status=status, provider_code=code)
        return ProviderRejected(message, status=status, provider_code=code)

    # -- machinery -------------------------------------------------------------------------------
    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send one authenticated request; audit it; raise the mapped error on failure."""
        self.checkpoint()
        headers = {**self.auth_headers(), **kwargs.pop("headers", {})}
        if query := executed.auth_params(self.definition(), self.credentials):
            kwargs["params"] = {**(kwargs.get("params") or {}), **query}
        started = time.perf_counter()
        status: int | None = None
        rl: RateLimit | None = None
        outcome = "ok"
        try:
            try:
                response = self.http.request(method, path, headers=headers, **kwargs)
            except httpx.TimeoutException:
                outcome = "timeout"
                raise ProviderUnavailable(f"{self.provider} timed out on {method} {_path(path)}") from None
            except EgressRefused as exc:
                outcome = "egress_refused"
                raise ProviderRejected(f"{self.provider}: {exc}; the provider was not called") from None
            except httpx.TransportError as exc:
                outcome = "network_error"
                raise ProviderUnavailable(
                    f"{self.provider} unreachable on {method} {_path(path)}: {type(exc).__name__}") from None
            status = response.status_code
            rl = self.rate_limit(response)
            error = self.error_for(response)
            if error is not None:
                outcome = error.kind
                raise error
            return response
        finally:
            self.record(CallRecord(
                provider=self.provider, action=self.action, method=method, path=_path(path),
                status=status, duration_ms=(time.perf_counter() - started) * 1000, outcome=outcome,
                rate_limit=rl))

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        """:meth:`request` and decode its JSON body, or raise :class:`MalformedResponse`."""
        response = self.request(method, path, **kwargs)
        if response.status_code == 204 or not response.content:
            return {}
        try:
            return response.json()
        except ValueError:
            raise MalformedResponse(
                f"{self.provider} sent a body that is not JSON on {method} {_path(path)}",
                status=response.status_code) from None

    def paginate(self, path: str, params: Mapping[str, Any] | None = None, *, limit: int,
                 items: str | None = None, page_size: int | None = None) -> list[Any]:
        """Up to ``limit`` items of a list, page by page, the way the definition says lists page."""
        pg = self.definition().pagination
        if page_size is not None:
            pg = pg.model_copy(update={"page_size": page_size})
        key = pg.items if items is None else items
        out: list[Any] = []
        url: str | None = path
        position: Any = None
        while url is not None and len(out) < limit:
            size = min(pg.page_size, limit - len(out))
            query = executed.page_query(pg, params, size, position, len(out)) if url == path else None
            response = self.request("GET", url, **({"params": query} if query is not None else {}))
            body = executed.json_body(response)
            batch = json_path(body, key) if key else body
            if not isinstance(batch, list):
                raise MalformedResponse(f"{self.provider} answered GET {_path(path)} without a list at {key!r}")
            out.extend(batch)
            if not batch:
                break
            url, position = executed.next_page(pg, response, body, path, position, len(batch) < size)
        return out[:limit]

    def run(self, action: str, params: Any, steps: StepLog) -> Any:
        """Run the catalog action ``action`` with validated ``params``."""
        method = getattr(self, f"action_{action}", None)
        if method is None:
            raise IntegrationUnavailable(f"{self.provider} has no implementation of action {action!r}")
        self.action = action
        return method(params, steps)


@contextmanager
def expect_shape(provider: str, what: str) -> Iterator[None]:
    """Turn a KeyError/TypeError while reading a provider answer into :class:`MalformedResponse`."""
    try:
        yield
    except (KeyError, TypeError, IndexError, ValueError) as exc:
        raise MalformedResponse(f"{provider} answered {what} without the expected field "
                                f"({type(exc).__name__}: {_clip(str(exc), 80)})") from None


def check_credential_fields(provider: str, credentials: Mapping[str, str]) -> None:
    """Refuse credentials whose non-secret fields break the catalog's declared patterns.

    The API checks the same patterns at configure; checking again here covers values written to Vault
    any other way (an older API, a token response, an operator) before one of them chooses a host.
    """
    problems: dict[str, str] = {}
    for spec in provider_specs(provider):
        secret = spec.secret_fields
        values = {k: v for k, v in credentials.items() if k not in secret and isinstance(v, str)}
        problems.update(spec.credential_problems(values))
    if problems:
        detail = "; ".join(f"{name} {why}" for name, why in sorted(problems.items()))
        raise InvalidCredentials(f"{provider} credentials refused: {detail}; configure the integration again")


def provider_specs(provider: str) -> list[IntegrationSpec]:
    """Every catalog integration served by ``provider`` (they share credential fields)."""
    return provider_integrations(provider)


def _path(path: str) -> str:
    """The path of a URL or path, without its query string."""
    return httpx.URL(path).path if "://" in path else path.split("?", 1)[0]


def _clip(text: str, limit: int = MAX_ERROR_TEXT) -> str:
    text = redact_text(" ".join(text.split()))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def require(mapping: Mapping[str, Any], key: str, provider: str, what: str) -> Any:
    """``mapping[key]`` or a :class:`MalformedResponse` naming what was missing."""
    if not isinstance(mapping, Mapping) or key not in mapping:
        raise MalformedResponse(f"{provider} answered {what} without {key!r}")
    return mapping[key]
