"""``/api/keys``: list, revoke and rotate API keys: a workspace key its own workspace's, an operator key
every workspace's."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from producers.api.deps import Caller, CallerDep, SessionDep
from producers.api.errors import ApiError
from producers.schemas import COMMON_ERRORS, KeyPublic, KeyRotated, KeysPublic, errors
from workers.store import keys as key_store
from workers.store.audit import record_event
from workers.store.models import ApiKey

router = APIRouter(prefix="/api/keys", tags=["keys"], responses=COMMON_ERRORS)


def _own(session: Any, caller: Caller, key_id: str) -> ApiKey:
    key = key_store.find_key(session=session, prefix=key_id, workspace=None if caller.operator else caller.workspace)
    if key is None:
        raise ApiError(404, "not_found", f"no API key {key_id!r} in this workspace (give its id or prefix)")
    return key


@router.get("", response_model=KeysPublic)
def list_(caller: CallerDep, session: SessionDep) -> dict[str, Any]:
    """This workspace's keys (every workspace's for an operator key): id, prefix, scope, created and revoked
    times; never the key."""
    rows = key_store.list_keys(session=session, workspace=None if caller.operator else caller.workspace)
    return {"keys": [key_store.key_view(k) for k in rows]}


@router.post("/{key_id}/revoke", response_model=KeyPublic, responses=errors(404))
def revoke(key_id: str, caller: CallerDep, session: SessionDep) -> dict[str, Any]:
    """Revoke a key at once: the next request made with it is refused with 401."""
    key = key_store.revoke_key(session=session, key=_own(session, caller, key_id))
    record_event(session=session, actor=caller.actor, kind="api", outcome="key_revoked", workspace=key.workspace_id,
                 action="revoke_key", detail={"key_prefix": key.prefix})
    session.commit()
    return key_store.key_view(key)


@router.post("/{key_id}/rotate", response_model=KeyRotated, responses=errors(404, 409))
def rotate(key_id: str, caller: CallerDep, session: SessionDep) -> dict[str, Any]:
    """Revoke a key and answer its replacement (shown once)."""
    old = _own(session, caller, key_id)
    if old.revoked_at is not None:
        raise ApiError(409, "revoked", f"API key {old.prefix} is already revoked; create a new one instead")
    new = key_store.rotate_key(session=session, key=old)
    record_event(session=session, actor=caller.actor, kind="api", outcome="key_rotated", workspace=old.workspace_id,
                 action="rotate_key", detail={"key_prefix": old.prefix, "new_prefix": new[:10]})
    session.commit()
    return {"revoked": key_store.key_view(old), "key": new, "prefix": new[:10]}
