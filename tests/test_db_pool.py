"""A pooled PostgreSQL connection that died while idle is replaced before use (``workers.store.db``)."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from workers.store import db


def _idle_backend_killed(url: str, monkeypatch: pytest.MonkeyPatch, idle_ping: float) -> int:
    """An engine of one connection whose backend was terminated while it sat in the pool; run a query."""
    monkeypatch.setattr(db, "IDLE_PING_SECONDS", idle_ping)
    engine = db.build_engine(url, pool_size=1, max_overflow=0)
    other = db.build_engine(url, pool_size=1, max_overflow=0)
    try:
        with engine.connect() as conn:
            pid = conn.execute(text("SELECT pg_backend_pid()")).scalar()
        with other.connect() as conn:  # as an outage or a restarted server would
            assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT 1")).scalar() or 0)
    finally:
        engine.dispose()
        other.dispose()


def test_a_connection_that_died_while_idle_is_replaced_before_use(pg_fresh_url: str,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    assert _idle_backend_killed(pg_fresh_url, monkeypatch, idle_ping=0.0) == 1


def test_a_connection_reused_at_once_is_not_pinged(pg_fresh_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # the control: without the idle ping, the dead connection reaches the query
    with pytest.raises(OperationalError):
        _idle_backend_killed(pg_fresh_url, monkeypatch, idle_ping=3600.0)
