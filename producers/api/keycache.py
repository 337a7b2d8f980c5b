"""Which workspace an API key belongs to, remembered by the key's hash (the hot path's key lookup).

A key's workspace and scope never change, so the cache may hold them long; what can change,
revocation, is never taken from the cache: the submission checks it in its own transaction
(:func:`workers.store.submit.lookup`), and a revoked key is answered 401 and forgotten here. So a
revoked key is refused on its very next request, from any process. Entries expire after
:data:`TTL_SECONDS` and the cache holds at most :data:`MAX_ENTRIES` (oldest dropped first).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass

#: How long a key's workspace is remembered (bounds memory for keys no longer used, not revocation).
TTL_SECONDS = 300.0
#: Most keys remembered at once.
MAX_ENTRIES = 10_000


@dataclass(frozen=True)
class KnownKey:
    """What the API needs of a key it authenticated before: its workspace and scope."""

    workspace: str
    operator: bool


class KeyCache:
    """Key hash -> :class:`KnownKey`, with a TTL and a size bound."""

    def __init__(self, ttl: float = TTL_SECONDS, max_entries: int = MAX_ENTRIES) -> None:
        self.ttl, self.max_entries = ttl, max_entries
        self.entries: OrderedDict[str, tuple[KnownKey, float]] = OrderedDict()

    def get(self, key_hash: str) -> KnownKey | None:
        """The remembered key, unless unknown or expired."""
        hit = self.entries.get(key_hash)
        if hit is None or hit[1] < time.monotonic():
            return None
        return hit[0]

    def put(self, key_hash: str, known: KnownKey) -> None:
        """Remember a key that just authenticated."""
        self.entries[key_hash] = (known, time.monotonic() + self.ttl)
        self.entries.move_to_end(key_hash)
        while len(self.entries) > self.max_entries:
            self.entries.popitem(last=False)

    def forget(self, key_hash: str) -> None:
        """Drop a key (found revoked)."""
        self.entries.pop(key_hash, None)
