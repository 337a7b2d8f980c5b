"""Engine factory and migrations (Alembic) for SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import create_engine, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.engine import Connection, Engine

if TYPE_CHECKING:
    from sqlmodel import Session

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
T = TypeVar("T")


def normalize_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL URLs given without a driver."""
    for plain in ("postgresql://", "postgres://"):
        if url.startswith(plain):
            return "postgresql+psycopg://" + url[len(plain):]
    return url


def _ensure_sqlite_dir(url: str) -> None:
    """The SQLite file's directory (made 0700 when we create it) and the file itself, 0600."""
    path = url.split("///", 1)[-1]
    if url.startswith("sqlite") and path and path != ":memory:" and not path.startswith("file:"):
        private_file(Path(path))


def private_file(path: Path) -> Path:
    """Create ``path`` (and missing parents, 0700) as an empty 0600 file if absent; make it 0600 if not."""
    private_dir(path.parent)
    if not path.exists():
        # never open (and close) an existing SQLite file: closing any descriptor of it would drop this
        # process's POSIX locks on it, which SQLite's own connections rely on
        try:
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        except FileExistsError:  # another process created it in between
            pass
    with contextlib.suppress(PermissionError):  # not ours (a mounted file): leave its mode to its owner
        os.chmod(path, 0o600)
    return path


def private_dir(path: Path) -> Path:
    """Create ``path`` and its missing parents with mode 0700 (existing directories are left as they are)."""
    missing = [p for p in (path, *path.parents) if not p.exists()]
    for p in reversed(missing):
        p.mkdir(mode=0o700, exist_ok=True)
        os.chmod(p, 0o700)  # mkdir's mode is filtered by the umask
    return path


def build_engine(url: str, *, pool_size: int = 10, max_overflow: int = 20) -> Engine:
    """An engine for ``url``; SQLite gets WAL and a busy timeout so several processes can share it.

    ``pool_size`` connections stay open: a worker passes its thread count (plus its own loops), because a
    connection beyond the pool is closed when returned, and PostgreSQL forks a backend for every new one.
    """
    url = normalize_url(url)
    if url.startswith("sqlite"):
        _ensure_sqlite_dir(url)
        # hide_parameters: an error's text and traceback never print the SQL parameters (values)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, hide_parameters=True,
                               pool_size=10, max_overflow=20)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    # no pre-ping on every checkout (a round trip each); recycle instead, ping only a connection that sat idle
    # (:func:`_ping_after_idle`), and a pool as large as a worker's threads
    engine = create_engine(url, pool_size=pool_size, max_overflow=max_overflow, pool_recycle=1800,
                           hide_parameters=True)
    _ping_after_idle(engine)
    return engine


#: A pooled connection unused for longer than this is pinged before it is handed out.
IDLE_PING_SECONDS = 5.0


def _ping_after_idle(engine: Engine) -> None:
    """Ping a pooled connection before use when it sat idle for :data:`IDLE_PING_SECONDS`; a dead one is
    replaced (SQLAlchemy's pessimistic disconnect handling, limited to idle connections).

    Why: after a database outage the pool still holds connections the outage broke, and the first request
    to take one failed (the API answered 503 to a configure made after PostgreSQL came back). Pinging on
    every checkout would cost a round trip per statement on the hot paths, where connections are reused
    within milliseconds; an idle one costs the ping once.
    """

    @event.listens_for(engine, "checkin")
    def _idle_since(_dbapi_conn: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since <= IDLE_PING_SECONDS:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_conn)
        except Exception:  # noqa: BLE001 - any failure (e.g. AdminShutdown, not taken for a disconnect) as dead
            alive = False
        if not alive:  # the pool closes it and takes a new one (a down database then fails to connect)
            raise DisconnectionError("the pooled connection was closed while idle")


def alembic_config(url: str):
    """Alembic configuration pointing at our migrations and ``url``."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", normalize_url(url).replace("%", "%%"))
    return cfg


def migrate(url: str, revision: str = "head") -> None:
    """Apply migrations up to ``revision``."""
    from alembic import command

    _ensure_sqlite_dir(normalize_url(url))
    command.upgrade(alembic_config(url), revision)


def atomic(engine: Engine, fn: Callable[[Connection], T], *, single: bool = True) -> T:
    """Run ``fn`` on a connection and commit.

    ``single``: ``fn`` runs one statement on PostgreSQL (the worker's hot path, :mod:`workers.store.attempts`),
    so it runs in autocommit: one round trip instead of BEGIN, the statement and COMMIT. Anything else,
    and every SQLite write, runs in a transaction.
    """
    if single and engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            # psycopg's own switch, not ``execution_options(isolation_level=...)``: SQLAlchemy's version also
            # sets the isolation level and resets both at checkin (4 % of a job's CPU at 256 in flight)
            driver: Any = conn.connection.driver_connection
            driver.autocommit = True  # idle after checkout: psycopg allows the switch
            try:
                return fn(conn)
            finally:
                try:
                    driver.autocommit = False  # back as the pool lends it out: transactions need it off
                except Exception:  # noqa: BLE001 - broken or busy: never lend it again
                    conn.invalidate()
    with engine.begin() as conn:
        return fn(conn)


@contextmanager
def connection_scope(engine: Engine) -> Iterator[Connection]:
    """A connection committed on success and rolled back on error (Core statements; like
    :func:`session_scope`, what it runs may commit on the way). On error the connection is closed without
    a commit: the pool rolls it back (a lost connection is not asked to roll back first)."""
    with engine.connect() as conn:
        yield conn
        conn.commit()


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session committed on success and rolled back on error (SQLModel's, imported here: a worker's own
    statements are Core and its process goes without the ORM, see :mod:`workers.store.tables`)."""
    from sqlmodel import Session

    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
