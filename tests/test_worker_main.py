"""``python -m workers``: worker processes go without the optional packages they never use."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CODE = """
import sys
from workers.__main__ import skip_unused_packages
skip_unused_packages(sys.argv[1])
import structlog, httpx, redis, workers.agents
from config.logging import configure_logging
configure_logging(fmt="console", level="INFO")
try:
    raise ValueError("boom")
except ValueError:
    structlog.get_logger("t").exception("failed")
loaded = sorted(m for m in ("rich", "pygments", "click", "opentelemetry.sdk") if sys.modules.get(m) is not None)
if sys.argv[1]:
    import opentelemetry.sdk.trace
print("LOADED", loaded)
"""


def _run(tracing: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", CODE, tracing], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60)


def test_worker_process_skips_unused_optional_packages_and_still_logs_tracebacks() -> None:
    out = _run("")
    assert out.returncode == 0, out.stderr
    assert "LOADED []" in out.stdout
    assert "ValueError: boom" in out.stdout + out.stderr


def test_tracing_keeps_the_opentelemetry_sdk() -> None:
    out = _run("console")
    assert out.returncode == 0, out.stderr



DEFERRED_CODE = """
import sys
from workers.__main__ import skip_unused_packages
skip_unused_packages("")
import redis, workers.agents
print("LOADED", "redis.asyncio.client" in sys.modules)
r = redis.Redis.from_url("redis://127.0.0.1:6379/12")
r.ping()  # the synchronous client a worker uses does not need it
print("AFTER SYNC USE", "redis.asyncio.client" in sys.modules)
from redis.asyncio import Redis
import redis.asyncio.client
print("SAME", Redis is redis.asyncio.Redis is redis.asyncio.client.Redis is sys.modules["redis.asyncio"].Redis)
import asyncio
async def ping():
    client = redis.asyncio.from_url("redis://127.0.0.1:6379/12")
    try:
        return await client.ping()
    finally:
        await client.aclose()
print("ASYNC PING", asyncio.run(ping()))
"""


def test_redis_asyncio_is_loaded_only_when_something_uses_it() -> None:
    out = subprocess.run([sys.executable, "-c", DEFERRED_CODE], cwd=ROOT, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT), "SINTRA_WORKER_AGENT": "emmie"}, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[:4] == ["LOADED False", "AFTER SYNC USE False", "SAME True", "ASYNC PING True"]
