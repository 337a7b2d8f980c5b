"""What dramatiq's Redis broker holds per queue, read from its key layout (``dramatiq/brokers/redis/dispatch.lua``).

``dramatiq:<queue>`` is the list of ready message ids and ``dramatiq:<queue>.msgs`` the hash of every
message not yet acked (so fetched-but-unacked = hash - list); ``<queue>.DQ`` is the delay queue (retries
waiting for their backoff) and ``dramatiq:<queue>.XQ`` the sorted set of dead-lettered messages.
"""

from __future__ import annotations

from typing import Any

#: dramatiq's default key namespace.
NAMESPACE = "dramatiq"


def redis_client(broker: Any) -> Any:
    """The broker's Redis client, or None for a broker that is not Redis (the stub in unit tests)."""
    return getattr(broker, "client", None)


def queue_depth(client: Any, queue: str, namespace: str = NAMESPACE) -> dict[str, int]:
    """Ready, unacked (fetched by a worker), delayed and dead message counts of one queue."""
    base = f"{namespace}:{queue}"
    pipe = client.pipeline(transaction=False)
    pipe.llen(base)
    pipe.hlen(f"{base}.msgs")
    pipe.hlen(f"{base}.DQ.msgs")
    pipe.zcard(f"{base}.XQ")
    ready, stored, delayed, dead = (int(n) for n in pipe.execute())
    return {"ready": ready, "unacked": max(0, stored - ready), "delayed": delayed, "dead": dead}
