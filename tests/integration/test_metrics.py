"""``/metrics`` after a known workload: queue depths from Redis, jobs and provider calls from the database."""

from __future__ import annotations

import re

from tests.integration.conftest import Stack
from tests.integration.helpers import GOOD_MAILCHIMP, configure, submit, wait_job


def _value(text: str, name: str, **labels: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            found = dict(re.findall(r'(\w+)="([^"]*)"', line.split(" ")[0]))
            if all(found.get(k) == v for k, v in labels.items()):
                return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no {name} {labels} in /metrics")


def test_metrics_count_a_known_workload(stack: Stack) -> None:
    configure(stack, "emmie", "mailchimp", GOOD_MAILCHIMP)
    before = stack.api.get("/metrics").text
    ok0 = _value(before, "sintra_jobs", agent="emmie", status="succeeded") if 'agent="emmie",status="succeeded"' \
        in before else 0.0
    calls0 = _value(before, "sintra_provider_call_duration_seconds_count", integration="mailchimp",
                    action="list_campaigns") if 'action="list_campaigns"' in before else 0.0
    ids = [submit(stack, "emmie", "mailchimp", "list_campaigns", {"limit": 1}).json()["id"] for _ in range(4)]
    assert all(wait_job(stack, i)["status"] == "succeeded" for i in ids)
    r = stack.api.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    text = r.text
    assert _value(text, "sintra_jobs", agent="emmie", status="succeeded") == ok0 + 4
    assert _value(text, "sintra_provider_call_duration_seconds_count", integration="mailchimp",
                  action="list_campaigns") == calls0 + 4
    assert _value(text, "sintra_provider_call_duration_seconds_bucket", integration="mailchimp",
                  action="list_campaigns", le="+Inf") == calls0 + 4
    assert _value(text, "sintra_provider_responses_total", integration="mailchimp", status_class="2xx") >= 4
    for state in ("ready", "delayed", "in_flight", "dead"):
        assert _value(text, "sintra_queue_messages", queue="agent.emmie", state=state) >= 0
    assert _value(text, "sintra_queue_messages", queue="agent.emmie", state="ready") == 0  # all were consumed
    assert _value(text, "sintra_broker_workers") >= 1
    assert _value(text, "sintra_scheduler_lag_seconds") >= 0


def test_the_grafana_dashboard_only_uses_exported_metrics(stack: Stack) -> None:
    import json
    from pathlib import Path

    import yaml

    root = Path(__file__).resolve().parents[2]
    dash = json.loads((root / "deploy" / "grafana" / "sintra.json").read_text())
    used = {m for p in dash["panels"] for t in p["targets"] for m in re.findall(r"sintra_[a-z_]+", t["expr"])}
    exported = set(re.findall(r"^# TYPE (sintra_[a-z_]+) ", stack.api.get("/metrics").text, re.M))
    suffixes = ("_bucket", "_total", "_count", "_sum")
    missing = {m for m in used if m not in exported and not any(m.endswith(s) and m[:-len(s)] in exported
                                                                 for s in suffixes)}
    assert used and not missing, missing
    prom = yaml.safe_load((root / "deploy" / "prometheus.yml").read_text())
    assert prom["scrape_configs"][0]["static_configs"][0]["targets"] == ["api:8000"]
    compose = yaml.safe_load((root / "docker-compose.yml").read_text())
    assert "./deploy/prometheus.yml:/etc/prometheus/prometheus.yml:ro" in compose["services"]["prometheus"]["volumes"]


def test_metrics_from_a_multi_process_worker_run(stack: Stack) -> None:
    """Two dramatiq worker processes (plus the stack's own worker) share the work; one scrape counts it all."""
    import os
    import signal
    import subprocess
    import sys
    import time

    configure(stack, "emmie", "mailchimp", GOOD_MAILCHIMP)
    env = {**os.environ, "SINTRA_DATABASE_URL": stack.settings.db_url,
           "SINTRA_STATE_DIR": str(stack.settings.state_dir), "SINTRA_VAULT_ADDR": stack.settings.vault_addr,
           "SINTRA_WORKER_AGENT": "emmie", "SINTRA_LOG_LEVEL": "WARNING",
           "SINTRA_PROVIDER_ROOT": stack.settings.provider_root}
    before = stack.api.get("/metrics").text
    alive0 = _value(before, "sintra_worker_processes", agent="emmie") if 'sintra_worker_processes{agent="emmie"}' \
        in before else 0.0
    ok0 = _value(before, "sintra_jobs", agent="emmie", status="succeeded") \
        if 'sintra_jobs{agent="emmie",status="succeeded"}' in before else 0.0
    proc = subprocess.Popen([sys.executable, "-m", "workers", "--agent", "emmie", "--processes", "2"],
                            env={**env, "SINTRA_WORKER_CONCURRENCY": "2"}, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while _alive(stack) < alive0 + 2:
            assert proc.poll() is None, "the worker processes exited"
            assert time.monotonic() < deadline, "two worker processes did not heartbeat"
            time.sleep(0.5)
        ids = [submit(stack, "emmie", "mailchimp", "list_campaigns", {"limit": 1}).json()["id"] for _ in range(8)]
        assert all(wait_job(stack, i, timeout=60)["status"] == "succeeded" for i in ids)
        text = stack.api.get("/metrics").text
        assert _value(text, "sintra_jobs", agent="emmie", status="succeeded") == ok0 + 8
        assert _value(text, "sintra_job_duration_seconds_count", agent="emmie", action="list_campaigns",
                      status="succeeded") >= 8
        assert _value(text, "sintra_queue_messages", queue="agent.emmie", state="ready") == 0
        assert _value(text, "sintra_worker_heartbeat_age_seconds", agent="emmie") < 60
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)


def _alive(stack: Stack) -> float:
    text = stack.api.get("/metrics").text
    return _value(text, "sintra_worker_processes", agent="emmie") if 'sintra_worker_processes{agent="emmie"}' \
        in text else 0.0


def test_429s_and_5xx_show_as_rate_limit_waits_retries_and_status_classes(stack: Stack) -> None:
    from tests.integration.helpers import fault

    configure(stack, "emmie", "mailchimp", GOOD_MAILCHIMP)

    def read(name: str, **labels: str) -> float:
        text = stack.api.get("/metrics").text
        try:
            return _value(text, name, **labels)
        except AssertionError:
            return 0.0

    waits0, retries0 = read("sintra_rate_limit_waits_total"), read("sintra_job_retries_total", agent="emmie")
    c4, c5 = (read("sintra_provider_responses_total", integration="mailchimp", status_class=k) for k in ("4xx", "5xx"))
    fault(stack, "mailchimp", 429, path="/campaigns", times=1, retry_after=0.2)
    fault(stack, "mailchimp", 503, path="/campaigns", times=1)
    job = wait_job(stack, submit(stack, "emmie", "mailchimp", "list_campaigns", {}).json()["id"], timeout=60)
    assert job["status"] == "succeeded" and job["attempts"] >= 2
    assert read("sintra_rate_limit_waits_total") == waits0 + 1
    assert read("sintra_provider_responses_total", integration="mailchimp", status_class="4xx") == c4 + 1
    assert read("sintra_provider_responses_total", integration="mailchimp", status_class="5xx") == c5 + 1
    assert read("sintra_job_retries_total", agent="emmie") >= retries0 + 1
