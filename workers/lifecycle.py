"""The one retry policy: what an attempt's outcome means for its job. Pure; no I/O.

Every consumer of the decision follows it: the runner writes the job's state, attempt log, event and
outbox entry from it in one transaction, the log line says the same, and the broker carries only the
resulting wake-up. dramatiq runs no retries of its own (see :mod:`workers.broker`), so a decision
cannot be second-guessed by a second policy.

- success: ``succeeded``;
- cancelled (asked between steps or provider calls): ``cancelled``;
- rate limited (a 429 with Retry-After, or the account's shared pause): retried after the provider's
  delay for as long as the agent's rate-limit budget (time since the first 429 of this run of 429s)
  lasts; these waits do not spend the failure budget;
- transient (5xx, timeout, network, Vault sealed, time limit, worker lost): retried with exponential
  backoff and jitter until ``max_retries`` such failures;
- everything else (auth, 4xx, malformed, invalid, unavailable, disconnected): ``failed`` at once;
- a connection test answers a waiting person: its first outcome is final (``max_retries=0``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from workers.errors import AgentError, RateLimited, TransientError

Outcome = Literal["succeeded", "retrying", "failed", "cancelled"]

#: ``attempt_log`` kinds that spend the failure budget.
FAILURE_KINDS = frozenset({"transient", "time_limit", "worker_lost"})


@dataclass(frozen=True)
class Decision:
    """What happens to the job after an attempt."""

    status: Outcome
    #: Seconds until the next attempt (retrying only).
    delay: float = 0.0
    #: Why, in words, for the log line and the attempt log.
    reason: str = ""

    @property
    def terminal(self) -> bool:
        return self.status != "retrying"


@dataclass(frozen=True)
class RetryPolicy:
    """Backoff and budgets (from settings and the agent's catalog entry)."""

    min_backoff: float = 15.0
    max_backoff: float = 3600.0
    rate_limit_budget: float = 900.0

    def backoff(self, failures: int, *, rng: random.Random | None = None) -> float:
        """Delay before the retry after the ``failures``-th failure: doubling, capped, with 0-50 % jitter."""
        base = min(self.max_backoff, self.min_backoff * (2 ** max(0, failures - 1)))
        return min(self.max_backoff, base * (1 + 0.5 * (rng or random).random()))

    def decide(self, *, error: AgentError | None, cancelled: bool, attempt_log: list[dict[str, Any]],
               max_retries: int, rate_limited_since: datetime | None, now: datetime) -> Decision:
        """The outcome of an attempt; ``attempt_log`` already holds this attempt's entry."""
        if cancelled:
            return Decision("cancelled", reason="cancel requested")
        if error is None:
            return Decision("succeeded")
        if isinstance(error, RateLimited):
            if max_retries == 0:
                return Decision("failed", reason="rate limited; a connection test is not retried")
            waited = (now - rate_limited_since).total_seconds() if rate_limited_since else 0.0
            if waited + error.retry_after > self.rate_limit_budget:
                return Decision("failed", reason=f"still rate limited after {waited:.0f} s "
                                f"(budget {self.rate_limit_budget:.0f} s)")
            return Decision("retrying", delay=max(0.0, error.retry_after),
                            reason=f"rate limited: waiting {error.retry_after:g} s as the provider asked")
        if isinstance(error, TransientError):
            failures = sum(1 for e in attempt_log if e.get("kind") in FAILURE_KINDS)
            if failures > max_retries:
                return Decision("failed", reason=f"gave up after {failures} transient failures")
            delay = self.backoff(failures)
            return Decision("retrying", delay=delay, reason=f"transient failure {failures} of {max_retries + 1}; "
                            f"retrying in {delay:.1f} s")
        return Decision("failed", reason=f"{error.kind} error: not retried")


def next_rate_limited_since(error: AgentError | None, current: datetime | None, now: datetime) -> datetime | None:
    """The start of the current run of 429s: kept while they last, cleared by any other outcome."""
    if isinstance(error, RateLimited):
        return current or now
    return None


def retry_at(decision: Decision, now: datetime) -> datetime:
    """When a retrying job may run again."""
    return now + timedelta(seconds=decision.delay)
