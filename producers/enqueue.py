"""Put a job's message on its agent's queue, addressed by name (producers never import actors)."""

from __future__ import annotations

import dramatiq

from config.catalog import agent as agent_spec
from config.messages import JobMessage


class Enqueuer:
    """Builds the dramatiq message for a job from the catalog and enqueues it."""

    def __init__(self, broker: dramatiq.Broker) -> None:
        self.broker = broker

    def enqueue(self, msg: JobMessage) -> str:
        """Enqueue ``msg`` on its agent's queue; return the dramatiq message id."""
        spec = agent_spec(msg.agent)
        message = dramatiq.Message(queue_name=spec.queue, actor_name=spec.actor_name, args=(),
                                   kwargs=msg.model_dump(mode="json"), options={})
        return self.broker.enqueue(message).message_id
