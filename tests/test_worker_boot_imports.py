"""A booted worker process goes without the modules it never uses (issue 12: a worker process's memory).

The worker's boot is replayed in a subprocess: ``python -m workers``'s own preparation, the modules a
dramatiq worker process imports, the boot's warm-up for one agent and a PostgreSQL connection through the
engine's dialect (the real database). What was cut must stay out, and what was deferred must still work.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import PG_ADMIN_URL

ROOT = Path(__file__).resolve().parent.parent

BOOT = """
from gevent import monkey
monkey.patch_all()
import sys
from workers.__main__ import DEFERRED, _Deferred, skip_unused_packages
skip_unused_packages("")
import dramatiq.cli, workers.agents, workers.context
from sqlalchemy import text
from workers.store.db import build_engine
workers.context.warm_up("emmie")
engine = build_engine(sys.argv[1])
with engine.connect() as conn:
    assert conn.execute(text("SELECT 1")).scalar() == 1
print("ABSENT", sorted(m for m in sys.modules if m.startswith(("pydantic_settings", "dotenv"))))
print("DEFERRED", all(isinstance(sys.modules.get(m), _Deferred) for m in DEFERRED))
from sqlalchemy.dialects.postgresql import psycopg2
driver = psycopg2.dialect.driver  # its first use imports it
print("ON USE", driver, not isinstance(sys.modules["sqlalchemy.dialects.postgresql.psycopg2"], _Deferred))
"""


def test_a_booted_worker_loads_neither_pydantic_settings_nor_other_drivers_dialects() -> None:
    out = subprocess.run([sys.executable, "-c", BOOT, PG_ADMIN_URL], cwd=ROOT, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT), "SINTRA_WORKER_AGENT": "emmie"}, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[:3] == ["ABSENT []", "DEFERRED True", "ON USE psycopg2 True"]
