"""The simulator answers auth failures and throttles the way each provider's definition says.

Providers come from the catalog, never a list: for each, a request carrying a bad credential sent the
way the definition's ``auth`` says (read by the worker's own executor, so client and simulator agree)
gets the definition's error shape (a message at one of its ``errors`` paths), and an injected 429 carries
the definition's rate-limit headers in their unit, plus Retry-After where the definition honours it.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from config.catalog import agents
from config.providers import definition, placeholders, root_path
from simulator.generic import Sim
from simulator.server import SimulatorServer, start_in_thread
from simulator.urls import BASES
from workers.providers._definition import auth_headers, auth_params, error_in_200, error_text, reset_delay

PROVIDERS = sorted({i.provider for a in agents() for i in a.integrations})
#: Providers whose real API answers a throttle with another status (a documented wire format):
#: Salesforce's 403 REQUEST_LIMIT_EXCEEDED, TikTok's HTTP 200 with code 40100.
THROTTLE_STATUS = {"salesforce": 403, "tiktok": 200}
DELAY = 7.0


@pytest.fixture(scope="module")
def server() -> Iterator[SimulatorServer]:
    """A real simulator over HTTP."""
    running = start_in_thread()
    yield running
    running.stop()


@pytest.fixture
def http(server: SimulatorServer) -> Iterator[httpx.Client]:
    """A client of the simulator, reset first."""
    with httpx.Client(base_url=server.url, timeout=10) as client:
        client.post("/_sim/reset").raise_for_status()
        yield client


def bad_credentials(provider: str) -> dict[str, str]:
    """Every field the definition's auth, headers and test call read, each a refused ``bad`` value."""
    d = definition(provider)
    names = set(d.auth.fields) | {n for t in d.headers.values() for n in placeholders(t)}
    for call in d.test_connection:
        names |= placeholders(call.path) | {n for v in call.params.values() for n in placeholders(v)}
    return {n: f"bad-{n}-0001" for n in names}


def probe(provider: str) -> tuple[str, str, dict[str, str]]:
    """An auth-checked request: the module's ``AUTH_PROBE`` (a GET) where the test call is not one (a
    token request, a plain-text answer), else the definition's test call."""
    module = importlib.import_module(f"simulator.providers.{provider}")
    if hasattr(module, "AUTH_PROBE"):
        return "GET", module.AUTH_PROBE, {}
    call = definition(provider).test_connection[0]
    creds = bad_credentials(provider)
    path = call.path.format(**creds)
    where = root_path(provider, path) if path.startswith("https://") else BASES[provider] + path
    return call.method, where, {k: v.format(**creds) for k, v in call.params.items()}


def assert_error_shape(provider: str, response: httpx.Response) -> None:
    """The body has a message at one of the definition's ``errors`` paths (or is one, in plain text)."""
    d = definition(provider)
    message, _code = error_text(d, response)
    assert message, f"{provider}: empty error"
    if response.headers.get("content-type", "").startswith("text/plain"):
        assert d.errors.plain_text, f"{provider}: a plain-text error where the definition says JSON"
    else:
        assert message != response.text, f"{provider}: no message at {d.errors.message}: {response.text}"


@pytest.mark.parametrize("provider", PROVIDERS)
def test_bad_credential_gets_the_definitions_error_shape(provider: str, http: httpx.Client) -> None:
    d, creds = definition(provider), bad_credentials(provider)
    method, path, params = probe(provider)
    response = http.request(method, path, params=params | auth_params(d, creds), headers=auth_headers(d, creds))
    # 401, or Graph's 400 with code 190, or an error inside a 200 where the definition says so (TikTok)
    assert response.status_code in (400, 401) or error_in_200(d, response), (provider, response.status_code)
    assert_error_shape(provider, response)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_injected_429_carries_the_definitions_rate_limit_headers(provider: str, http: httpx.Client) -> None:
    limits = definition(provider).rate_limits
    http.post("/_sim/faults", json={"provider": provider, "status": 429, "retry_after": DELAY}).raise_for_status()
    response = http.get(BASES[provider] + "/anything")
    assert response.status_code == THROTTLE_STATUS.get(provider, 429)
    assert_error_shape(provider, response)
    if provider in THROTTLE_STATUS:
        return
    for names in (limits.limit, limits.remaining, limits.reset):
        assert not names or names[0] in response.headers, (provider, names[0], dict(response.headers))
    if limits.remaining:
        assert response.headers[limits.remaining[0]] == "0"
    assert reset_delay(limits, response.headers, now=time.time()) == pytest.approx(DELAY, abs=1.5)
    sim: Any = getattr(importlib.import_module(f"simulator.providers.{provider}"), "SIM", None)
    if isinstance(sim, Sim):  # the generic layer: Retry-After exactly where the definition honours it
        assert ("retry-after" in response.headers) == (limits.retry_after and sim.retry_after_header)
