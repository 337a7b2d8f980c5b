"""The per-job step log a provider client writes to: ids of objects already created, so a retry resumes.

:class:`StepLog` is the seam (the worker's is database-backed); :class:`MemorySteps` keeps it in memory
for unit and connection tests. :func:`record_intent` and :func:`intent_since` are the crash-safe
"about to create" marker and the creation-time lower bound a lookup filters by.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol


class StepLog(Protocol):
    """Durable per-job scratchpad: ids of objects already created, so a retry resumes, not repeats.

    ``marker`` is unique to the job: stamp it on what the job creates (external id, metadata, tag)
    where the provider allows, so a retry after a crash between "created" and "recorded" can find
    the object instead of creating it twice.
    """

    marker: str

    def get(self, key: str) -> Any:
        """The value stored under ``key`` for this job, or None."""
        ...

    def put(self, key: str, value: Any) -> None:
        """Store ``value`` under ``key`` for this job, durably, before going on."""
        ...

    def progress(self, step: str, pct: float | None = None) -> None:
        """Show where the job is (``GET /api/jobs/{id}`` returns it)."""
        ...

    def intent(self, key: str) -> bool:
        """Record, before a side effect, that this job is about to create ``key``; True when an earlier
        attempt already recorded that intent (so the object may exist: look it up before creating)."""
        ...


@dataclass
class MemorySteps:
    """A :class:`StepLog` kept in memory (unit tests, connection tests)."""

    values: dict[str, Any] = field(default_factory=dict)
    seen: list[tuple[str, float | None]] = field(default_factory=list)
    marker: str = field(default_factory=lambda: f"sintra-{uuid.uuid4().hex}")

    def get(self, key: str) -> Any:
        return self.values.get(key)

    def put(self, key: str, value: Any) -> None:
        self.values[key] = value

    def progress(self, step: str, pct: float | None = None) -> None:
        self.seen.append((step, pct))

    def intent(self, key: str) -> bool:
        return record_intent(self, key)


def record_intent(steps: StepLog, key: str) -> bool:
    """The shared :meth:`StepLog.intent`: a durable ``intent:<key>`` step holding when it was recorded."""
    seen = steps.get(f"intent:{key}") is not None
    if not seen:
        steps.put(f"intent:{key}", datetime.now(UTC).isoformat())
    return seen


#: Allowance for the provider's clock running behind ours when looking objects up by creation time.
CLOCK_SKEW = timedelta(minutes=10)


def intent_since(steps: StepLog, key: str) -> datetime:
    """The earliest creation time an object of ``key`` can have: its intent's time less the clock skew.

    A crash-safe lookup filters by it (the provider's ``since_create_time``, ``updated_since``...), so
    it finds the object however long the retry was delayed and however many objects came after.
    """
    value = steps.get(f"intent:{key}")
    try:
        at = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        at = None
    return (at or datetime.now(UTC) - timedelta(days=7)) - CLOCK_SKEW
