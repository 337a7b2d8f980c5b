"""Every example of every available action (providers jasper..zendesk) succeeds as written, through the full
path (API -> Redis -> worker -> OpenBao -> simulator -> database), on an integration configured with its
credential fields' own examples against a fresh simulator."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from config.catalog import IntegrationSpec, agents
from config.catalog.base import NoParams
from tests.integration.conftest import Stack
from tests.integration.helpers import configure, submit
from workers.providers.semrush import SemrushClient

#: The integrations this suite covers (the other half is in test_examples.py).
INTEGRATIONS = ("jasper", "linkedin", "linkedin_sales", "mailchimp", "mixpanel", "pipedrive", "salesforce",
                "semrush", "sendgrid", "tiktok", "x", "zendesk")


def integrations() -> list[tuple[str, IntegrationSpec]]:
    """(agent, integration) of every covered integration, once each."""
    found = {i.id: (a.id, i) for a in reversed(agents()) for i in a.integrations if i.id in INTEGRATIONS}
    return [found[i] for i in INTEGRATIONS]


def examples(spec: IntegrationSpec) -> list[tuple[str, dict[str, Any]]]:
    """(action, params) of every example of every available action of ``spec``."""
    return [(a.name, ex) for a in spec.actions if not a.restricted and a.params is not NoParams
            for ex in a.schema_json().get("examples", [])]


def test_every_available_action_has_an_example_that_validates() -> None:
    for _, spec in integrations():
        assert all(f.example for f in spec.credential_fields), f"{spec.id}: a credential field has no example"
        for action in spec.actions:
            if action.restricted or action.params is NoParams:
                continue
            found = action.schema_json().get("examples")
            assert found, f"{spec.id}.{action.name} has no example"
            for example in found:
                action.params.model_validate(example)


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_every_example_succeeds_against_a_fresh_simulator(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(SemrushClient, "POLL_INTERVAL", 0.05)  # a Site Audit finishes after a few polls
    httpx.post(f"{stack.simulator.url}/_sim/reset").raise_for_status()  # type: ignore[attr-defined]
    submitted: dict[str, tuple[str, str, dict[str, Any]]] = {}
    for agent, spec in integrations():
        configure(stack, agent, spec.id, {f.name: f.example for f in spec.credential_fields})
        for action, params in examples(spec):
            r = submit(stack, agent, spec.id, action, params)
            assert r.status_code == 202, (spec.id, action, r.text)
            submitted[r.json()["id"]] = (spec.id, action, params)
    pending, failed, deadline = set(submitted), [], time.monotonic() + 60
    while pending and time.monotonic() < deadline:
        for job_id in list(pending):
            job = stack.api.get(f"/api/jobs/{job_id}", headers=stack.headers()).json()
            if job["status"] in ("succeeded", "failed", "cancelled"):
                pending.discard(job_id)
                if job["status"] != "succeeded":
                    failed.append((*submitted[job_id], job["error"]))
        time.sleep(0.1)
    assert not failed, "\n".join(map(str, failed))
    assert not pending, [submitted[j] for j in pending]
