"""Scenarios 2, 3 and 7 (Vault): a service Sintra depends on goes away mid-run and comes back.

2. Redis (the broker, on the Redis stack) restarted with AOF (down ~10 s), SIGKILLed, and restarted
   without persistence (its data gone): 0 stuck - no job left ``retrying``/``queued``/``running``.
3. PostgreSQL unreachable for 30 s (the proxy between Sintra and PostgreSQL cut): the API answers
   503 with Retry-After to submits (never 500); 0 stuck afterwards; 0 provider side effects created
   but never recorded (every simulator campaign is a succeeded job's result).
7. Vault sealed, or stopped, for 31 s while jobs need credentials: 0 lost, 0 failed.
"""

from __future__ import annotations

import time
from collections import Counter

import pytest

from tests.faults.stack import Background, Stack, judge, report


@pytest.mark.timeout(300)
@pytest.mark.parametrize("mode", ["restart-aof", "sigkill", "no-persistence"])
def test_redis_outage(redis_stack: Stack, mode: str) -> None:
    stack = redis_stack  # Redis-only, or one broker is enough for this fault
    acct = stack.new_account(f"redis-{mode}")
    stack.wait_workers_ready()
    stack.sim_latency("mailchimp", 0.1)
    n = 120
    subs = Background(lambda: stack.submit_many(acct, [f"r{i:04d}" for i in range(n)], rate=8, give_up_after=90))
    time.sleep(3)
    stack.sim_window("mailchimp", 503, 3, path="/campaigns", method="POST")  # jobs waiting to retry during the blip
    time.sleep(3)
    t = time.time()
    if mode == "restart-aof":
        stack.redis.stop()
    else:
        stack.redis.kill()
    if mode == "no-persistence":
        stack.redis.wipe()  # what a Redis without persistence comes back with: nothing
    time.sleep(10)
    stack.redis.start()
    down = time.time() - t
    submitted = subs.join()
    v = judge(stack, acct, submitted, f"2 Redis {mode} [redis]", timeout=90)
    stack.sim_clear()
    codes = sum((s.codes for s in submitted.values()), Counter())
    v.extra["down s"] = f"{down:.1f}"
    v.extra["answers"] = dict(sorted(codes.items()))
    v.extra["jobs retried"] = sum(1 for j in stack.jobs(acct) if j["attempts"] > 1)
    report(v)
    assert not v.problems, v.problems


@pytest.mark.timeout(300)
def test_postgres_outage(redis_stack: Stack) -> None:
    stack = redis_stack  # Redis-only, or one broker is enough for this fault
    acct = stack.new_account("pg")
    stack.wait_workers_ready()
    stack.sim_latency("mailchimp", 0.1)
    n = 300
    subs = Background(lambda: stack.submit_many(acct, [f"p{i:04d}" for i in range(n)], rate=10, give_up_after=120))
    time.sleep(5)
    t = time.time()
    stack.pg_proxy.cut()
    time.sleep(30)
    stack.pg_proxy.restore()
    down = time.time() - t
    submitted = subs.join()
    v = judge(stack, acct, submitted, "3 PostgreSQL unreachable 30 s [redis]", timeout=120)
    stack.sim_clear()
    n500 = sum(sum(n for c, n in s.codes.items() if c >= 500 and c != 503) for s in submitted.values())
    n503 = sum(s.codes[503] for s in submitted.values())
    no_retry_after = sum(s.codes[503] - len(s.retry_after) for s in submitted.values())
    v.extra["down s"] = f"{down:.1f}"
    v.extra["503s"] = n503
    v.extra["503 without Retry-After"] = no_retry_after
    v.extra["other 5xx"] = n500
    if n500:
        v.problems.append(f"the API answered {n500} submits with a 5xx other than 503 during the outage")
    if no_retry_after:
        v.problems.append(f"{no_retry_after} 503 answers had no Retry-After")
    if not n503:
        v.problems.append("no submit saw a 503 during a 30 s database outage (the client paced ~10/s)")
    report(v)
    assert v.accepted == n, f"only {v.accepted} of {n} submissions accepted (clients retried 120 s)"
    assert not v.problems, v.problems


@pytest.mark.timeout(300)
@pytest.mark.parametrize("mode", ["sealed", "stopped"])
def test_vault_outage(redis_stack: Stack, mode: str) -> None:
    """The outage starts before the account's first job, so no worker has its credentials cached."""
    stack = redis_stack  # Redis-only, or one broker is enough for this fault
    acct = stack.new_account(f"vault-{mode}")  # configure writes to Vault: before the outage
    stack.wait_workers_ready()
    t = time.time()
    if mode == "sealed":
        stack.vault.seal()
    else:
        stack.vault.stop()
    n = 100
    subs = Background(lambda: stack.submit_many(acct, [f"v{i:04d}" for i in range(n)], rate=5))
    time.sleep(max(0.0, 31 - (time.time() - t)))
    if mode == "sealed":
        stack.vault.unseal()
    else:
        stack.vault.start()
    down = time.time() - t
    submitted = subs.join()
    v = judge(stack, acct, submitted, f"7 Vault {mode} 31 s [redis]", timeout=120)
    v.extra["down s"] = f"{down:.1f}"
    rows = stack.jobs(acct)
    v.extra["jobs retried"] = sum(1 for j in rows if j["attempts"] > 1)
    report(v)
    assert v.accepted == n
    assert not v.problems, v.problems
