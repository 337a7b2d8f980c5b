"""Deployment by reading: least privilege in docker-compose.yml and the Dockerfile, private state files."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import yaml

from config.catalog import agents
from workers.store.db import build_engine

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
APPS = {name for name, svc in SERVICES.items() if svc.get("image") == "sintra:local"}


def test_only_the_bootstrap_service_mounts_the_root_token_and_unseal_key() -> None:
    holders = [name for name, svc in SERVICES.items()
               for v in svc.get("volumes") or [] if str(v).startswith("bao-init")]
    assert holders == ["vault-bootstrap"]


def test_each_container_gets_only_its_own_approle() -> None:
    for spec in agents():
        secrets = SERVICES[f"worker-{spec.id}"]["secrets"]
        assert secrets == [{"source": f"approle-{spec.id}", "target": f"{spec.id}.json"}]
    assert SERVICES["api"]["secrets"] == [{"source": "approle-api", "target": "api.json"}]
    assert SERVICES["scheduler"]["secrets"] == [{"source": "approle-webhooks", "target": "webhooks.json"}]
    for name in APPS - {"api", "scheduler", "vault-bootstrap"} - {f"worker-{a.id}" for a in agents()}:
        assert not SERVICES[name].get("secrets"), name


def test_no_default_passwords_and_redis_requires_one() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    assert re.findall(r"PASSWORD[^\n]*", text) and all(
        "${" not in line or ":?" in line for line in re.findall(r"PASSWORD[^\n]*", text))
    assert "--requirepass" in SERVICES["redis"]["command"]
    assert "POSTGRES_PASSWORD: sintra" not in text and "sintra:sintra@" not in text


def test_containers_run_as_non_root_and_the_api_is_published_on_loopback_only() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^USER (?!root|0\b)\S+", dockerfile, re.M)
    assert all(p.startswith("127.0.0.1:") for p in SERVICES["api"]["ports"])


def test_sqlite_state_file_is_0600_in_a_0700_directory(tmp_path: Path) -> None:
    db = tmp_path / "state" / "nested" / "sintra.db"
    engine = build_engine(f"sqlite:///{db}")
    with engine.connect():
        pass
    engine.dispose()
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    assert stat.S_IMODE(db.parent.stat().st_mode) == 0o700 and stat.S_IMODE(db.parent.parent.stat().st_mode) == 0o700
