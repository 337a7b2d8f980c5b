"""The dramatiq broker: Redis in every real process, with every catalog queue declared."""

from __future__ import annotations

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import AgeLimit, Callbacks, Pipelines, Retries, ShutdownNotifications, TimeLimit

from config.catalog import agent, agents
from config.messages import JobMessage
from config.settings import Settings


def build_broker(settings: Settings, *, set_global: bool = True) -> RedisBroker:
    """A Redis broker with our middleware list and every agent queue declared."""
    middleware = [AgeLimit(), TimeLimit(), ShutdownNotifications(), Callbacks(), Pipelines(),
                  Retries(min_backoff=settings.retry_min_backoff_ms, max_backoff=settings.retry_max_backoff_ms)]
    broker = RedisBroker(url=settings.redis_url, middleware=middleware,
                         dead_message_ttl=7 * 86_400_000, heartbeat_timeout=60_000)
    for spec in agents():
        broker.declare_queue(spec.queue)
    if set_global:
        dramatiq.set_broker(broker)
    return broker


class Enqueuer:
    """Builds the dramatiq message for a job from the catalog and enqueues it (by name, no actor import)."""

    def __init__(self, broker: dramatiq.Broker) -> None:
        self.broker = broker

    def enqueue(self, msg: JobMessage) -> str:
        """Enqueue ``msg`` on its agent's queue; return the dramatiq message id."""
        spec = agent(msg.agent)
        message = dramatiq.Message(queue_name=spec.queue, actor_name=spec.actor_name, args=(),
                                   kwargs=msg.model_dump(mode="json"), options={})
        return self.broker.enqueue(message).message_id
