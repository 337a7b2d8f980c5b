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
