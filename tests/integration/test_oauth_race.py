"""Two worker processes find the same expired OAuth token: one refresh, both calls succeed, and the
(rotated) refresh token stored in Vault still works afterwards."""

from __future__ import annotations

import multiprocessing
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import hvac
import httpx
import pytest

from config.catalog import agents
from tests.integration.oauth_racer import race
from tests.providers.cases import all_cases
from tests.stack import serve_simulator

CASES = [c for c in all_cases() if c.token_path and "refresh_token" in c.good]


@pytest.fixture(scope="module")
def simulator() -> Iterator[object]:
    """A simulator of this module's own: the test counts the token calls it receives, and the session's
    simulator also serves the shared stack's in-process worker, whose jobs may refresh a token there."""
    yield from serve_simulator()


def _agent_of(spec_id: str) -> str:
    return next(a.id for a in agents() for i in a.integrations if i.id == spec_id)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_concurrent_refresh_from_two_processes_refreshes_once(case, vault_server, state_dir: Path,  # type: ignore[no-untyped-def]
                                                              simulator) -> None:
    agent, workspace = _agent_of(case.spec.id), f"race-{uuid.uuid4().hex[:8]}"
    admin = hvac.Client(url=vault_server.addr, token=vault_server.root_token)
    path = f"agents/{agent}/tenants/{workspace}/{case.spec.id}"
    admin.secrets.kv.v2.create_or_update_secret(
        path=path, secret={**case.good, "access_token": "expired-token", "expires_at": "1"})
    httpx.post(f"{simulator.url}/_sim/reset").raise_for_status()
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Manager().Barrier(2)
    redis_url = os.environ["SINTRA_REDIS_URL"]
    with ctx.Pool(2) as pool:
        args = (case.id, simulator.url, vault_server.addr, str(state_dir / "vault"), redis_url, workspace, agent,
                barrier)
        tokens = pool.starmap(race, [args, args], chunksize=1)
    calls = httpx.get(f"{simulator.url}/_sim/calls", params={"provider": case.spec.provider}).json()
    refreshes = [c for c in calls if c["method"] == "POST" and c["path"] == case.token_path]
    assert len(refreshes) == 1, refreshes
    assert tokens[0] == tokens[1] != "expired-token"
    stored = admin.secrets.kv.v2.read_secret_version(path=path, raise_on_deleted_version=True)["data"]
    assert stored["data"]["access_token"] == tokens[0] and stored["metadata"]["version"] == 2
    # the stored (possibly rotated) refresh token still refreshes: the connection is not lost
    admin.secrets.kv.v2.create_or_update_secret(path=path, secret={**stored["data"], "expires_at": "1"})
    single = ctx.Manager().Barrier(1)
    assert race(case.id, simulator.url, vault_server.addr, str(state_dir / "vault"), redis_url, workspace, agent,
                single) != tokens[0]
