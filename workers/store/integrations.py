"""Integration state per workspace: status, which credential fields are set and an OAuth app's public fields.

Secret values never come here. The only values kept are an OAuth app's non-secret fields (the client id, a
Salesforce My Domain), because the API identity cannot read Vault and the consent URL needs them: the
database, not Redis, is their source of truth, so a Redis restart does not break "Connect".
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlmodel import Session, select

from config.catalog import IntegrationSpec
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


def stage_state(*, session: Session, workspace: str, agent: str, integration: str, status: str,
                message: str | None = None, **fields: object) -> IntegrationState:
    """Create or update a state row in the session without committing (the caller commits)."""
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
    return state


def upsert_state(*, session: Session, workspace: str, agent: str, integration: str, status: str,
                 message: str | None = None, **fields: object) -> IntegrationState:
    """Create or update a state row and commit."""
    state = stage_state(session=session, workspace=workspace, agent=agent, integration=integration,
                        status=status, message=message, **fields)
    session.commit()
    session.refresh(state)
    return state


def public_app_fields(spec: IntegrationSpec, values: Mapping[str, str]) -> dict[str, str] | None:
    """The values of ``spec``'s fields the catalog marks non-secret, for an OAuth integration (else None)."""
    if spec.definition.oauth is None:
        return None
    public = {f.name for f in spec.credential_fields if not f.secret}
    kept = {k: v for k, v in values.items() if k in public and v}
    leaked = kept.keys() & spec.secret_fields
    if leaked:  # an explicit check, not ``assert``: it must hold under ``python -O`` too
        raise ValueError(f"{spec.id}: secret fields {sorted(leaked)} may never be stored as app fields")
    return kept


def remember_app(*, session: Session, workspace: str, agent: str, spec: IntegrationSpec,
                 values: Mapping[str, str]) -> None:
    """Keep an OAuth app's non-secret field values on its (staged) state row; the caller commits."""
    state = get_state(session=session, workspace=workspace, agent=agent, integration=spec.id)
    if state is None:
        raise LookupError(f"{agent}/{spec.id} has no state row in workspace {workspace}: stage it first")
    state.app_fields = public_app_fields(spec, values)


def app_fields(*, session: Session, workspace: str, agent: str, integration: str) -> dict[str, str]:
    """The non-secret app field values kept at configure (empty when none are known)."""
    state = get_state(session=session, workspace=workspace, agent=agent, integration=integration)
    return dict(state.app_fields or {}) if state is not None else {}


def forget_app(*, session: Session, workspace: str, agent: str, integration: str) -> None:
    """Drop them (disconnect; the caller commits)."""
    state = get_state(session=session, workspace=workspace, agent=agent, integration=integration)
    if state is not None:
        state.app_fields = None
