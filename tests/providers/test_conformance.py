"""One suite, parametrized over every implemented provider, against the simulator over real HTTP.

Covers: test connection with a good and a bad key; each action's happy path; 401 -> auth error and
no retry; 429 -> rate limited with the provider's delay, retried; 5xx -> retried; a malformed answer
-> a clear error; a crash between "created" and "recorded" -> the retry creates nothing twice; and
OAuth access tokens refreshed on expiry and on a 401.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from config.catalog import agents
from tests.providers.cases import ProviderCase, all_cases
from workers.credentials.base import Credentials
from workers.errors import AuthError, MalformedResponse, ProviderUnavailable, RateLimited
from workers.providers import client_class
from workers.providers.base import MemorySteps, ProviderClient
from workers.providers.oauth import OAuth2Client
from workers.runner import will_retry

CASES = all_cases()
IDS = [c.id for c in CASES]


class SimulatedCrash(Exception):
    """The worker died right after the provider created something, before it was recorded."""


class CrashingSteps(MemorySteps):
    """A step log that records intents but crashes on the first result it should record."""

    def put(self, key: str, value: Any) -> None:
        if key.startswith("intent:"):
            return super().put(key, value)
        raise SimulatedCrash(key)


def make(case: ProviderCase, sim: Any, creds: dict[str, str], **kw: Any) -> ProviderClient:
    """A real client of ``case`` pointed at the simulator."""
    http = httpx.Client(base_url=sim.url + case.sim_prefix, timeout=10)
    extra: dict[str, Any] = {}
    if issubclass(case.client, OAuth2Client) and case.token_path:
        extra["token_url"] = sim.url + case.token_path
    return case.client(http=http, credentials=Credentials(creds, secret_fields=case.spec.secret_fields),
                       **extra, **kw)


def run(case: ProviderCase, client: ProviderClient, action: str, params: Any, steps: Any = None) -> Any:
    if callable(params):
        params = params(client)
    return client.run(action, case.spec.action(action).params.model_validate(params), steps or MemorySteps())


def test_every_implemented_integration_has_a_case() -> None:
    implemented = {(i.provider, i.id) for a in agents() for i in a.integrations if i.implemented}
    assert implemented == {(c.spec.provider, c.spec.id) for c in CASES}
    for case in CASES:
        assert client_class(case.spec.provider) is case.client


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_case_covers_every_available_action(case: ProviderCase) -> None:
    available = {a.name for a in case.spec.actions if not a.restricted}
    assert set(case.actions) == available
    if any(a.side_effect for a in case.spec.actions if not a.restricted):
        assert case.create and case.count_created, "a provider with side effects needs the crash test"


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_connection_accepts_a_good_key_and_rejects_a_bad_one(case: ProviderCase, sim: Any) -> None:
    assert make(case, sim, case.good).test_connection()
    with pytest.raises(AuthError):
        make(case, sim, case.bad).test_connection()


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_every_action_happy_path(case: ProviderCase, sim: Any) -> None:
    client = make(case, sim, case.good)
    for action, params in case.actions.items():
        result = run(case, client, action, params)
        assert result is not None, action
        if action in case.checks:
            assert case.checks[action](result) is not False, action


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_401_is_an_auth_error_and_not_retried(case: ProviderCase, sim: Any) -> None:
    sim.fault(case.spec.provider, 401, times=3, path=case.sim_prefix)
    with pytest.raises(AuthError) as err:
        run(case, make(case, sim, case.good), *case.probe)
    assert not will_retry(0, err.value, 5)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_429_is_retried_after_the_providers_delay(case: ProviderCase, sim: Any) -> None:
    sim.fault(case.spec.provider, 429, path=case.sim_prefix, retry_after=case.retry_after)
    client = make(case, sim, case.good)
    with pytest.raises(RateLimited) as err:
        run(case, client, *case.probe)
    assert will_retry(0, err.value, 5)
    assert err.value.retry_after == pytest.approx(case.retry_after, abs=1.5)
    assert run(case, client, *case.probe) is not None  # the retry goes through


@pytest.mark.parametrize("case", CASES, ids=IDS)
@pytest.mark.parametrize("status", [500, 503])
def test_5xx_is_transient_and_retried(case: ProviderCase, sim: Any, status: int) -> None:
    sim.fault(case.spec.provider, status, path=case.sim_prefix)
    client = make(case, sim, case.good)
    with pytest.raises(ProviderUnavailable) as err:
        run(case, client, *case.probe)
    assert will_retry(0, err.value, 5)
    assert run(case, client, *case.probe) is not None


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_malformed_response_is_a_clear_error(case: ProviderCase, sim: Any) -> None:
    sim.fault(case.spec.provider, 200, path=case.sim_prefix, body="<html>oops</html>")
    with pytest.raises(MalformedResponse) as err:
        run(case, make(case, sim, case.good), *case.probe)
    assert case.spec.provider in str(err.value)


@pytest.mark.parametrize("case", [c for c in CASES if c.create], ids=[c.id for c in CASES if c.create])
def test_retry_after_crash_between_created_and_recorded_creates_nothing_twice(case: ProviderCase,
                                                                                sim: Any) -> None:
    assert case.create and case.count_created
    action, params = case.create
    client = make(case, sim, case.good)
    crashing = CrashingSteps()
    with pytest.raises(SimulatedCrash):
        run(case, client, action, params, crashing)
    retry = MemorySteps(values=dict(crashing.values), marker=crashing.marker)  # same job; only intents kept
    run(case, make(case, sim, case.good), action, params, retry)
    assert case.count_created(make(case, sim, case.good), params) == 1


OAUTH = [c for c in CASES if issubclass(c.client, OAuth2Client)]


@pytest.mark.parametrize("case", OAUTH, ids=[c.id for c in OAUTH])
def test_expired_access_token_is_refreshed_before_the_call(case: ProviderCase, sim: Any) -> None:
    creds = {**case.good, "access_token": "expired-token", "expires_at": "1"}
    client = make(case, sim, creds)
    assert run(case, client, *case.probe) is not None
    assert client.credentials["access_token"] != "expired-token"
    assert len(sim.calls(case.spec.provider, "POST", path=case.token_path)) == 1


@pytest.mark.parametrize("case", OAUTH, ids=[c.id for c in OAUTH])
def test_401_triggers_one_refresh_and_a_replay(case: ProviderCase, sim: Any) -> None:
    sim.fault(case.spec.provider, 401, path=case.sim_prefix, times=1)
    client = make(case, sim, case.good)
    assert run(case, client, *case.probe) is not None
    assert len(sim.calls(case.spec.provider, "POST", path=case.token_path)) == 1
