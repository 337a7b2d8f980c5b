"""The one poll loop of async provider jobs: fetch a status until it is done or the attempt runs out of time.

``done`` raises for a failed job and may report progress; ``what`` names the still-running job
(``"<job> still <status>"``). Past the timeout the loop raises :class:`ProviderUnavailable`, a transient
error, so the job is retried; callers store the job's id in their :class:`StepLog` before polling, so the
retry resumes the same job.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from workers.errors import ProviderUnavailable

T = TypeVar("T")


def poll(fetch: Callable[[], T], done: Callable[[T], bool], *, interval: float, timeout: float,
         what: Callable[[T], str]) -> T:
    """Call ``fetch`` every ``interval`` s until ``done`` accepts its answer; give up before ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        data = fetch()
        if done(data):
            return data
        if time.monotonic() + interval > deadline:
            raise ProviderUnavailable(f"{what(data)} after {timeout:.0f} s; the retry resumes it")
        time.sleep(interval)
