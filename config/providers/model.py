"""The shape of a provider definition: every fact about a provider's HTTP API, written once.

Modelled on Nango's ``providers.yaml``: base URL template, how auth is sent, the token endpoint, the
rate-limit headers, the error shape, the pagination style, the test-connection call and the docs. The
worker's base client executes these fields (``workers/providers/base.py``); the simulator derives its
routes from them; settings derive every provider URL from one root. Definitions validate when they are
built (H6), so a broken one fails at import.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable
from typing import Literal

from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, model_validator

_ID = re.compile(r"^[a-z][a-z0-9_]*$")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def placeholders(template: str) -> set[str]:
    """The ``{names}`` of a URL or header template."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


class Auth(_Frozen):
    """How a request is authenticated.

    ``bearer``/``header``/``oauth2``: the credential ``field`` goes in ``header`` after ``scheme``
    (``oauth2`` also refreshes it at the token endpoint); ``basic``: ``username``/``password`` templates
    of credential fields; ``query``: the field goes in the ``param`` query parameter.
    """

    mode: Literal["bearer", "basic", "header", "query", "oauth2"]
    field: str = "api_key"
    header: str = "Authorization"
    scheme: str = "Bearer"
    username: str = ""
    password: str = ""
    param: str = ""

    @model_validator(mode="after")
    def _check(self) -> Auth:
        if self.mode == "basic" and not (self.username and self.password):
            raise ValueError("basic auth needs username and password templates")
        if self.mode == "query" and not self.param:
            raise ValueError("query auth needs the param name")
        return self

    @classmethod
    def key_header(cls, header: str, field: str = "api_key") -> Auth:
        """The credential sent as is in its own header (``X-API-Key: <key>``), the commonest API-key scheme."""
        return cls(mode="header", field=field, header=header, scheme="")

    @property
    def fields(self) -> set[str]:
        """Credential fields the auth reads."""
        if self.mode == "basic":
            return placeholders(self.username) | placeholders(self.password)
        return {self.field}


class Token(_Frozen):
    """The OAuth 2.0 token endpoint and the shape of its refresh request."""

    url: str
    #: Where the client id/secret go: the form body or HTTP Basic.
    client_auth: Literal["body", "basic"] = "body"
    grant_type: str = "refresh_token"
    #: Non-secret fields of the token answer stored beside the access token (e.g. ``instance_url``).
    extra_fields: tuple[str, ...] = ()
    #: Days after which a refresh token lapses when unused (the health check refreshes it before).
    idle_expiry_days: int | None = None


class RateLimits(_Frozen):
    """Rate-limit headers (lower case) and what to wait when a 429 says nothing."""

    limit: tuple[str, ...] = ("x-ratelimit-limit",)
    remaining: tuple[str, ...] = ("x-ratelimit-remaining",)
    reset: tuple[str, ...] = ()
    #: What the reset header holds: seconds to wait, an epoch second, or milliseconds to wait.
    reset_unit: Literal["seconds", "epoch", "ms"] = "seconds"
    retry_after: bool = True
    #: Seconds a 429 without any delay header waits.
    default_delay: float = 30.0


#: For APIs that send no limit/remaining headers (only Retry-After, if anything).
NO_LIMIT_HEADERS = RateLimits(limit=(), remaining=())
#: The fixed header of APIs that answer JSON only when asked to.
ACCEPT_JSON = {"Accept": "application/json"}


class ErrorIn200(_Frozen):
    """An error reported inside a 2xx body: the value at ``path`` is not one of ``ok`` (or is in ``error``)."""

    path: str
    ok: tuple[str, ...] = ()
    error: tuple[str, ...] = ()

    def failed(self, value: object) -> bool:
        """Whether the value found at ``path`` means an error."""
        if value is None:
            return False
        text = str(value).lower()
        return text in self.error if self.error else text not in self.ok


class Errors(_Frozen):
    """JSON paths (dotted; ``[0]`` for a list's first item) of an error body's message and code."""

    message: tuple[str, ...] = ("message",)
    code: tuple[str, ...] = ()
    in_200: ErrorIn200 | None = None
    #: Some error answers are plain text, the whole body being the message (Amplitude, Semrush reports).
    plain_text: bool = False
    #: Shown as ``code: message`` (the code names the error better than the text alone, e.g. Brevo's).
    code_prefix: bool = False
    #: Path of a list of field errors, each shown as ``<detail_field>: <detail_message>`` (or as itself
    #: when a string), joined by ``; `` after the message; message paths inside that list are not repeated.
    details: str = ""
    detail_field: str = "field"
    detail_message: str = "message"


class Pagination(_Frozen):
    """How lists page: a cursor, an offset, a page number or a next link, with param names and page size."""

    style: Literal["cursor", "offset", "page", "next_link", "none"] = "none"
    limit_param: str = "limit"
    cursor_param: str = ""
    #: JSON path of the next cursor / next link, and of the items.
    next: str = ""
    items: str = "data"
    page_size: int = 100
    #: JSON path of a "has more" flag: when set and false, the list ends even though a cursor came back.
    more: str = ""


class TestCall(_Frozen):
    """The cheap authenticated call that proves credentials work.

    ``path`` is relative to the base URL (or absolute, for a call on another host); ``params`` are query
    parameters (templates of credential fields); ``proves`` is the JSON path whose presence shows the
    account answered; ``token`` marks a client-credentials provider whose test is the token request;
    ``requires`` lists credential fields that must be set for this call to be the one used.
    """

    __test__ = False  # not a pytest class

    method: Literal["GET", "POST"] = "GET"
    path: str = ""
    params: dict[str, str] = Field(default_factory=dict)
    proves: str = ""
    token: bool = False
    requires: tuple[str, ...] = ()
    description: str = ""


class LongLived(_Frozen):
    """A second exchange that trades the short-lived token of the code exchange for a long-lived one (Meta).

    ``GET url?grant_type=<grant_type>&<token_param>=<short token>`` plus the client secret (and the client
    id when ``client_id``): Facebook's ``fb_exchange_token`` (60 days), Instagram's ``ig_exchange_token``.
    """

    url: str
    grant_type: str
    token_param: str
    client_id: bool = True


class OAuthFlow(_Frozen):
    """The OAuth 2.0 authorization-code flow of a provider: consent page, scopes, PKCE, code exchange.

    ``scopes`` are asked for by every integration of the provider; ``action_scopes`` adds what one action
    needs, so the authorize URL asks for exactly what the integration's actions use. The exchange goes to
    ``exchange_url`` (default: the definition's token URL) with the code under ``code_param`` and the
    client id under ``client_id_param`` (TikTok's authorize URL says ``client_key``); ``answer_path`` is
    where the tokens sit in the answer (TikTok's ``data`` envelope); ``answer_fields`` maps answer fields
    to credential fields kept beside the tokens (Salesforce's ``instance_url``, Instagram's user id).
    ``host_field`` is a configured credential field whose origin replaces the URLs' (Salesforce My Domain).
    """

    authorize_url: str
    #: The name on the consent screen and the console's button ("Connect with Google").
    label: str = ""
    scopes: tuple[str, ...] = ()
    action_scopes: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    scope_separator: str = " "
    #: "S256": the authorize URL carries a code challenge and the exchange the verifier (X requires it).
    pkce: Literal["S256", "none"] = "none"
    client_id_param: str = "client_id"
    #: Fixed authorize parameters (Google: ``access_type=offline`` and ``prompt=consent`` for a refresh token).
    extra_params: dict[str, str] = Field(default_factory=dict)
    exchange_url: str = ""
    exchange_method: Literal["POST", "GET"] = "POST"
    exchange_format: Literal["form", "json"] = "form"
    #: Where the client id/secret go in the exchange (None: as the token endpoint's refresh does).
    client_auth: Literal["body", "basic"] | None = None
    exchange_client_id_param: str = "client_id"
    code_param: str = "code"
    answer_path: str = ""
    answer_fields: dict[str, str] = Field(default_factory=dict)
    long_lived: LongLived | None = None
    host_field: str = ""

    def scopes_for(self, actions: Iterable[str]) -> list[str]:
        """The scopes an integration with ``actions`` asks for: the common ones, then each action's, once."""
        out = list(self.scopes)
        for action in actions:
            out += [s for s in self.action_scopes.get(action, ()) if s not in out]
        return out


class ProviderDefinition(_Frozen):
    """Everything about one provider's API that is not an action: written once, executed by the client."""

    id: str
    name: str
    #: Base URL of the real API; may hold ``{credential_field}`` placeholders (subdomain, dc, instance_url).
    base_url: str
    auth: Auth
    #: Headers sent on every request (templates; one whose field is unset is left out).
    headers: dict[str, str] = Field(default_factory=dict)
    token: Token | None = None
    rate_limits: RateLimits = RateLimits()
    errors: Errors = Errors()
    pagination: Pagination = Pagination()
    #: Tried in order: the first whose ``requires`` fields are all set is the test call.
    test_connection: tuple[TestCall, ...]
    docs_url: str
    #: Per-integration docs when one provider serves several integrations (integration id -> URL).
    integration_docs: dict[str, str] = Field(default_factory=dict)
    #: The authorization-code flow ("Connect with <provider>"), for providers whose users consent.
    oauth: OAuthFlow | None = None

    @model_validator(mode="after")
    def _check(self) -> ProviderDefinition:
        if not _ID.match(self.id):
            raise ValueError(f"provider id {self.id!r} must match {_ID.pattern}")
        if (self.auth.mode == "oauth2") != (self.token is not None):
            raise ValueError(f"{self.id}: oauth2 auth and a token endpoint go together")
        if not self.test_connection:
            raise ValueError(f"{self.id}: a provider needs a test-connection call")
        if self.oauth is not None and not (self.oauth.exchange_url or self.token):
            raise ValueError(f"{self.id}: an OAuth flow needs an exchange URL or a token endpoint")
        for url in (self.docs_url, *self.integration_docs.values()):
            if not url.startswith("https://"):
                raise ValueError(f"{self.id}: docs URL {url!r} must be https")
        return self

    @property
    def base_path(self) -> str:
        """The path of the real base URL (``/v3`` of ``https://api.ahrefs.com/v3``), without a trailing slash."""
        return _path_of(self.base_url)

    @property
    def token_path(self) -> str | None:
        """The path of the token endpoint, or None without one."""
        return _path_of(self.token.url, keep_slash=True) if self.token else None

    @property
    def exchange_url(self) -> str:
        """Where the authorization code is exchanged (the flow's own URL, else the token endpoint)."""
        assert self.oauth is not None
        return self.oauth.exchange_url or (self.token.url if self.token else "")

    def docs_for(self, integration_id: str) -> str:
        """The docs URL of one integration of this provider."""
        return self.integration_docs.get(integration_id, self.docs_url)

    def test_call(self, present: set[str]) -> TestCall:
        """The test-connection call for credentials whose set fields are ``present``."""
        return next((c for c in self.test_connection if set(c.requires) <= present), self.test_connection[-1])


def _path_of(url: str, *, keep_slash: bool = False) -> str:
    """The path part of an absolute URL template (a leading ``{placeholder}`` stands for the origin)."""
    path = url[url.index("}") + 1:] if url.startswith("{") else urlsplit(url).path
    return path if keep_slash else path.rstrip("/")
