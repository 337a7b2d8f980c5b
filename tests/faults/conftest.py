"""Fixtures of the fault suite: one real-process stack per broker, shared by its scenarios."""

from __future__ import annotations

from collections.abc import Iterator
import tempfile
from pathlib import Path

import pytest

from tests.conftest import require_service
from tests.faults.stack import SUMMARIES, Stack


def broker_url_supported() -> bool:
    """Whether main's settings know ``SINTRA_BROKER_URL`` (RabbitMQ support landed)."""
    from config.settings import Settings

    return "broker_url" in Settings.model_fields


@pytest.fixture(scope="session", params=["redis", "rabbitmq"])
def broker(request: pytest.FixtureRequest) -> str:
    """Each broker a scenario runs on."""
    if request.param == "rabbitmq":
        if not broker_url_supported():
            pytest.fail("SINTRA_BROKER_URL (RabbitMQ) is not supported by this checkout", pytrace=False)
        try:
            import pika  # noqa: F401
        except ImportError:
            pytest.fail("pika (dramatiq[rabbitmq]) is not installed: run make install", pytrace=False)
    return str(request.param)


_stacks: dict[str, Stack] = {}
_failed: dict[str, str] = {}


def _stack(kind: str, tmp_path_factory: pytest.TempPathFactory) -> Stack:
    for other in [k for k in _stacks if k != kind]:  # one stack at a time: 2 cores
        _stacks.pop(other).close()
    if kind in _failed:
        pytest.fail(f"the {kind} stack did not start: {_failed[kind]}", pytrace=False)
    if kind not in _stacks:
        for name in ("PostgreSQL", "Redis"):
            require_service(name)
        # not under pytest's basetemp: other pytest runs on this machine prune old basetemps, and the
        # stack's Redis and OpenBao data live here for the whole session
        tmp = Path(tempfile.mkdtemp(prefix=f"sintra-faults-{kind}-"))
        print(f"\nfault stack [{kind}]: logs in {tmp / 'logs'}", flush=True)
        try:
            _stacks[kind] = Stack(tmp, broker=kind)
        except Exception as exc:
            _failed[kind] = f"{exc} (logs in {tmp / 'logs'})"
            raise
    stack = _stacks[kind]
    stack.ensure_up()
    return stack


@pytest.fixture
def stack(broker: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The running stack of ``broker`` (started once per session), every component up."""
    yield _stack(broker, tmp_path_factory)


@pytest.fixture
def redis_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The Redis-broker stack: for the Redis outages, and faults one broker is enough for."""
    yield _stack("redis", tmp_path_factory)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    for stack in _stacks.values():
        stack.close()
    _stacks.clear()


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # type: ignore[no-untyped-def]
    if SUMMARIES:
        terminalreporter.section("fault suite figures")
        for line in SUMMARIES:
            terminalreporter.write_line(line)


def logs_hint(stack: Stack) -> str:
    return f"logs in {Path(stack.logdir)}"
