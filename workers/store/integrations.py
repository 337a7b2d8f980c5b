"""Integration state per workspace: status, which credential fields are set and an OAuth app's public fields.

Secret values never come here. The only values kept are an OAuth app's non-secret fields (the client id, a
Salesforce My Domain), because the API identity cannot read Vault and the consent URL needs them: the
database, not Redis, is their source of truth, so a Redis restart does not break "Connect".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, update
from sqlalchemy.engine import Connection

from workers.store.tables import INTEGRATIONS, utcnow

if TYPE_CHECKING:
    from sqlmodel import Session

    from config.catalog import IntegrationSpec
    from workers.store.models import IntegrationState

# The ORM is imported where it is used: a worker process writes states with :func:`write_state` (Core, on its
# connection) and goes without the ORM (issue 12; :mod:`workers.store.tables`).


def get_state(*, session: Session, workspace: str, agent: str, integration: str,
              fresh: bool = False) -> IntegrationState | None:
    """The stored state, or None when never configured (``fresh``: reloaded, over what the session holds)."""
    from sqlmodel import select

    from workers.store.models import IntegrationState

    stmt = select(IntegrationState).where(IntegrationState.workspace_id == workspace,
                                          IntegrationState.agent == agent,
                                          IntegrationState.integration == integration)
    return session.exec(stmt.execution_options(populate_existing=fresh)).first()


def states_for(*, session: Session, workspace: str) -> dict[tuple[str, str], IntegrationState]:
    """All states of a workspace keyed by (agent, integration)."""
    from sqlmodel import select

    from workers.store.models import IntegrationState

    stmt = select(IntegrationState).where(IntegrationState.workspace_id == workspace)
    return {(s.agent, s.integration): s for s in session.exec(stmt).all()}


def write_state(conn: Connection, *, workspace: str, agent: str, integration: str, status: str,
                message: str | None = None, **fields: Any) -> None:
    """Update an integration's state row, or create it, in ``conn``'s transaction (the caller commits)."""
    i = INTEGRATIONS.c
    values = {"status": status, "message": message, "updated_at": utcnow(), **fields}
    changed: Any = conn.execute(update(INTEGRATIONS).where(i.workspace_id == workspace, i.agent == agent,
                                                           i.integration == integration).values(**values))
    if not changed.rowcount:
        conn.execute(insert(INTEGRATIONS).values(**{"fields_set": [], "app_fields": None, **values},
                                                 workspace_id=workspace, agent=agent, integration=integration))


def stage_state(*, session: Session, workspace: str, agent: str, integration: str, status: str,
                message: str | None = None, **fields: object) -> IntegrationState:
    """Create or update a state row in the session's transaction without committing (the caller commits);
    return it, as written. The write is :func:`write_state`'s, after the session's pending changes."""
    session.flush()
    write_state(session.connection(), workspace=workspace, agent=agent, integration=integration, status=status,
                message=message, **fields)
    state = get_state(session=session, workspace=workspace, agent=agent, integration=integration, fresh=True)
    if state is None:  # written just above, in this transaction
        raise LookupError(f"{agent}/{integration}: the state row just written in workspace {workspace} is gone")
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
