"""Baseline for bench/throughput.py: a bare dramatiq actor doing the same provider call, nothing else."""

from __future__ import annotations

import os
import time

import dramatiq
import httpx
from dramatiq.brokers.redis import RedisBroker

broker = RedisBroker(url=os.environ["BENCH_REDIS_URL"])
dramatiq.set_broker(broker)
_client = httpx.Client(base_url=os.environ["BENCH_PROVIDER_URL"], timeout=30, auth=("any", "benchkey-us21"))
_results = broker.client


@dramatiq.actor(queue_name="bare", max_retries=0)
def bare_call(enqueued_at: float) -> None:
    """GET /campaigns?count=10, then record pickup latency and finish time."""
    started = time.time()
    _results.rpush("bench:bare:start", f"{started:.6f}")
    _client.get("/campaigns", params={"count": 10, "offset": 0}).raise_for_status()
    _results.rpush("bench:bare", f"{started - enqueued_at:.6f} {time.time():.6f}")
