"""The ``sintra`` CLI offers the schedule and job-cancel operations of the API."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
import uvicorn

from tests.integration.conftest import Stack
from tests.integration.helpers import GOOD_MAILCHIMP, configure, submit


@pytest.fixture
def api_url(stack: Stack) -> Iterator[str]:
    """The stack's API app served over real HTTP."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(stack.api.app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(5)


def sintra(stack: Stack, api_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SINTRA_API_URL": api_url, "SINTRA_API_KEY": stack.key}
    return subprocess.run([sys.executable, "-m", "producers.cli", *args], env=env, capture_output=True, text=True)


def test_cli_creates_lists_pauses_and_deletes_schedules_and_cancels_jobs(stack: Stack, api_url: str) -> None:
    configure(stack, "emmie", "mailchimp", GOOD_MAILCHIMP)
    out = sintra(stack, api_url, "schedules", "create", "--cron", "0 9 * * MON", "--timezone", "Europe/Paris",
                 "--agent", "emmie", "--integration", "mailchimp", "--action", "list_campaigns",
                 "--params", '{"limit": 3}')
    assert out.returncode == 0, out.stderr
    sid = json.loads(out.stdout)["id"]
    assert sid in sintra(stack, api_url, "schedules", "list").stdout
    assert json.loads(sintra(stack, api_url, "schedules", "pause", sid).stdout)["status"] == "paused"
    bad = sintra(stack, api_url, "schedules", "create", "--cron", "bad", "--agent", "emmie",
                 "--integration", "mailchimp", "--action", "list_campaigns")
    assert bad.returncode == 1 and "5 fields" in bad.stderr
    assert sintra(stack, api_url, "schedules", "delete", sid).returncode == 0
    run_at = (datetime.now(timezone.utc) + timedelta(days=1)).isoformat()
    job_id = submit(stack, "emmie", "mailchimp", "list_campaigns", {}, run_at=run_at).json()["id"]
    assert json.loads(sintra(stack, api_url, "jobs", "cancel", job_id).stdout)["status"] == "cancelled"
