"""Put a job's message on its agent's queue, addressed by name (producers never import actors)."""

from __future__ import annotations

from workers.broker import Enqueuer

__all__ = ["Enqueuer"]
