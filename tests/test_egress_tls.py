"""Every worker HTTP pool shares one TLS context, and it still verifies certificates (workers/egress.py).

Why it matters: a context per pool (two per shard, 64 shards at 256 in flight) cost a process 4.7 s of
CPU on its first job for a provider, during which every greenlet stood still, and 50 MB.
"""

from __future__ import annotations

import ssl

from workers.egress import EgressTransport, ShardedTransport, egress_transport


def test_all_pools_share_one_tls_context_that_verifies_certificates() -> None:
    pools: list[EgressTransport] = []
    for transport in (egress_transport({}, "", concurrency=256), egress_transport({}, "", concurrency=8)):
        assert isinstance(transport, ShardedTransport)
        pools += [t for t in transport._transports if isinstance(t, EgressTransport)]
    assert len(pools) == 66  # 64 shards + 2 (4 connections each)
    contexts = {id(p._pool._ssl_context) for p in pools}
    assert len(contexts) == 1
    context = pools[0]._pool._ssl_context
    assert context is not None and context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
