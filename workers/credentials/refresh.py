"""Single-flight OAuth token refresh across worker processes.

Providers that rotate refresh tokens break if two processes refresh at once (VAULT.md §1). So a
refresh takes a Redis lock per integration, re-reads the credentials from Vault after taking it (a
racer may already have refreshed), calls the provider only if still needed, and writes the result
back with check-and-set on the version it read. A losing racer never deletes or overwrites.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from config.logging import register_secrets
from workers.credentials.base import Credentials, CredentialSource

#: How long one refresh may hold the lock (ms) and how long a racer waits for it (s).
LOCK_TTL_S = 30
LOCK_WAIT_S = 35


class Refresher(Protocol):
    """Replaces an integration's credentials with refreshed ones."""

    def refresh(self, current: Credentials, fetch: Callable[[Credentials], Mapping[str, str]], *,
                is_fresh: Callable[[Credentials], bool]) -> Credentials:
        """Return credentials for which ``is_fresh`` holds, calling ``fetch`` at most once overall."""
        ...


class LocalRefresher:
    """Refresh in memory only (one process, nothing stored): unit tests and connection checks."""

    def __init__(self) -> None:
        self.refreshes = 0

    def refresh(self, current: Credentials, fetch: Callable[[Credentials], Mapping[str, str]], *,
                is_fresh: Callable[[Credentials], bool]) -> Credentials:
        self.refreshes += 1
        values = {**current, **fetch(current)}
        register_secrets(values[k] for k in current.secret_fields if values.get(k))
        return Credentials(values, secret_fields=current.secret_fields, version=current.version)


@dataclass
class StoredRefresher:
    """Refresh under a Redis lock, re-reading from and writing back to the credential source (Vault)."""

    source: CredentialSource
    redis: Any
    workspace: str
    agent: str
    integration: str

    @property
    def lock_name(self) -> str:
        """The Redis key of this integration's refresh lock."""
        return f"sintra:lock:oauth:{self.workspace}:{self.agent}:{self.integration}"

    def refresh(self, current: Credentials, fetch: Callable[[Credentials], Mapping[str, str]], *,
                is_fresh: Callable[[Credentials], bool]) -> Credentials:
        with self.redis.lock(self.lock_name, timeout=LOCK_TTL_S, blocking_timeout=LOCK_WAIT_S):
            latest = self.source.get(workspace=self.workspace, agent=self.agent, integration=self.integration,
                                     secret_fields=current.secret_fields)
            if latest.version != current.version and is_fresh(latest):
                return latest  # another process refreshed while we waited for the lock
            values = {**latest, **fetch(latest)}
            register_secrets(values[k] for k in latest.secret_fields if values.get(k))
            version = self.source.update(workspace=self.workspace, agent=self.agent,
                                         integration=self.integration, values=values, cas=latest.version)
            return Credentials(values, secret_fields=latest.secret_fields, version=version)
