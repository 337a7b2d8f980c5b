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
