"""One dramatiq actor per agent, declared from the catalog. Run with ``dramatiq workers.agents``.

Importing this module declares the broker and the actors; it connects to nothing and configures
nothing. Resources are built at worker boot (:mod:`workers.context`). Each actor hands its message
(a job id) to :func:`workers.runner.execute`, which never raises for a job's outcome: the database
holds the job's state and retries, and the broker runs none of its own.

Every agent's actor is declared (from its profile), but only the agent this process serves
(``SINTRA_WORKER_AGENT``; unset: every agent) is built here, with its integrations' parameter models: a
broken catalog entry still stops the worker at start, not at its first job, and a worker for one agent does
not hold the other agents' models (issue 12: a worker process's memory).
"""

from __future__ import annotations

import os
from typing import Any

import dramatiq
from dramatiq.middleware import CurrentMessage

from config.catalog import AgentProfile, agent, agents, profiles
from config.settings import get_settings
from workers.broker import build_broker
from workers.middleware.job_log import JobLog, Resources

def declare(broker: dramatiq.Broker) -> dict[str, dramatiq.Actor]:
    """Add Sintra's middleware to ``broker`` and declare one actor per agent on it."""
    for mw in (CurrentMessage(), JobLog(), Resources()):
        if not any(type(m) is type(mw) for m in broker.middleware):
            broker.add_middleware(mw)
    return {spec.id: _make_actor(spec, broker) for spec in profiles()}


def _make_actor(spec: AgentProfile, broker: dramatiq.Broker) -> dramatiq.Actor:
    def run_job(**payload: Any) -> None:
        from workers.context import get_context
        from workers.runner import execute

        execute(payload, ctx=get_context(broker))  # the result is stored in the database

    run_job.__name__ = run_job.__qualname__ = spec.actor_name
    return dramatiq.actor(actor_name=spec.actor_name, queue_name=spec.queue, broker=broker,
                          time_limit=spec.time_limit_ms)(run_job)


broker = build_broker(get_settings(), set_global=True)  # `dramatiq workers.agents` finds it there
ACTORS: dict[str, dramatiq.Actor] = declare(broker)
_served = os.environ.get("SINTRA_WORKER_AGENT")
SERVED = (agent(_served),) if _served else agents()
