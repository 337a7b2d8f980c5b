"""Workspaces and their API keys (stored hashed)."""

from __future__ import annotations

import hashlib
import re
import secrets

from sqlmodel import Session, select

from workers.store.models import ApiKey, Workspace, utcnow

KEY_PREFIX = "sk_"
_WORKSPACE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


def hash_key(key: str) -> str:
    """SHA-256 hex of a key."""
    return hashlib.sha256(key.encode()).hexdigest()


def validate_workspace(name: str) -> str:
    """The workspace name, or ValueError naming what is wrong with it."""
    if not _WORKSPACE.match(name):
        raise ValueError(f"workspace name {name!r} must be 1-63 characters of a-z, 0-9, '-' or '_', "
                         "starting with a letter or digit")
    return name


#: Key scopes: a workspace key acts in its workspace; an operator key also manages every workspace's keys.
SCOPES = ("workspace", "operator")


def create_key(*, session: Session, workspace: str, scope: str = "workspace") -> str:
    """Create the workspace if needed and a new key for it; return the key (shown once)."""
    validate_workspace(workspace)
    if scope not in SCOPES:
        raise ValueError(f"key scope {scope!r} must be one of {', '.join(SCOPES)}")
    if session.get(Workspace, workspace) is None:
        session.add(Workspace(id=workspace, created_at=utcnow()))
        session.flush()
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiKey(workspace_id=workspace, prefix=key[:10], key_hash=hash_key(key), created_at=utcnow(),
                       scope=scope))
    session.commit()
    return key


def workspace_for_key(*, session: Session, key: str) -> str | None:
    """The workspace a valid, unrevoked key belongs to."""
    row = active_key(session=session, key=key)
    return None if row is None else row.workspace_id


def active_key(*, session: Session, key: str) -> ApiKey | None:
    """The valid, unrevoked key row for ``key``."""
    stmt = select(ApiKey).where(ApiKey.key_hash == hash_key(key), ApiKey.revoked_at == None)  # noqa: E711
    return session.exec(stmt).first()


def list_keys(*, session: Session, workspace: str | None = None) -> list[ApiKey]:
    """Keys (never their hashes' preimages), oldest first; of one workspace or of all."""
    stmt = select(ApiKey).order_by(ApiKey.id)  # type: ignore[arg-type]
    if workspace is not None:
        stmt = stmt.where(ApiKey.workspace_id == workspace)
    return list(session.exec(stmt).all())


def find_key(*, session: Session, prefix: str, workspace: str | None = None) -> ApiKey | None:
    """The one key whose shown prefix (or id) is ``prefix``, within ``workspace`` when given."""
    stmt = select(ApiKey)
    stmt = stmt.where(ApiKey.id == int(prefix)) if prefix.isdigit() else stmt.where(ApiKey.prefix == prefix)
    if workspace is not None:
        stmt = stmt.where(ApiKey.workspace_id == workspace)
    rows = list(session.exec(stmt).all())
    return rows[0] if len(rows) == 1 else None


def revoke_key(*, session: Session, key: ApiKey) -> ApiKey:
    """Revoke ``key`` from now on (idempotent); the caller commits."""
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        session.add(key)
    return key


def rotate_key(*, session: Session, key: ApiKey) -> str:
    """Revoke ``key`` and create its replacement in the same workspace; return the new key (shown once)."""
    revoke_key(session=session, key=key)
    session.flush()
    return create_key(session=session, workspace=key.workspace_id, scope=key.scope)


def key_view(key: ApiKey) -> dict[str, object]:
    """What may be shown about a key: never the key or its hash."""
    return {"id": key.id, "workspace": key.workspace_id, "prefix": key.prefix,
            "created_at": key.created_at.isoformat() if key.created_at else None,
            "revoked_at": key.revoked_at.isoformat() if key.revoked_at else None,
            "active": key.revoked_at is None, "scope": key.scope}
