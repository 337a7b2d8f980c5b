"""Run worker processes: ``python -m workers [--agent ID] [--processes N]``.

Sintra's jobs are I/O-bound: most of a job is waiting on a provider that answers in 100 ms to seconds.
A thread per job in flight caps a process at a few dozen calls (and more threads make it slower: they
contend for the GIL and for the HTTP pool's lock). So a worker process runs dramatiq under gevent
(dramatiq's own ``dramatiq-gevent`` mode): each of ``SINTRA_WORKER_CONCURRENCY`` jobs runs in a
greenlet, and every wait (provider HTTP and Vault via httpx, Redis, PostgreSQL via psycopg 3,
which supports gevent natively, locks and sleeps) yields to the others. The provider clients stay
plain sequential code: the step log, the single-flight token refresh and cancellation work unchanged.

``--agent`` picks the agent's queue and Vault identity (default: every queue; an identity per agent is
then read from ``SINTRA_WORKER_AGENT``, or every agent's). Other dramatiq options pass through after
``--``.
"""

from __future__ import annotations

import os
import sys

#: Run as ``python -OO``: docstrings stay out of a worker process (about 4.5 MB of each, issue 12: a worker
#: process's memory); a worker reads none, and its code makes no check with ``assert`` that must hold (those
#: it has only narrow types). ``make install`` and the image compile the ``.opt-2.pyc`` files once, so a
#: worker does not compile its modules at every start. The command re-runs itself with the flag (same process
#: id, arguments and environment); dramatiq's worker processes are forks of it, so they have it too.
#: ``SINTRA_WORKER_DOCSTRINGS=1`` keeps them (``-OO`` off).
if __name__ == "__main__" and sys.flags.optimize < 2 and os.environ.get("SINTRA_WORKER_DOCSTRINGS") != "1":
    os.execv(sys.executable, [sys.executable, "-OO", "-m", "workers", *sys.argv[1:]])

from gevent import monkey  # noqa: E402

monkey.patch_all()  # before anything imports socket, ssl, threading or time

import argparse  # noqa: E402
import importlib  # noqa: E402
import importlib.machinery  # noqa: E402
import importlib.util  # noqa: E402
import types  # noqa: E402
from typing import Any  # noqa: E402


#: Packages that libraries import when they happen to be installed and that a worker never uses: rich and
#: pygments (structlog's pretty tracebacks, httpx's command line: the worker logs with plain tracebacks), click
#: (httpx's command line). rich, pygments and opentelemetry-sdk are only installed with the dev extra (tests,
#: import-linter, schemathesis), so a worker in the image does without them already. Together about 6 MB of a
#: worker process (issue 12), and each worker process is a fork of this one: marking them absent here
#: (``import`` raises ImportError, which those libraries expect) keeps every worker process without them.
UNUSED_OPTIONAL = ("rich", "pygments", "click")


#: Modules that a package imports eagerly and a worker never uses. redis-py's ``__init__`` imports its asyncio
#: client (and with it the asyncio cluster client, connections and sentinel), about 1.3 MB of each worker
#: process, while a worker talks to Redis synchronously (under gevent). SQLAlchemy's PostgreSQL package imports
#: the dialect of every PostgreSQL driver it knows (asyncpg, pg8000, psycopg2, psycopg2cffi), about 0.5 MB,
#: while Sintra uses psycopg 3 only (its own dialect, the package's default, still imports normally). Each is
#: registered as a placeholder that imports the real module on first use (any attribute), so code that does
#: use it is unaffected.
DEFERRED = ("redis.asyncio", *(f"sqlalchemy.dialects.postgresql.{driver}"
                               for driver in ("asyncpg", "pg8000", "psycopg2", "psycopg2cffi")))


class _Deferred(types.ModuleType):
    """A module's stand-in until something reads an attribute of it; then the real module, imported."""

    def __getattr__(self, attr: str) -> Any:
        real = self.__dict__.get("_real")
        if real is None:
            name = self.__name__
            if sys.modules.get(name) is self:
                del sys.modules[name]
            real = self.__dict__["_real"] = importlib.import_module(name)
        return getattr(real, attr)


def defer(name: str) -> None:
    """Register ``name`` (a submodule, its package not imported yet) as a :class:`_Deferred` placeholder."""
    if name in sys.modules:
        return
    package, _, _ = name.rpartition(".")
    top = importlib.util.find_spec(name.split(".")[0])  # finds without importing (a top-level name)
    if top is None or not top.submodule_search_locations:
        return
    where = [os.path.join(top.submodule_search_locations[0], *package.split(".")[1:])]
    spec = importlib.machinery.PathFinder.find_spec(name, where)
    if spec is None:
        return
    stub = _Deferred(name)
    stub.__spec__, stub.__file__ = spec, spec.origin
    stub.__path__ = list(spec.submodule_search_locations or ())  # its own submodules still import normally
    sys.modules[name] = stub


def skip_unused_packages(tracing: str) -> None:
    """Mark :data:`UNUSED_OPTIONAL` absent in this process (and so in the worker processes it forks), and
    opentelemetry-sdk too when tracing is off (redis-py otherwise loads it for metrics it does not record);
    defer :data:`DEFERRED` to its first use."""
    for name in (*UNUSED_OPTIONAL, *(() if tracing else ("opentelemetry.sdk",))):
        if name not in sys.modules:
            sys.modules[name] = None  # type: ignore[assignment]
    for name in DEFERRED:
        defer(name)


#: ``--help``'s description (not the module docstring: a worker runs with ``-OO``, which drops it).
DESCRIPTION = "Run worker processes: dramatiq under gevent, for one agent's queue or every queue."


def command(agent: str | None, processes: int, concurrency: int, extra: list[str]) -> list[str]:
    """dramatiq's own command line for these options."""
    from config.catalog import profile

    queues = ["--queues", profile(agent).queue] if agent else []
    return ["dramatiq", "workers.agents", *queues, "--processes", str(processes), "--threads", str(concurrency),
            "--skip-logging", *extra]


def main(argv: list[str] | None = None) -> int:
    from config.catalog import profiles
    from config.settings import get_settings

    ap = argparse.ArgumentParser(prog="python -m workers", description=DESCRIPTION)
    ap.add_argument("--agent", choices=[p.id for p in profiles()],
                    help="the agent whose queue and Vault identity this worker uses")
    ap.add_argument("--processes", type=int, default=1, help="worker processes (default 1)")
    ap.add_argument("extra", nargs=argparse.REMAINDER, help="after --: more dramatiq options")
    args = ap.parse_args(argv)
    settings = get_settings()
    skip_unused_packages(settings.tracing)
    if args.agent:
        os.environ["SINTRA_WORKER_AGENT"] = args.agent
    # how long an idle Redis consumer waits for a wake-up before it looks again (workers/broker.py), and
    # how many messages a process holds: no more than it runs at once, so a second process gets its share
    os.environ.setdefault("dramatiq_worker_timeout", str(settings.worker_idle_ms))
    os.environ.setdefault("dramatiq_queue_prefetch", str(settings.worker_concurrency))
    extra = [a for a in args.extra if a != "--"]
    sys.argv = command(args.agent, args.processes, settings.worker_concurrency, extra)
    from dramatiq.cli import main as dramatiq_main

    return int(dramatiq_main() or 0)


if __name__ == "__main__":
    sys.exit(main())
