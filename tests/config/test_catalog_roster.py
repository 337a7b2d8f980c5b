"""The roster builds an agent's specs when it is first asked for: a worker for one agent holds only its own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from config.catalog import CatalogError, agent, agents, profile, profiles, provider_integrations
from config.catalog.roster import ROSTER

ROOT = Path(__file__).resolve().parents[2]


def test_each_integration_module_is_named_after_its_provider() -> None:
    """What :func:`config.catalog.provider_integrations` relies on to build one provider's integrations only."""
    for (p, refs), spec in zip(ROSTER, agents(), strict=True):
        assert p.id == spec.id
        assert [ref.split(".")[0] for ref in refs] == [i.provider for i in spec.integrations]


def test_provider_integrations_are_every_agents_integrations_of_that_provider() -> None:
    providers = {i.provider for a in agents() for i in a.integrations}
    for provider in providers:
        assert provider_integrations(provider) == [i for a in agents() for i in a.integrations
                                                   if i.provider == provider]
    assert provider_integrations("nosuch") == []


def test_profiles_match_the_built_agents() -> None:
    assert [p.id for p in profiles()] == [a.id for a in agents()]
    for p, a in zip(profiles(), agents(), strict=True):
        assert (p.queue, p.actor_name, p.time_limit_ms, p.max_retries) == \
            (a.queue, a.actor_name, a.time_limit_ms, a.max_retries)
        assert profile(a.id) is p and agent(a.id) is a  # built once
    for unknown in ("nosuch", "", None):
        with pytest.raises(CatalogError, match="unknown agent"):
            agent(unknown)  # type: ignore[arg-type]
        with pytest.raises(CatalogError, match="unknown agent"):
            profile(unknown)  # type: ignore[arg-type]


def test_every_parameter_model_builds() -> None:
    """Parameter models build on first use (``defer_build``): each one does, with its schema."""
    for a in agents():
        for i in a.integrations:
            for action in i.actions:
                assert action.params.model_json_schema()["type"] == "object"


def test_a_worker_for_one_agent_builds_only_that_agent() -> None:
    code = ("import json, sys, workers.agents as wa; "
            "print(json.dumps([sorted(m.rsplit('.', 1)[1] for m in sys.modules "
            "if m.startswith('config.catalog.integrations.')), [a.id for a in wa.SERVED]]))")
    env = {**os.environ, "SINTRA_WORKER_AGENT": "emmie", "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True, capture_output=True,
                         text=True).stdout
    loaded, served = json.loads(out.strip().splitlines()[-1])
    assert served == ["emmie"]
    assert loaded == sorted(i.provider for i in agent("emmie").integrations)
