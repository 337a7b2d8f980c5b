"""Fixtures for provider tests: one real simulator server per session, reset before every test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from simulator.server import SimulatorServer, start_in_thread


class SimControl:
    """The simulator's control API: faults, reset and the call log."""

    def __init__(self, server: SimulatorServer) -> None:
        self.url = server.url
        self.http = httpx.Client(base_url=server.url, timeout=10)

    def fault(self, provider: str, status: int, **spec: Any) -> None:
        """Queue a fault (see ``simulator.control.FaultSpec``)."""
        body = {"provider": provider, "status": status, **spec}
        self.http.post("/_sim/faults", json=body).raise_for_status()

    def reset(self) -> None:
        """Clear all simulator state."""
        self.http.post("/_sim/reset").raise_for_status()

    def calls(self, provider: str, method: str | None = None, contains: str = "",
              path: str | None = None) -> list[dict[str, Any]]:
        """Requests the simulator received, filtered by method, path substring or exact path."""
        calls = self.http.get("/_sim/calls", params={"provider": provider}).json()
        return [c for c in calls if (method is None or c["method"] == method) and contains in c["path"]
                and (path is None or c["path"] == path)]


@pytest.fixture(scope="session")
def simulator() -> Iterator[SimulatorServer]:
    """The provider simulator on a free local port, over real HTTP."""
    server = start_in_thread()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def sim(simulator: SimulatorServer) -> Iterator[SimControl]:
    """Control of the simulator, reset before every test."""
    control = SimControl(simulator)
    control.reset()
    yield control
    control.http.close()


@pytest.fixture
def pin_header(monkeypatch: pytest.MonkeyPatch) -> Any:
    """``pin_header(ClientClass, name, value)``: the client sends ``value`` in the definition's header ``name``
    (an older API version, to see how the provider answers it); the definition itself is untouched."""

    def pin(cls: Any, name: str, value: str) -> None:
        real = cls.definition()
        assert name in real.headers, f"{cls.provider} sends no header {name!r}"
        pinned = real.model_copy(update={"headers": {**real.headers, name: value}})
        monkeypatch.setattr(cls, "definition", classmethod(lambda _cls: pinned))

    return pin
