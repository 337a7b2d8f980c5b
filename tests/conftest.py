"""Shared test setup: real Redis, PostgreSQL and OpenBao; a service that is down fails the run loudly.

Environment is fixed before any Sintra module reads settings: Redis database 14 (so tests never
touch the run command's queues) and fast retries.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

os.environ.setdefault("SINTRA_REDIS_URL", "redis://127.0.0.1:6379/14")
os.environ["SINTRA_ENV"] = "test"
os.environ["SINTRA_RETRY_MIN_BACKOFF_MS"] = "200"
os.environ["SINTRA_RETRY_MAX_BACKOFF_MS"] = "2000"
os.environ["SINTRA_LOG_FORMAT"] = "json"
os.environ["dramatiq_worker_timeout"] = "50"  # noqa: SIM112 - dramatiq reads this name in lower case
# every TestClient calls from the address "testclient": the throttling tests lower these for their own
# address, everything else must not be throttled by the 401s other tests provoke
os.environ["SINTRA_AUTH_FAILURES_PER_IP"] = "100000"
os.environ["SINTRA_RATE_LIMIT_PER_IP"] = "1000000"

import psycopg  # noqa: E402
import pytest  # noqa: E402

#: The real-stack fixtures (``stack``, ``vault_server``, ``simulator``, ``db_url``, ...), registered once so
#: ``tests/integration`` and ``tests/security`` share one OpenBao, simulator, database and worker.
pytest_plugins = ["tests.stack"]

def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "postgresql_only: the test's subject exists on PostgreSQL only (row locks, "
                            "the hot path's in-loop sender): it is collected for the PostgreSQL database alone")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect the SQLite variants of ``postgresql_only`` tests: such a test is not run there (and not counted
    as passed or skipped), rather than returning early without asserting anything."""
    kept, dropped = [], []
    for item in items:
        sqlite = "[sqlite" in item.name or "-sqlite" in item.name
        (dropped if sqlite and item.get_closest_marker("postgresql_only") else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


#: How to start each local service (from the machine's notes), shown when one is down.
SERVICES = {
    "Redis": (6379, "redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save '' --appendonly no"),
    "PostgreSQL": (5432, "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"),
}


def require_service(name: str) -> None:
    """Fail (never skip) when a service the test needs is not listening."""
    port, how = SERVICES[name]
    with socket.socket() as s:
        s.settimeout(1.0)
        if s.connect_ex(("127.0.0.1", port)) != 0:
            pytest.fail(f"{name} is not reachable on 127.0.0.1:{port}; start it with: {how}", pytrace=False)


PG_ADMIN_URL = os.environ.get("SINTRA_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of each supported kind (PostgreSQL: a new database, dropped afterwards)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'db.sqlite'}"
    else:
        yield request.getfixturevalue("pg_fresh_url")


def fresh_pg_database(prefix: str) -> Iterator[str]:
    """Create an empty PostgreSQL database, yield its URL, drop it afterwards."""
    require_service("PostgreSQL")
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_fresh_url(tmp_path: Path) -> Iterator[str]:
    """An empty PostgreSQL database, dropped afterwards."""
    yield from fresh_pg_database("sintra_t")


@pytest.fixture
def engine(fresh_url: str) -> Iterator[object]:
    """A migrated database of each kind (an API key of workspace ``a`` in it), disposed afterwards."""
    from workers.store.db import build_engine, migrate, session_scope
    from workers.store.keys import create_key

    migrate(fresh_url)
    eng = build_engine(fresh_url)
    with session_scope(eng) as s:
        create_key(session=s, workspace="a")
    yield eng
    eng.dispose()
