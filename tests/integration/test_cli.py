"""The ``sintra`` CLI offers the schedule and job-cancel operations of the API."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, UTC


from tests.integration.conftest import Stack
from tests.integration.helpers import GOOD_MAILCHIMP, configure, submit


def sintra(stack: Stack, api_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SINTRA_API_URL": api_url, "SINTRA_API_KEY": stack.key}
    return subprocess.run([sys.executable, "-m", "producers.cli", *args], env=env, capture_output=True, text=True)


def test_cli_creates_lists_pauses_and_deletes_schedules_and_cancels_jobs(stack: Stack, api_url: str) -> None:
    configure(stack, "emmie", "mailchimp", GOOD_MAILCHIMP)
    out = sintra(stack, api_url, "schedules", "create", "--cron", "0 9 * * MON", "--timezone", "Europe/Paris",
                 "--agent", "emmie", "--integration", "mailchimp", "--action", "list_campaigns",
                 "--params", '{"limit": 3}', "--json")
    assert out.returncode == 0, out.stderr
    sid = json.loads(out.stdout)["id"]
    assert sid in sintra(stack, api_url, "schedules", "list").stdout
    assert json.loads(sintra(stack, api_url, "schedules", "pause", sid, "--json").stdout)["status"] == "paused"
    bad = sintra(stack, api_url, "schedules", "create", "--cron", "bad", "--agent", "emmie",
                 "--integration", "mailchimp", "--action", "list_campaigns")
    assert bad.returncode == 1 and "5 fields" in bad.stderr
    assert sintra(stack, api_url, "schedules", "delete", sid).returncode == 0
    run_at = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    job_id = submit(stack, "emmie", "mailchimp", "list_campaigns", {}, run_at=run_at).json()["id"]
    assert json.loads(sintra(stack, api_url, "jobs", "cancel", job_id, "--json").stdout)["status"] == "cancelled"


def _ok(out: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert out.returncode == 0, out.stdout + out.stderr
    return out


def test_cli_integrations_lifecycle_with_tables_and_json(stack: Stack, api_url: str) -> None:
    table = _ok(sintra(stack, api_url, "integrations", "list", "--agent", "emmie")).stdout
    assert table.splitlines()[0].split()[:4] == ["AGENT", "ID", "NAME", "STATUS"] and "mailchimp" in table
    _ok(sintra(stack, api_url, "integrations", "configure", "emmie", "mailchimp",
               "--set", f"api_key={GOOD_MAILCHIMP['api_key']}", "--set", f"list_id={GOOD_MAILCHIMP['list_id']}"))
    assert GOOD_MAILCHIMP["api_key"] not in sintra(stack, api_url, "integrations", "show", "emmie", "mailchimp").stdout
    connected = _ok(sintra(stack, api_url, "integrations", "connect", "emmie", "mailchimp", "--json"))
    assert json.loads(connected.stdout)["status"] == "connected"
    shown = json.loads(_ok(sintra(stack, api_url, "integrations", "show", "emmie", "mailchimp", "--json")).stdout)
    assert shown["status"] == "connected"
    bad = sintra(stack, api_url, "integrations", "show", "emmie", "nothing")
    assert bad.returncode == 1 and "404" in bad.stderr


def test_cli_jobs_create_wait_list_get_and_exit_codes(stack: Stack, api_url: str) -> None:
    configure(stack, "emmie", "mailchimp", GOOD_MAILCHIMP)
    made = _ok(sintra(stack, api_url, "jobs", "create", "emmie", "mailchimp", "list_campaigns",
                      "--params", '{"limit": 2}', "--json"))
    job_id = json.loads(made.stdout)["id"]
    waited = _ok(sintra(stack, api_url, "jobs", "wait", job_id, "--timeout", "30"))
    assert "status: succeeded" in waited.stdout and "[succeeded]" in waited.stderr
    listed = _ok(sintra(stack, api_url, "jobs", "list", "--agent", "emmie", "--limit", "500")).stdout
    assert job_id in listed and listed.startswith("ID")
    assert json.loads(_ok(sintra(stack, api_url, "jobs", "get", job_id, "--json")).stdout)["status"] == "succeeded"
    failed = sintra(stack, api_url, "jobs", "create", "emmie", "mailchimp", "get_campaign_report",
                    "--params", '{"campaign_id": "missing-campaign"}', "--wait", "--timeout", "60", "--quiet")
    assert failed.returncode == 3, failed.stdout + failed.stderr  # the job failed
    assert sintra(stack, api_url, "jobs", "create", "emmie", "mailchimp", "nope").returncode == 1
    assert sintra(stack, api_url, "jobs", "list", "--cursor", "junk").returncode == 1
    down = subprocess.run([sys.executable, "-m", "producers.cli", "jobs", "get", job_id],
                          env={**os.environ, "SINTRA_API_URL": "http://127.0.0.1:9", "SINTRA_API_KEY": stack.key},
                          capture_output=True, text=True)
    assert down.returncode == 5 and "cannot reach the API" in down.stderr


def test_cli_workflows_and_webhooks(stack: Stack, api_url: str) -> None:
    assert "seo_analysis" in _ok(sintra(stack, api_url, "workflows", "list")).stdout
    run = json.loads(_ok(sintra(stack, api_url, "workflows", "run", "seo_analysis", "--params",
                                '{"domain": "example.com"}', "--json")).stdout)
    assert run["kind"] == "workflow"
    created = _ok(sintra(stack, api_url, "webhooks", "create", "https://hooks.example.com/cli",
                         "--events", "job.failed,schedule.paused")).stdout
    secret = created.strip().splitlines()[-1]
    assert secret.startswith("whsec_")
    hooks = json.loads(_ok(sintra(stack, api_url, "webhooks", "list", "--json")).stdout)["webhooks"]
    hook_id = next(h["id"] for h in hooks if h["url"] == "https://hooks.example.com/cli")
    shown = _ok(sintra(stack, api_url, "webhooks", "show", hook_id)).stdout
    assert "hooks.example.com/cli" in shown and secret not in shown
    assert "(none)" in _ok(sintra(stack, api_url, "webhooks", "deliveries", hook_id)).stdout
    assert sintra(stack, api_url, "webhooks", "redeliver", hook_id, "msg_nope").returncode == 1
    _ok(sintra(stack, api_url, "webhooks", "delete", hook_id))
    refused = sintra(stack, api_url, "webhooks", "create", "http://10.0.0.1/x", "--events", "job.failed")
    assert refused.returncode == 1 and "invalid_url" in refused.stderr


def test_cli_retries_a_failed_job_and_cancels_a_scheduled_one(stack: Stack, api_url: str) -> None:
    configure(stack, "emmie", "mailchimp", GOOD_MAILCHIMP)
    failed = submit(stack, "emmie", "mailchimp", "get_campaign_report", {"campaign_id": "missing-2"}).json()["id"]
    assert sintra(stack, api_url, "jobs", "wait", failed, "--quiet").returncode == 3
    again = json.loads(_ok(sintra(stack, api_url, "jobs", "retry", failed, "--json")).stdout)
    assert again["id"] == failed and again["status"] in ("queued", "running", "failed")
    ok = submit(stack, "emmie", "mailchimp", "list_campaigns", {}).json()["id"]
    assert sintra(stack, api_url, "jobs", "wait", ok, "--quiet").returncode == 0
    refused = sintra(stack, api_url, "jobs", "retry", ok)
    assert refused.returncode == 1 and "not_retryable" in refused.stderr


def test_cli_follows_the_workspace_event_stream(stack: Stack, api_url: str) -> None:
    from workers.store import events
    from workers.store.db import session_scope

    with session_scope(stack.engine) as s:
        last = events.since(s, workspace=stack.workspace, after_id=0, limit=100000)
        events.record(s, workspace=stack.workspace, type="schedule.paused", data={"schedule_id": "cli-s"})
    after = str(last[-1].id) if last else "0"
    out = _ok(sintra(stack, api_url, "events", "--after", after, "--types", "schedule.paused", "--seconds", "1",
                     "--json"))
    got = [json.loads(line) for line in out.stdout.splitlines()]
    assert [e["type"] for e in got] == ["schedule.paused"] and got[0]["data"]["schedule_id"] == "cli-s"
    table = _ok(sintra(stack, api_url, "events", "--after", after, "--seconds", "1")).stdout
    assert "schedule.paused" in table and "cli-s" in table
