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

