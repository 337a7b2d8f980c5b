"""Scenarios 5 and 7 (provider): the provider throttles or fails for a while.

5. Mailchimp answers 429 with Retry-After 2 s for 20 s: 0 permanent failures (a rate-limit wait is
   budgeted by time, not attempts), and far fewer 429s served than one per job per retry (the first
   429 pauses the account for every job).
7. Mailchimp answers 5xx for 20 s: 0 lost, 0 failed.
"""

from __future__ import annotations

import time

import pytest

from tests.faults.stack import Background, Stack, judge, report


@pytest.mark.timeout(300)
def test_rate_limit_storm(stack: Stack, broker: str) -> None:
    acct = stack.new_account("429")
    stack.wait_workers_ready()
    n = 240
    subs = Background(lambda: stack.submit_many(acct, [f"q{i:04d}" for i in range(n)], rate=15))
    time.sleep(2)
    before = stack.sim_served().get("mailchimp:429", 0)
    stack.sim_window("mailchimp", 429, 20, retry_after=2)
    submitted = subs.join()
    v = judge(stack, acct, submitted, f"5 provider 429 Retry-After 2 s for 20 s [{broker}]", timeout=120)
    served = stack.sim_served().get("mailchimp:429", 0) - before
    rows = stack.jobs(acct)
    v.extra["429s served"] = served
    v.extra["jobs throttled"] = sum(1 for j in rows if j["attempts"] > 1)
    if served > v.accepted / 2:
        v.problems.append(f"{served} x 429 served to {v.accepted} jobs in 20 s: each job is answering the storm on "
                          "its own (expected a shared pause per account)")
    report(v)
    assert v.accepted == n
    assert not v.problems, v.problems


@pytest.mark.timeout(300)
def test_provider_5xx_storm(redis_stack: Stack) -> None:
    stack = redis_stack  # Redis-only, or one broker is enough for this fault
    acct = stack.new_account("5xx")
    stack.wait_workers_ready()
    n = 150
    subs = Background(lambda: stack.submit_many(acct, [f"x{i:04d}" for i in range(n)], rate=10))
    time.sleep(2)
    before = stack.sim_served().get("mailchimp:500", 0)
    stack.sim_window("mailchimp", 500, 20)
    submitted = subs.join()
    v = judge(stack, acct, submitted, "7 provider 5xx storm 20 s [redis]", timeout=120)
    v.extra["5xx served"] = stack.sim_served().get("mailchimp:500", 0) - before
    report(v)
    assert v.accepted == n
    assert not v.problems, v.problems
