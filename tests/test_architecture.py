"""The shape of the code: contract boundaries, actors match the catalog, public surfaces."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

from config.catalog import agents

ROOT = Path(__file__).resolve().parent.parent


def test_import_contracts_hold() -> None:
    """config imports no app code; producers/schedules import no actors, providers or credential readers."""
    result = subprocess.run([str(Path(sys.executable).parent / "lint-imports")], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_contract_imports_without_worker_or_vault_code() -> None:
    code = ("import sys, config, config.catalog, config.messages, config.settings; "
            "config.catalog.agents(); "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('workers', 'producers', 'hvac', 'dramatiq')]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


def test_one_actor_per_catalog_agent_on_its_own_queue() -> None:
    import workers.agents as wa

    assert set(wa.ACTORS) == {a.id for a in agents()}
    for spec in agents():
        actor = wa.ACTORS[spec.id]
        assert actor.actor_name == spec.actor_name and actor.queue_name == spec.queue
    assert len({a.queue for a in agents()}) == 7


def test_catalog_has_seven_agents_and_26_pairs_over_23_providers() -> None:
    pairs = [(a.id, i.id) for a in agents() for i in a.integrations]
    assert len(agents()) == 7 and len(pairs) == 26 == len(set(pairs))
    # 23 providers; LinkedIn and HubSpot each serve two agents in two roles, GA4 serves two agents
    assert len({i.provider for a in agents() for i in a.integrations}) == 23
    assert len({i.id for a in agents() for i in a.integrations}) == 25


def test_public_client_surface_is_declared() -> None:
    import producers.client as client

    assert set(client.__all__) == {"SintraClient", "AsyncSintraClient", "SintraApiError",
                                   "WebhookVerificationError", "verify"}
    for name in client.__all__:
        assert getattr(client, name).__doc__


def test_docker_compose_has_every_service_and_one_worker_per_agent() -> None:
    from config.settings import Settings

    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"redis", "postgres", "openbao", "api", "simulator"} <= set(services)
    assert "--appendonly" in services["redis"]["command"]
    for spec in agents():
        svc = services[f"worker-{spec.id}"]
        assert svc["command"][-2:] == ["--agent", spec.id] and svc["environment"]["SINTRA_WORKER_AGENT"] == spec.id
    known = set(Settings.model_fields)
    for name, svc in services.items():
        for var in (svc.get("environment") or {}):
            if var.startswith("SINTRA_") and var != "SINTRA_WORKER_AGENT":
                field = var[len("SINTRA_"):].split("__")[0].lower()
                assert field in known, f"{name}: {var} is not a setting"


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "make test" in readme and "make run" in readme
    assert "make test" in (ROOT / ".ci" / "run").read_text()
