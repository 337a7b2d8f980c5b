"""One racer of the OAuth refresh race: a separate process with its own Vault login and Redis client."""

from __future__ import annotations

from typing import Any


def race(case_id: str, sim_url: str, vault_addr: str, approle_dir: str, redis_url: str, workspace: str,
         agent: str, barrier: Any) -> str:
    """Load credentials from Vault, wait for the other racer, then make a call that needs a refresh."""
    import json
    from pathlib import Path

    import httpx
    import redis

    from tests.providers.cases import all_cases
    from workers.credentials.refresh import StoredRefresher
    from workers.credentials.vault import VaultCredentialSource
    from workers.providers.base import MemorySteps
    from workers.vault.client import VaultSession

    case = next(c for c in all_cases() if c.id == case_id)
    ids = json.loads((Path(approle_dir) / f"{agent}.json").read_text())
    source = VaultCredentialSource(VaultSession(vault_addr, ids["role_id"], ids["secret_id"]))
    creds = source.get(workspace=workspace, agent=agent, integration=case.spec.id,
                       secret_fields=case.spec.secret_fields)
    refresher = StoredRefresher(source, redis.Redis.from_url(redis_url), workspace, agent, case.spec.id)
    client = case.client(http=httpx.Client(base_url=sim_url + case.sim_prefix, timeout=20), credentials=creds,
                         refresher=refresher, token_url=sim_url + case.token_path)  # type: ignore[call-arg]
    action, params = case.probe
    barrier.wait(timeout=30)
    client.run(action, case.spec.action(action).params.model_validate(params), MemorySteps())
    return str(client.credentials["access_token"])
