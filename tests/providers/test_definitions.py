"""Every provider's base path, token path and test-connection call come from its definition alone."""

from __future__ import annotations

import contextlib
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from config.catalog import agents
from config.providers import definition, definitions, root_base_path, root_token_path
from workers.credentials.base import Credentials
from tests.providers.cases import all_cases
from workers.providers import client_class
from workers.providers.base import ProviderClient
from workers.providers.oauth import OAuth2Client

ROOT = Path(__file__).resolve().parents[2]
PROVIDERS = sorted(definitions())


def _facts(provider: str) -> list[str]:
    """The strings that may be written only in the definition: real base/token URLs and their root paths."""
    d = definition(provider)
    out = [d.base_url] + ([d.token.url] if d.token else [])
    if d.base_path:  # "/x" alone is just the provider's name, not a fact about its API
        out.append(root_base_path(provider))
    if (token := root_token_path(provider)) is not None:
        out.append(token)
    return out


def test_every_catalog_provider_has_a_definition_and_every_definition_is_used() -> None:
    assert {i.provider for a in agents() for i in a.integrations} == set(PROVIDERS)


def test_base_and_token_urls_are_written_only_in_the_definitions() -> None:
    files = subprocess.run(["git", "ls-files", "*.py", "*.yml", "*.md"], cwd=ROOT, capture_output=True,
                           text=True, check=True).stdout.split()
    texts = {f: (ROOT / f).read_text(errors="replace") for f in files
             if not f.startswith("config/providers/") and (ROOT / f).is_file()}
    found = {(p, fact, f) for p in PROVIDERS for fact in _facts(p) for f, text in texts.items() if fact in text}
    assert not found, "provider facts copied outside config/providers: " + "; ".join(sorted(map(str, found)))


def _credentials(provider: str) -> Credentials:
    """The conformance cases' working credentials of the provider, with a fresh access token."""
    cases = [c for c in all_cases() if c.spec.provider == provider]
    values = {k: v for c in cases for k, v in c.good.items()}
    values.update(access_token=values.get("access_token") or "tok", expires_at=str(int(time.time()) + 3600))
    return Credentials(values, secret_fields=frozenset().union(*(c.spec.secret_fields for c in cases)))


@pytest.mark.parametrize("provider", PROVIDERS)
def test_the_test_connection_request_is_the_definitions_call(provider: str) -> None:
    cls = client_class(provider)
    assert cls is not None, f"{provider} has a definition but no client"
    creds = _credentials(provider)
    d = definition(provider)
    call = d.test_call({k for k, v in creds.items() if v})
    base = cls.fill_base_url(d.base_url, creds)
    sent: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={})

    http = httpx.Client(base_url=base, transport=httpx.MockTransport(answer))
    client = cls(http=http, credentials=creds)
    with contextlib.suppress(Exception):  # an empty answer may not satisfy the client; only the request matters
        client.test_connection()
    assert sent, f"{provider} sent no request"
    first = sent[0]
    values = {k: v for k, v in creds.items() if k not in creds.secret_fields}
    target = d.token.url if call.token and d.token else call.path
    expected = httpx.URL(target.format(**values) if "://" in target else base + target.format(**values))
    assert (first.method, first.url.path) == (call.method, expected.path), provider
    assert all(first.url.params.get(k) == v.format(**values) for k, v in call.params.items()), first.url


#: Clients that still override a hook the definition executes, each with the reason no definition field can
#: say it. A new override fails the test below until it is listed here with its reason (or moved into the
#: provider's definition, which is where a provider fact belongs).
ALLOWED_OVERRIDES: dict[tuple[str, str], str] = {
    ("amplitude", "auth_headers"): "no credentials towards a pre-signed S3 download link",
    ("facebook", "error_text"): "Graph type, code and subcode in one text (GraphClient)",
    ("facebook", "rate_limit"): "Meta's usage percentages come in JSON headers (GraphClient)",
    ("instagram", "error_text"): "Graph type, code and subcode in one text (GraphClient)",
    ("instagram", "rate_limit"): "Meta's usage percentages come in JSON headers (GraphClient)",
    ("google_analytics", "error_text"): "the code is Google's first errors[].reason (GoogleClient)",
    ("google_search_console", "error_text"): "the code is Google's first errors[].reason (GoogleClient)",
    ("hubspot", "error_text"): "category, sub-errors and the correlationId support asks for",
    ("hubspot", "rate_limit"): "the window's interval in ms is the delay once remaining is 0; daily pair",
    ("linkedin", "rate_limit"): "no headers: a 429 without Retry-After waits for midnight UTC",
    ("pipedrive", "error_text"): "error_info appended unless it is only a docs link",
    ("salesforce", "error_text"): "every entry of the error list, with its fields",
    ("salesforce", "rate_limit"): "Sforce-Limit-Info: api-usage=used/max",
    ("semrush", "error_text"): "plain-text 'ERROR nn :: TEXT' answers",
    ("tiktok", "error_text"): "the envelope code with the request_id support asks for",
    ("x", "error_text"): "the code is the last segment of a problem type, or the v1.1 code",
    ("zendesk", "error_text"): "field errors keyed by field name in one of three shapes",
}
HOOKS = ("error_text", "rate_limit", "auth_headers")


def _overrides(cls: type[ProviderClient]) -> set[tuple[str, str]]:
    """The hooks a client class (or a shared base of it) defines again instead of the base client."""
    return {(cls.provider, hook) for hook in HOOKS
            if next(k for k in cls.__mro__ if hook in vars(k)) not in (ProviderClient, OAuth2Client)}


def test_generic_hooks_are_overridden_only_with_a_listed_reason() -> None:
    found = set().union(*(_overrides(cls) for p in PROVIDERS if (cls := client_class(p)) is not None))
    unlisted = sorted(found - set(ALLOWED_OVERRIDES))
    assert not unlisted, ("these clients override what the definition executes; move the fact into the "
                          f"definition or list the override with its reason in ALLOWED_OVERRIDES: {unlisted}")
    stale = sorted(set(ALLOWED_OVERRIDES) - found)
    assert not stale, f"ALLOWED_OVERRIDES lists overrides that are gone: {stale}"


def test_the_override_check_sees_an_override_in_a_shared_base() -> None:
    """A client that re-parses errors in a base class of its own is caught like one that does it itself."""

    class SharedBase(ProviderClient):
        def error_text(self, response: httpx.Response) -> tuple[str, str | None]:
            return response.text, None

    class Sneaky(SharedBase):
        provider = "brevo"

    assert _overrides(Sneaky) == {("brevo", "error_text")}
    assert _overrides(client_class("brevo") or Sneaky) == set()
