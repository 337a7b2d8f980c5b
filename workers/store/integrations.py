"""Integration state per workspace: status and which credential fields are set (never their values)."""

from __future__ import annotations

from sqlmodel import Session, select

from workers.store.models import IntegrationState, utcnow


def get_state(*, session: Session, workspace: str, agent: str, integration: str) -> IntegrationState | None:
    """The stored state, or None when never configured."""
    stmt = select(IntegrationState).where(IntegrationState.workspace_id == workspace,
                                          IntegrationState.agent == agent,
                                          IntegrationState.integration == integration)
    return session.exec(stmt).first()


def states_for(*, session: Session, workspace: str) -> dict[tuple[str, str], IntegrationState]:
    """All states of a workspace keyed by (agent, integration)."""
    stmt = select(IntegrationState).where(IntegrationState.workspace_id == workspace)
    return {(s.agent, s.integration): s for s in session.exec(stmt).all()}


def upsert_state(*, session: Session, workspace: str, agent: str, integration: str, status: str,
                 message: str | None = None, **fields: object) -> IntegrationState:
    """Create or update a state row and commit."""
    now = utcnow()
    state = get_state(session=session, workspace=workspace, agent=agent, integration=integration)
    if state is None:
        state = IntegrationState(workspace_id=workspace, agent=agent, integration=integration, status=status,
                                 fields_set=[], updated_at=now)
        session.add(state)
    state.status = status
    state.message = message
    state.updated_at = now
    for name, value in fields.items():
        setattr(state, name, value)
    session.commit()
    session.refresh(state)
    return state
