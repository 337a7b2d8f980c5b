"""Every example in the catalog works as written: it validates, and runs through the whole path.

The actions come from the catalog (every available action of every implemented integration), never from a
hand list. Each example of an action's parameter model (its JSON Schema ``examples``) is submitted to the
real API of the ``stack`` fixture, in a workspace of its own whose integrations are configured with their
credential fields' own examples against a freshly reset simulator; a worker runs it; the job must succeed,
and its result must validate against the action's declared result schema (config/catalog/results/), which the
API's action listing shows. All are submitted first, then awaited.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from config.catalog import ActionSpec, NoParams, agents
from config.catalog.results import Result, registry
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


def test_every_available_action_declares_a_result_schema_and_nothing_else_does() -> None:
    problems = [f"{agent}/{integration}.{action.name}: no declared result schema"
                for agent, integration, action in available() if action.result_model(integration) is None]
    declared = {(integration, action.name) for _, integration, action in available()}
    problems += [f"{key}: declared but not an available action of the catalog" for key in registry()
                 if key not in declared]
    problems += [f"{key}: {model.__name__} must be a Result (extra fields allowed)" for key, model in registry().items()
                 if not issubclass(model, Result) or model.model_config.get("extra") != "allow"]
    assert not problems, "\n".join(problems)


def result_problems(action: ActionSpec, integration: str, result: Any) -> list[str]:
    """Why ``result`` does not match the action's declared result model (empty: it does)."""
    model = action.result_model(integration)
    if model is None:
        return ["no declared result schema"]
    try:
        model.model_validate(result)
    except ValidationError as exc:
        return [f"{'.'.join(str(p) for p in e['loc']) or '(result)'}: {e['msg']}" for e in exc.errors()]
    return []


def listed_result_schemas(stack: Stack, key: str) -> dict[tuple[str, str, str], Any]:
    """(agent, integration, action) -> ``result_schema`` as the API's integration listing shows it."""
    out: dict[tuple[str, str, str], Any] = {}
    for agent, integration in sorted({(a, i) for a, i, _ in available()}):
        body = stack.api.get(f"/api/integrations/{agent}/{integration}", headers=stack.headers(key)).json()
        out |= {(agent, integration, act["name"]): act["result_schema"] for act in body["actions"]}
    return out


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)  # the examples do not depend on the database
def test_every_example_succeeds_against_a_fresh_simulator(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(SemrushClient, "POLL_INTERVAL", 0.05)  # a Site Audit finishes after a few polls
    httpx.post(f"{stack.simulator.url}/_sim/reset").raise_for_status()  # type: ignore[attr-defined]
    key = new_key(stack)
    for agent, integration in sorted({(a, i) for a, i, _ in available()}):
        configure(stack, agent, integration, credentials(agent, integration), connect=False, key=key)
    listed = listed_result_schemas(stack, key)
    failed = [f"{a}/{i}.{act.name}: the API lists result_schema {listed.get((a, i, act.name))!r:.80}"
              for a, i, act in available() if listed.get((a, i, act.name)) != act.result_schema(i)]
    submitted: dict[str, tuple[str, str, ActionSpec]] = {}
    for agent, integration, action in available():
        for n, example in enumerate(examples_of(action)):
            r = stack.api.post("/api/jobs", headers=stack.headers(key), json={
                "agent": agent, "integration": integration, "action": action.name, "params": example})
            assert r.status_code == 202, f"{integration}.{action.name} example {n}: {r.text}"
            submitted[r.json()["id"]] = (f"{agent}/{integration}.{action.name} example {n}", integration, action)
    pending, deadline = set(submitted), time.monotonic() + WAIT_SECONDS
    while pending and time.monotonic() < deadline:
        for job_id in list(pending):
            job = stack.api.get(f"/api/jobs/{job_id}", headers=stack.headers(key)).json()
            if job["status"] in ("succeeded", "failed", "cancelled"):
                pending.discard(job_id)
                what, integration, action = submitted[job_id]
                if job["status"] != "succeeded":
                    failed.append(f"{what}: {job['status']} {job.get('error')}")
                failed += [f"{what}: result does not match its declared schema: {problem}"
                           for problem in result_problems(action, integration, job["result"])
                           if job["status"] == "succeeded"]
        time.sleep(0.1)
    assert not failed and not pending, "\n".join(failed + [f"{submitted[j][0]}: still running" for j in pending])
