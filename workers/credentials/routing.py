"""Route each agent's credential reads through that agent's own AppRole identity."""

from __future__ import annotations

import threading
from collections.abc import Mapping

from config.settings import Settings
from workers.credentials.base import Credentials
from workers.errors import PermanentError


class PerAgentCredentials:
    """A CredentialSource that logs in to Vault as the job's agent (and, if ``only`` is set, no other)."""

    def __init__(self, settings: Settings, *, only: str | None = None) -> None:
        self.settings = settings
        self.only = only or None
        self._sources: dict[str, object] = {}
        self._lock = threading.Lock()

    def _source(self, agent: str):
        if self.only and agent != self.only:
            raise PermanentError(f"this worker serves agent {self.only!r}, not {agent!r}")
        with self._lock:
            src = self._sources.get(agent)
            if src is None:
                from workers.credentials.vault import VaultCredentialSource
                from workers.vault.client import VaultSession

                src = VaultCredentialSource(VaultSession.from_settings(self.settings, agent))
                self._sources[agent] = src
            return src

    def warm(self, agent: str) -> None:
        """Log in as ``agent`` now (worker boot) rather than in its first job.

        Why: under gevent the first job's login (and the jobs queued behind its session lock) held up the
        process's first pickups (RabbitMQ idle pickup p99, issue 12). Same one login per process either way.
        """
        self._source(agent).session.call(lambda client: None)

    def get(self, *, workspace: str, agent: str, integration: str, secret_fields: frozenset[str]) -> Credentials:
        """Read with the agent's identity."""
        return self._source(agent).get(workspace=workspace, agent=agent, integration=integration,
                                       secret_fields=secret_fields)

    def update(self, *, workspace: str, agent: str, integration: str, values: Mapping[str, str], cas: int) -> int:
        """Write back (refreshed tokens) with the agent's identity and check-and-set."""
        return self._source(agent).update(workspace=workspace, agent=agent, integration=integration,
                                          values=values, cas=cas)
