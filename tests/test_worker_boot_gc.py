"""A worker process takes what it built at boot out of the garbage collector's sight (workers/context.py).

Why it matters: under gevent a full collection stops every job of the process; walking the boot-time
objects (modules, catalog, pools) is what made one take tens of milliseconds (pickup latency's tail).
No service is reached: the dependency check and the background loops are replaced.
"""

from __future__ import annotations

import gc
from typing import Any

import pytest

import workers.context as context


class _Loop:
    def __init__(self, *_a: Any, **_k: Any) -> None:
        pass

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass


class _Broker:
    def get_declared_queues(self) -> set[str]:
        return {"agent.emmie"}


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    monkeypatch.setattr(context, "check_dependencies", lambda ctx: None)
    monkeypatch.setattr(context, "Heartbeat", _Loop)
    monkeypatch.setattr(context, "Maintenance", _Loop)
    monkeypatch.setattr(context, "configure_logging", lambda **_k: None)

    def collect(*_a: Any) -> int:
        seen.append("collect")
        return 0

    monkeypatch.setattr(gc, "collect", collect)
    monkeypatch.setattr(gc, "freeze", lambda: seen.append("freeze"))
    return seen


def test_a_worker_process_collects_then_freezes_what_it_built_at_boot(calls: list[str]) -> None:
    broker = _Broker()
    try:
        context.boot(broker)
        assert calls == ["collect", "freeze"]
    finally:
        context.shutdown(broker)


def test_a_context_a_test_installed_is_not_frozen(calls: list[str]) -> None:
    broker = _Broker()
    ctx = context.WorkerContext(settings=context.get_settings(), engine=None, credentials=None)  # type: ignore[arg-type]
    context.install(broker, ctx)
    try:
        context.boot(broker)
        assert calls == []
    finally:
        context._threads.pop(id(broker), None)
        context.install(broker, None)


def test_a_worker_of_one_agent_imports_its_providers_and_the_vault_client_at_boot_not_at_its_first_job() -> None:
    import subprocess
    import sys

    code = ("import sys, workers.context as c\n"
            "mods = ('workers.vault.api', 'workers.vault.client', 'workers.providers.mailchimp',"
            " 'workers.providers.hubspot', 'workers.providers.zendesk')\n"
            "c.warm_up(None)\n"
            "print([m in sys.modules for m in mods])\n"
            "c.warm_up('emmie')\n"
            "print([m in sys.modules for m in mods])\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=90)
    assert out.returncode == 0, out.stderr
    # a worker of every agent warms nothing (it would load every provider); emmie's: hers only, not zendesk
    assert out.stdout.split("\n")[:2] == ["[False, False, False, False, False]", "[True, True, True, True, False]"]
