"""Scenario 4: the API SIGKILLed 3 times during a burst of POST /api/jobs.

Clients retry with the same idempotency key after connection errors (what the Python client and any
careful caller do). 0 jobs may be left ``queued`` with no message: every job answered 200/202
reaches a terminal state.
"""

from __future__ import annotations

import time

import pytest

from tests.faults.stack import Background, Stack, judge, report


@pytest.mark.timeout(300)
def test_api_sigkills(stack: Stack, broker: str) -> None:
    acct = stack.new_account("api")
    stack.wait_workers_ready()
    n = 400
    subs = Background(lambda: stack.submit_many(acct, [f"a{i:04d}" for i in range(n)], concurrency=16,
                                                give_up_after=90))
    kills = 0
    for _ in range(3):
        time.sleep(2.0)
        stack.api_proc.kill()
        kills += 1
        stack.api_proc.start()
        stack.wait_api()
    submitted = subs.join()
    v = judge(stack, acct, submitted, f"4 API SIGKILL x3 [{broker}]", timeout=90)
    v.extra["API kills"] = kills
    v.extra["client connection errors"] = sum(s.conn_errors for s in submitted.values())
    v.extra["answered 200 on retry"] = sum(s.codes[200] for s in submitted.values())
    report(v)
    assert v.accepted == n, f"only {v.accepted} of {n} submissions accepted"
    assert not v.problems, v.problems
