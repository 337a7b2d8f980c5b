"""Scenario 0: no fault. The stack works and the checks the fault scenarios rely on hold."""

from __future__ import annotations

import asyncio

from tests.faults.stack import Stack, judge, report


def test_baseline(stack: Stack, broker: str) -> None:
    acct = stack.new_account("base")
    subs = asyncio.run(stack.submit_many(acct, [f"b{i:04d}" for i in range(40)]))
    v = judge(stack, acct, subs, f"baseline[{broker}]", timeout=60)
    report(v)
    assert v.accepted == 40 and not v.problems, v.problems
