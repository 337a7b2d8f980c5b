"""A real worker process (``python -m workers``) runs jobs as ``python -OO``, without the ORM, SQLModel or
pydantic-settings.

Issue 12: a worker process's memory. Its own statements are Core (:mod:`workers.store.tables`): importing the
ORM and the SQLModel tables would cost about 7 MB of each worker process. Whether anything still imports them
is only known in a worker process that booted and ran jobs, so one is started against the stack and asked
(a ``sitecustomize`` of the test's, on the process's path, writes its ``sys.modules`` on SIGUSR2).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.integration.conftest import Stack
from tests.integration.helpers import GOOD_MAILCHIMP, configure, submit, wait_job

ROOT = Path(__file__).resolve().parents[2]

DUMP = """
import os, signal, sys

def _dump(*_):
    with open(os.path.join(os.environ["MODULES_DUMP_DIR"], str(os.getpid())), "w") as f:
        f.write("\\n".join([f"optimize={sys.flags.optimize}",
                            *sorted(name for name, m in sys.modules.items() if m is not None)]))

signal.signal(signal.SIGUSR2, _dump)
"""

#: What a worker process must not import: the ORM and SQLModel (its statements are Core), pydantic-settings.
ABSENT = ("sqlalchemy.orm", "sqlmodel", "workers.store.models", "pydantic_settings", "dotenv")


def test_a_worker_process_that_ran_jobs_runs_optimized_without_the_orm_or_pydantic_settings(
        stack: Stack, tmp_path: Path) -> None:
    configure(stack, "emmie", "mailchimp", GOOD_MAILCHIMP)
    hook, dumps = tmp_path / "hook", tmp_path / "dumps"
    hook.mkdir()
    dumps.mkdir()
    (hook / "sitecustomize.py").write_text(DUMP)
    env = {**os.environ, "SINTRA_DATABASE_URL": stack.settings.db_url,
           "SINTRA_STATE_DIR": str(stack.settings.state_dir), "SINTRA_VAULT_ADDR": stack.settings.vault_addr,
           "SINTRA_WORKER_AGENT": "emmie", "SINTRA_LOG_LEVEL": "WARNING",
           "SINTRA_PROVIDER_ROOT": stack.settings.provider_root, "SINTRA_WORKER_CONCURRENCY": "4",
           "PYTHONPATH": os.pathsep.join([str(hook), str(ROOT)]), "MODULES_DUMP_DIR": str(dumps)}
    proc = subprocess.Popen([sys.executable, "-m", "workers", "--agent", "emmie", "--processes", "1"], env=env,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        children: list[str] = []
        while not children:
            assert proc.poll() is None, "the worker exited"
            assert time.monotonic() < deadline, "no worker process started"
            time.sleep(0.2)
            children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
        child = int(children[0])
        # the stack's own worker serves the queue too: submit until the process under test ran some jobs
        ran = 0
        while ran < 3:
            assert time.monotonic() < deadline + 60, "the worker process under test ran no job"
            ids = [submit(stack, "emmie", "mailchimp", "list_campaigns", {"limit": 1}).json()["id"] for _ in range(8)]
            jobs = [wait_job(stack, i, timeout=60) for i in ids]
            assert all(j["status"] == "succeeded" for j in jobs), jobs
            ran += sum(1 for j in jobs if f"-{child}-" in j["attempt_log"][-1]["worker"])
        os.kill(child, signal.SIGUSR2)
        dump = dumps / str(child)
        while not dump.exists():
            assert time.monotonic() < deadline + 90, "the worker process wrote no module list"
            time.sleep(0.1)
        time.sleep(0.2)  # written at once; let it finish
        loaded = set(dump.read_text().split())
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)
    assert "workers.runner" in loaded and "sqlalchemy" in loaded  # the list is a worker's
    assert "optimize=2" in loaded  # it runs as python -OO: no docstrings
    assert sorted(m for m in loaded if m.startswith(ABSENT)) == []
