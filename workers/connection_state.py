"""The integration state a connection test or a provider's refusal leaves, with its event.

``connected`` after a successful test; ``needs_reconnect`` when the provider says the OAuth grant is
revoked or expired (:class:`~workers.errors.GrantRevoked`), which also pauses the integration's
schedules with that reason (as a disconnect does) so they stop producing jobs that would fail;
``error`` for any other failed test or rejected credential. Re-configuring clears it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from workers.errors import AgentError, GrantRevoked
from workers.store import events
from workers.store.integrations import write_state
from workers.store.schedules import pause_for_integration

# Core statements on the worker's connection: every worker process runs this (connection tests, health checks,
# rejected credentials), and a worker process goes without the ORM (issue 12; :mod:`workers.store.tables`).


def record_connection(conn: Connection, job: Any, *, error: AgentError | None, outcome: str, now: datetime) -> str:
    """Write the job's integration state and its ``integration.*`` event in ``conn``'s transaction (the caller
    commits); return the status."""
    fields: dict[str, Any] = {}
    if error is None and outcome == "succeeded":
        status, message = "connected", "connection test succeeded"
        fields = {"connected_at": now}
    else:
        status = "needs_reconnect" if isinstance(error, GrantRevoked) else "error"
        message = error.message if error is not None else outcome
    write_state(conn, workspace=job.workspace_id, agent=job.agent, integration=job.integration, status=status,
                message=message, **fields)
    data: dict[str, Any] = {"agent": job.agent, "integration": job.integration, "status": status,
                            "message": message}
    if status == "needs_reconnect":
        data["reason"] = message
        data["schedules_paused"] = pause_for_integration(
            conn, workspace=job.workspace_id, agent=job.agent, integration=job.integration,
            reason=(f"integration {job.agent}/{job.integration} needs reconnecting ({message}); "
                    "resume it after reconnecting")[:500])
    events.record(conn, workspace=job.workspace_id, type="integration.connected" if status == "connected"
                  else "integration.error", data=data)
    return status
