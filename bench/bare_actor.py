"""Baseline for bench/throughput.py: a bare dramatiq actor doing the same provider call, nothing else."""

from __future__ import annotations

import os
import time

import dramatiq
import httpx
import redis
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from dramatiq.brokers.redis import RedisBroker

_url = os.environ.get("BENCH_BROKER_URL") or os.environ["BENCH_REDIS_URL"]
broker = RabbitmqBroker(url=_url) if _url.startswith("amqp") else RedisBroker(url=_url)
dramatiq.set_broker(broker)
_client = httpx.Client(base_url=os.environ["BENCH_PROVIDER_URL"], timeout=30, auth=("any", "benchkey-us21"),
                       limits=httpx.Limits(max_connections=256, max_keepalive_connections=256))
# blocking pool: under dramatiq-gevent hundreds of greenlets record at once (redis-py caps a pool at 100)
_results = redis.Redis(connection_pool=redis.BlockingConnectionPool.from_url(os.environ["BENCH_REDIS_URL"],
                                                                             max_connections=64, timeout=30))


@dramatiq.actor(queue_name="bare", max_retries=0)
def bare_call(enqueued_at: float, probe: bool = True) -> None:
    """GET /campaigns?count=10, then record pickup latency, finish time and whether it was a probe."""
    started = time.time()
    _results.rpush("bench:bare:start", f"{started:.6f}")
    _client.get("/campaigns", params={"count": 10, "offset": 0}).raise_for_status()
    _results.rpush("bench:bare", f"{started - enqueued_at:.6f} {time.time():.6f} {int(probe)}")
