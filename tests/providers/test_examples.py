"""Every example in the catalog works as written: it validates, and runs through the whole path.

The actions come from the catalog (every available action of every implemented integration), never from a
hand list. Each example of an action's parameter model (its JSON Schema ``examples``) is submitted to the
real API of the ``stack`` fixture, in a workspace of its own whose integrations are configured with their
credential fields' own examples against a freshly reset simulator; a worker runs it; the job must succeed.
All are submitted first, then awaited.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from config.catalog import ActionSpec, NoParams, agents
from tests.integration.conftest import Stack
from tests.integration.helpers import configure, new_key
from workers.providers.semrush import SemrushClient
from workers.store.models import utcnow

#: Seconds all the example jobs together may take.
WAIT_SECONDS = 60.0


def available() -> list[tuple[str, str, ActionSpec]]:
    """(agent, integration, action) for every available action of every implemented integration."""
    return [(a.id, i.id, act) for a in agents() for i in a.integrations
            if i.implemented and i.availability == "available"
            for act in i.actions if not act.restricted]


def examples_of(action: ActionSpec) -> list[dict[str, Any]]:
    """The examples of an action's parameters, as its JSON Schema shows them (NoParams: one empty)."""
    if action.params is NoParams:
        return [{}]
    return list(action.schema_json().get("examples") or [])


def credentials(agent: str, integration: str) -> dict[str, str]:
    """The integration's credential fields, each set to its own example."""
    spec = next(i for a in agents() if a.id == agent for i in a.integrations if i.id == integration)
    return {f.name: f.example for f in spec.credential_fields if f.example}


def test_every_credential_field_and_available_action_has_examples_that_validate() -> None:
    problems = [f"{a.id}/{i.id}: credential field {f.name!r} has no example" for a in agents()
                for i in a.integrations if i.implemented for f in i.credential_fields if not f.example]
    for agent, integration, action in available():
        found = examples_of(action)
        if not found:
            problems.append(f"{agent}/{integration}.{action.name}: no example in its JSON Schema")
        for example in found:
            try:
                action.params.model_validate(example, context={"now": utcnow()})
            except ValueError as exc:
                problems.append(f"{agent}/{integration}.{action.name}: example {example} is invalid: {exc}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)  # the examples do not depend on the database
def test_every_example_succeeds_against_a_fresh_simulator(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(SemrushClient, "POLL_INTERVAL", 0.05)  # a Site Audit finishes after a few polls
    httpx.post(f"{stack.simulator.url}/_sim/reset").raise_for_status()  # type: ignore[attr-defined]
    key = new_key(stack)
    for agent, integration in sorted({(a, i) for a, i, _ in available()}):
        configure(stack, agent, integration, credentials(agent, integration), connect=False, key=key)
    submitted: dict[str, str] = {}
    for agent, integration, action in available():
        for n, example in enumerate(examples_of(action)):
            r = stack.api.post("/api/jobs", headers=stack.headers(key), json={
                "agent": agent, "integration": integration, "action": action.name, "params": example})
            assert r.status_code == 202, f"{integration}.{action.name} example {n}: {r.text}"
            submitted[r.json()["id"]] = f"{agent}/{integration}.{action.name} example {n}"
    pending, failed, deadline = set(submitted), [], time.monotonic() + WAIT_SECONDS
    while pending and time.monotonic() < deadline:
        for job_id in list(pending):
            job = stack.api.get(f"/api/jobs/{job_id}", headers=stack.headers(key)).json()
            if job["status"] in ("succeeded", "failed", "cancelled"):
                pending.discard(job_id)
                if job["status"] != "succeeded":
                    failed.append(f"{submitted[job_id]}: {job['status']} {job.get('error')}")
        time.sleep(0.1)
    assert not failed and not pending, "\n".join(failed + [f"{submitted[j]}: still running" for j in pending])
