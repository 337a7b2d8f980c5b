"""Baseline for bench/recovery.py: a bare dramatiq actor making the same Mailchimp calls as Sintra's
create_campaign job (POST /campaigns, PUT content, GET), recording when it starts and finishes."""

from __future__ import annotations

import os
import time

import dramatiq
import httpx
from dramatiq.brokers.redis import RedisBroker

broker = RedisBroker(url=os.environ["BENCH_REDIS_URL"])
dramatiq.set_broker(broker)
_client = httpx.Client(base_url=os.environ["BENCH_PROVIDER_URL"], timeout=60,
                       auth=("any", os.environ["BENCH_MAILCHIMP_KEY"]))
_worker = os.environ.get("BENCH_WORKER", "?")


@dramatiq.actor(queue_name="bare-recovery", max_retries=20)
def bare_campaign(marker: str) -> None:
    """The three calls of a create_campaign job; ``bench:rec:*`` hashes hold start and finish times."""
    r = broker.client
    r.hset("bench:rec:start", marker, f"{_worker} {time.time():.6f}")
    body = {"type": "regular", "recipients": {"list_id": "leads"},
            "settings": {"title": marker, "subject_line": "Hello", "from_name": "Acme", "reply_to": "a@acme.example"}}
    cid = _client.post("/campaigns", json=body).raise_for_status().json()["id"]
    _client.put(f"/campaigns/{cid}/content", json={"html": "<p>Hi</p>"}).raise_for_status()
    _client.get(f"/campaigns/{cid}").raise_for_status()
    r.hset("bench:rec:done", marker, f"{time.time():.6f}")
