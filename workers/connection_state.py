"""The integration state a connection test or a provider's refusal leaves, with its event.

``connected`` after a successful test; ``needs_reconnect`` when the provider says the OAuth grant is
revoked or expired (:class:`~workers.errors.GrantRevoked`), which also pauses the integration's
schedules with that reason (as a disconnect does) so they stop producing jobs that would fail;
``error`` for any other failed test or rejected credential. Re-configuring clears it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from workers.errors import AgentError, GrantRevoked
from workers.store import events
from workers.store.tables import INTEGRATIONS, SCHEDULES, utcnow

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
    _upsert_state(conn, workspace=job.workspace_id, agent=job.agent, integration=job.integration,
                  values={"status": status, "message": message, "updated_at": utcnow(), **fields})
    data: dict[str, Any] = {"agent": job.agent, "integration": job.integration, "status": status,
                            "message": message}
    if status == "needs_reconnect":
        data["reason"] = message
        data["schedules_paused"] = _pause_schedules(
            conn, workspace=job.workspace_id, agent=job.agent, integration=job.integration,
            reason=(f"integration {job.agent}/{job.integration} needs reconnecting ({message}); "
                    "resume it after reconnecting")[:500])
    events.record(conn, workspace=job.workspace_id, type="integration.connected" if status == "connected"
                  else "integration.error", data=data)
    return status


def _upsert_state(conn: Connection, *, workspace: str, agent: str, integration: str, values: dict[str, Any]) -> None:
    """Update the integration's state row, or create it (as :func:`workers.store.integrations.stage_state` does)."""
    i = INTEGRATIONS.c
    changed: Any = conn.execute(update(INTEGRATIONS).where(i.workspace_id == workspace, i.agent == agent,
                                                           i.integration == integration).values(**values))
    if not changed.rowcount:
        conn.execute(insert(INTEGRATIONS).values(workspace_id=workspace, agent=agent, integration=integration,
                                                 fields_set=[], app_fields=None, **values))


def _pause_schedules(conn: Connection, *, workspace: str, agent: str, integration: str, reason: str) -> int:
    """Pause the integration's active schedules, each with its ``schedule.paused`` event (as
    :func:`workers.store.schedules.pause_for_integration` does)."""
    c = SCHEDULES.c
    paused = 0
    ids = conn.execute(select(c.id).where(c.workspace_id == workspace, c.agent == agent, c.integration == integration,
                                          c.status == "active")).scalars().all()
    for schedule_id in ids:
        result: Any = conn.execute(update(SCHEDULES).where(c.id == schedule_id, c.status == "active")
                                   .values(status="paused", paused_reason=reason, updated_at=utcnow()))
        if result.rowcount:
            paused += 1
            events.record(conn, workspace=workspace, type="schedule.paused",
                          data={"schedule_id": schedule_id, "reason": reason})
    return paused
