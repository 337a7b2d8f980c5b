"""The audit trail: one row per provider call and per API mutation."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from workers.store.models import AuditEvent, utcnow


def record_event(*, session: Session, actor: str, kind: str, outcome: str, workspace: str | None = None,
                 job_id: str | None = None, agent: str | None = None, integration: str | None = None,
                 action: str | None = None, method: str | None = None, path: str | None = None,
                 status: int | None = None, duration_ms: float | None = None,
                 detail: dict[str, Any] | None = None) -> None:
    """Append one audit row (the caller's session commits)."""
    session.add(AuditEvent(at=utcnow(), workspace_id=workspace, actor=actor, kind=kind, job_id=job_id,
                           agent=agent, integration=integration, action=action, method=method, path=path,
                           status=status, duration_ms=duration_ms, outcome=outcome, detail=detail))


def events_for_job(*, session: Session, job_id: str) -> list[AuditEvent]:
    """A job's audit rows, oldest first."""
    stmt = select(AuditEvent).where(AuditEvent.job_id == job_id).order_by(col(AuditEvent.id))
    return list(session.exec(stmt).all())
