"""The API holds a database connection only while a thread works with it (issue 12, connect row).

A request that kept its connection while it queued for a thread (authenticated, waiting for its handler's
turn) took it from requests already on a thread: 60 connects sent at once held most of the pool idle in
transaction while other requests' threads waited for a connection.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlmodel import Session
from starlette.requests import Request

from config.settings import Settings
from producers.api.deps import get_caller
from producers.api.errors import ApiError
from producers.api.limits import Throttle
from workers.store.db import build_engine, migrate
from workers.store.keys import create_key

ROOT = Path(__file__).resolve().parent.parent


class _Counters:
    """The few Redis calls the throttle makes, in memory (limits far away: nothing here is throttled)."""

    def __init__(self) -> None:
        self.values: dict[str, int] = {}

    def get(self, key: str) -> int | None:
        return self.values.get(key)

    def pipeline(self) -> Any:
        counters, ops = self, []

        class Pipe:
            def incr(self, key: str) -> None:
                ops.append(key)

            def expire(self, key: str, seconds: int) -> None:
                pass

            def execute(self) -> list[int]:
                out = []
                for key in ops:
                    counters.values[key] = counters.values.get(key, 0) + 1
                    out.append(counters.values[key])
                return out

        return Pipe()


def _request(key: str) -> Request:
    state = SimpleNamespace(settings=Settings(), throttle=Throttle(_Counters()))
    return Request({"type": "http", "method": "GET", "path": "/api/jobs", "query_string": b"",
                    "headers": [(b"authorization", f"Bearer {key}".encode())], "client": ("127.0.0.1", 1),
                    "app": SimpleNamespace(state=state)})


def test_authentication_returns_its_connection_to_the_pool(fresh_url: str) -> None:
    migrate(fresh_url)
    engine = build_engine(fresh_url)
    try:
        with Session(engine) as s:
            key = create_key(session=s, workspace="ws-a")
            s.commit()
        with Session(engine, expire_on_commit=False) as session:
            caller = get_caller(_request(key), session)
            assert caller.workspace == "ws-a"
            assert not session.in_transaction()
            assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
            with pytest.raises(ApiError) as refused:
                get_caller(_request(key + "x"), session)
            assert refused.value.status == 401
            assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    finally:
        engine.dispose()


def test_the_served_app_freezes_its_startup_objects_out_of_the_collector() -> None:
    # in a child: freezing is process-wide, and this test process's objects are not the server's
    code = ("import gc; from producers.api.app import app_factory; app_factory(); "
            "print(gc.get_freeze_count())")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SINTRA_LOG_LEVEL": "WARNING"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120, check=True).stdout
    assert int(out.strip().splitlines()[-1]) > 10_000


def test_waiting_connects_are_answered_by_one_read_per_interval(fresh_url: str) -> None:
    import asyncio

    from sqlalchemy import event, update

    from config.messages import JobCreate
    from producers.api.routes.integrations import JobWaiter
    from workers.store.jobs import create_job
    from workers.store.models import Job

    migrate(fresh_url)
    engine = build_engine(fresh_url)
    reads: list[str] = []
    event.listen(engine, "before_cursor_execute",
                 lambda conn, cursor, statement, *rest: reads.append(statement) if "FROM jobs" in statement else None)
    try:
        with Session(engine, expire_on_commit=False) as s:
            create_key(session=s, workspace="ws-a")  # and its workspace
            req = JobCreate(agent="emmie", integration="mailchimp", action="test_connection", params={})
            ids = [create_job(session=s, workspace="ws-a", req=req, kind="test_connection")[0].id for _ in range(30)]

        async def scenario() -> list[Job | None]:
            waiter = JobWaiter(engine)
            waits = [asyncio.create_task(waiter.wait(i, 0.8)) for i in ids]
            await asyncio.sleep(0.3)
            with Session(engine) as s:  # 20 of them end; the other 10 are still on a hung provider
                s.execute(update(Job).where(Job.id.in_(ids[:20])).values(status="succeeded"))  # type: ignore[attr-defined]
                s.commit()
            return list(await asyncio.gather(*waits))

        reads.clear()
        answers = asyncio.run(scenario())
        assert [a.status if a else None for a in answers] == ["succeeded"] * 20 + [None] * 10
        # 30 waiters polling on their own read at least 30 times; one poller reads once per interval (at
        # most 0.8 s / 50 ms = 16 times here), each read asking about every job still waiting
        assert 0 < len(reads) < 30, len(reads)
    finally:
        engine.dispose()


def test_a_failed_read_is_raised_in_every_waiting_connect(fresh_url: str) -> None:
    import asyncio

    from sqlalchemy import text

    from producers.api.routes.integrations import JobWaiter

    migrate(fresh_url)
    engine = build_engine(fresh_url)
    try:
        with engine.begin() as conn:  # the table the poller reads is gone: its read fails
            conn.execute(text("ALTER TABLE jobs RENAME TO jobs_gone"))

        async def scenario() -> list[BaseException | object]:
            waiter = JobWaiter(engine)
            return list(await asyncio.gather(*(waiter.wait(f"job-{n}", 5) for n in range(3)),
                                             return_exceptions=True))

        answers = asyncio.run(scenario())
        assert all(isinstance(a, Exception) and "jobs" in str(a) for a in answers), answers
    finally:
        engine.dispose()
