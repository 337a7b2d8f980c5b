"""Group commit for threads and greenlets: calls that arrive while a batch is being written share the next one.

Used where a round trip per call is the cost: the worker's job starts and outcomes
(:mod:`workers.store.attempts`) and its broker acks (:mod:`workers.broker`). The API's asyncio
counterpart is :class:`producers.api.aio.Coalescer`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import structlog

log = structlog.get_logger("sintra.worker")

A = TypeVar("A")
R = TypeVar("R")

#: What a batch answers for a member it did not handle: the caller does that one alone instead.
ALONE: Any = object()


class GroupCommit(Generic[A, R]):
    """Calls that arrive while a batch is being written wait, and share the next one.

    No timer: a lone call runs at once (a batch of one), so an idle worker adds no delay. One batch is in
    flight at a time; when it is done, the first caller that arrived meanwhile leads the next one with
    everything queued by then. ``run_many`` answers each item in order, or :data:`ALONE`; when it raises,
    every member of that batch gets :data:`ALONE` and runs its own statement (so one bad row, or an
    outage, is met exactly as without batching: the member's own statement raises in its own job).
    Works with threads and with gevent's patched locks alike.
    """

    def __init__(self, run_many: Callable[[list[A]], list[R]], *, name: str = "") -> None:
        self._run_many, self.name = run_many, name
        self._lock = threading.Lock()
        self._queue: list[_Slot] = []
        self._busy = False

    def __call__(self, item: A) -> R:
        """``item``'s answer from the batch it joined (or :data:`ALONE`)."""
        slot = _Slot(item)
        with self._lock:
            self._queue.append(slot)
            lead, self._busy = not self._busy, True
        if not lead:
            try:
                slot.event.wait()
            except BaseException:  # killed while waiting (a time limit): never strand the queue
                self._abandon(slot)
                raise
            if not slot.lead:
                return slot.answer
        with self._lock:
            batch, self._queue = self._queue, []
        answers: list[Any] | None = None
        try:
            answers = list(self._run_many([s.item for s in batch]))
        except Exception as exc:  # noqa: BLE001 - each member runs alone and meets the error itself
            log.warning("group_commit.failed", batch=self.name, members=len(batch), error=type(exc).__name__)
        finally:  # also when this leader is killed mid-batch: no member waits forever
            self._hand_on()
            if answers is None or len(answers) != len(batch):
                answers = [ALONE] * len(batch)
            for s, answer in zip(batch, answers, strict=True):
                s.answer = answer
                s.event.set()
        return slot.answer

    def _hand_on(self) -> None:
        """The batch is done (or its leader died): the next waiting caller leads, else no batch is busy."""
        with self._lock:
            if self._queue:
                self._queue[0].lead = True
                self._queue[0].event.set()
            else:
                self._busy = False

    def _abandon(self, slot: _Slot) -> None:
        with self._lock:
            queued = slot in self._queue
            if queued:
                self._queue.remove(slot)
        if slot.lead:  # it was handed the lead: pass it on
            self._hand_on()


class _Slot:
    """One call waiting in a :class:`GroupCommit`."""

    __slots__ = ("answer", "event", "item", "lead")

    def __init__(self, item: Any) -> None:
        self.item = item
        self.answer: Any = ALONE
        self.lead = False
        self.event = threading.Event()
