"""One dramatiq actor per agent, declared from the catalog. Run with ``dramatiq workers.agents``.

Each actor only validates its message and hands it to :func:`workers.runner.execute`; state,
credentials, the provider call and the audit trail happen there and in middleware.
"""

from __future__ import annotations

from typing import Any

import dramatiq
from dramatiq.middleware import CurrentMessage

from config.catalog import AgentSpec, agents
from config.logging import configure_logging
from config.settings import get_settings
from workers.broker import build_broker
from workers.errors import PermanentError
from workers.middleware.job_log import JobLog, Resources
from workers.runner import will_retry

_settings = get_settings()
configure_logging(fmt=_settings.log_format, level=_settings.log_level)
broker = build_broker(_settings)
for _mw in (CurrentMessage(), JobLog(), Resources()):
    if not any(type(m) is type(_mw) for m in broker.middleware):
        broker.add_middleware(_mw)


def _make_actor(spec: AgentSpec) -> dramatiq.Actor:
    def run_job(**payload: Any) -> None:
        from workers.context import get_context
        from workers.runner import execute

        message = CurrentMessage.get_current_message()
        retries = message.options.get("retries", 0) if message is not None else 0
        execute(payload, ctx=get_context(), retries=retries)  # the result is stored in the database

    run_job.__name__ = run_job.__qualname__ = spec.actor_name
    return dramatiq.actor(
        run_job, actor_name=spec.actor_name, queue_name=spec.queue, broker=broker,
        max_retries=spec.max_retries, time_limit=spec.time_limit_ms, throws=(PermanentError,),
        retry_when=lambda retries, exc, _max=spec.max_retries: will_retry(retries, exc, _max))


ACTORS: dict[str, dramatiq.Actor] = {spec.id: _make_actor(spec) for spec in agents()}
