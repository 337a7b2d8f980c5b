"""Shared test setup: real Redis, PostgreSQL and OpenBao; a service that is down fails the run loudly.

Environment is fixed before any Sintra module reads settings: Redis database 14 (so tests never
touch the run command's queues) and fast retries.
"""

from __future__ import annotations

import os
import socket

os.environ.setdefault("SINTRA_REDIS_URL", "redis://127.0.0.1:6379/14")
os.environ["SINTRA_ENV"] = "test"
os.environ["SINTRA_RETRY_MIN_BACKOFF_MS"] = "200"
os.environ["SINTRA_RETRY_MAX_BACKOFF_MS"] = "2000"
os.environ["SINTRA_LOG_FORMAT"] = "json"
os.environ["dramatiq_worker_timeout"] = "50"

import pytest  # noqa: E402

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
