"""What the broker itself holds per queue: ready, fetched-but-unacked, delayed and dead-lettered messages.

Redis, from dramatiq's key layout (``dramatiq/brokers/redis/dispatch.lua``): ``<ns>:<queue>`` is the
list of ready message ids and ``<ns>:<queue>.msgs`` the hash of every message not yet acked (so
fetched-but-unacked = hash - list); ``<queue>.DQ`` is the delay queue (retries waiting for their
backoff, and messages a worker holds until their eta) and ``<ns>:<queue>.XQ`` the sorted set of
dead-lettered messages. RabbitMQ: the message counts of the queue and its ``.DQ`` and ``.XQ`` queues
(it does not count unacked messages there).
"""

from __future__ import annotations

from typing import Any

#: dramatiq's default Redis key namespace.
NAMESPACE = "dramatiq"


def redis_depth(client: Any, queue: str, namespace: str = NAMESPACE) -> dict[str, int | None]:
    """Ready, unacked, delayed and dead message counts of one queue in a dramatiq Redis broker."""
    base = f"{namespace}:{queue}"
    pipe = client.pipeline(transaction=False)
    pipe.llen(base)
    pipe.hlen(f"{base}.msgs")
    pipe.hlen(f"{base}.DQ.msgs")
    pipe.zcard(f"{base}.XQ")
    ready, stored, delayed, dead = (int(n) for n in pipe.execute())
    return {"ready": ready, "unacked": max(0, stored - ready), "delayed": delayed, "dead": dead}


def broker_depth(broker: Any, queue: str) -> dict[str, int | None] | None:
    """The broker's own counts for ``queue``, or None for a broker we cannot read (the stub)."""
    client = getattr(broker, "client", None)
    if client is not None:
        return redis_depth(client, queue, getattr(broker, "namespace", NAMESPACE))
    counts = getattr(broker, "get_queue_message_counts", None)
    if counts is not None:
        ready, delayed, dead = counts(queue)
        return {"ready": int(ready), "unacked": None, "delayed": int(delayed), "dead": int(dead)}
    return None
