"""Provision Vault for Sintra: KV v2 and AppRole mounts, one least-privilege policy and AppRole per identity.

Identities are ``api`` (writes and deletes credentials and webhook signing secrets, never reads them),
``webhooks`` (the webhook dispatcher: reads signing secrets, nothing else) and one per agent (reads and,
with check-and-set, rewrites the credentials of that agent's own integrations only). Secret_ids expire
and allow a bounded number of logins; secret_ids and tokens can be bound to networks (CIDRs). Running
:func:`provision` again changes
nothing but the policies' text; an AppRole file whose secret_id still logs in is kept as it is.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hvac

from config.providers.oauth import pending_integration

#: The identity name of the HTTP API (the others are agent ids).
API_IDENTITY = "api"
#: The identity of the webhook dispatcher, which signs deliveries.
WEBHOOKS_IDENTITY = "webhooks"
#: Where AppRole is mounted.
APPROLE_MOUNT = "approle"
#: Token lifetime after login, and the cap renewals cannot pass (then the session logs in again).
TOKEN_TTL, TOKEN_MAX_TTL = "1h", "24h"
_NAME = re.compile(r"^[a-z0-9_-]{1,64}$")

#: Lifetime of an issued secret_id and how many logins it allows. Workers log in at start, again when
#: their token reaches ``TOKEN_MAX_TTL`` and once after a Forbidden: a month of that is far below the
#: limit, while a leaked secret_id stops working within a month. Provisioning again (``make run``, the
#: compose bootstrap service) replaces an expired or used-up secret_id.
SECRET_ID_TTL, SECRET_ID_NUM_USES = "720h", 1000

AGENT_RULE_HCL = """\
path "{mount}/data/agents/{agent}/tenants/+/{integration}" {{
  capabilities = ["read", "create", "update"]
}}
path "{mount}/metadata/agents/{agent}/tenants/+/{integration}" {{
  capabilities = ["read"]
}}
"""

API_POLICY_HCL = """\
# {name}: write and hard-delete every agent's tenant credentials; never read a value back
path "{mount}/data/agents/+/tenants/+/+" {{
  capabilities = ["create", "update"]
}}
path "{mount}/metadata/agents/+/tenants/+/+" {{
  capabilities = ["read", "delete"]
}}
path "{mount}/data/webhooks/*" {{
  capabilities = ["create", "update"]
}}
path "{mount}/metadata/webhooks/*" {{
  capabilities = ["read", "delete"]
}}
"""

WEBHOOKS_POLICY_HCL = """\
# {name}: read webhook signing secrets (to sign deliveries); nothing else
path "{mount}/data/webhooks/*" {{
  capabilities = ["read"]
}}
"""


@dataclass(frozen=True)
class AppRoleCredentials:
    """One identity's AppRole login; ``repr`` and ``str`` never show the secret_id."""

    role_id: str
    secret_id: str

    def __repr__(self) -> str:
        return f"AppRoleCredentials(role_id={self.role_id!r}, secret_id='***')"

    __str__ = __repr__


def role_name(identity: str) -> str:
    """The policy and AppRole name of ``identity`` (``api`` or an agent id)."""
    if identity in (API_IDENTITY, WEBHOOKS_IDENTITY):
        return f"sintra-{identity}"
    return f"sintra-agent-{identity}"


def agent_policy(agent: str, mount: str = "secret", integrations: Iterable[str] | None = None) -> str:
    """The HCL of agent ``agent``'s worker policy: read and (check-and-set) rewrite the credentials of
    exactly its own integrations (``agents/<agent>/tenants/<any workspace>/<integration>``), no deeper path.

    ``integrations`` defaults to the agent's integrations in the catalog.
    """
    if integrations is None:
        from config.catalog import agent as agent_spec

        integrations = [i.id for i in agent_spec(agent).integrations]
    head = f"# {role_name(_checked(agent))}: read and (check-and-set) rewrite {agent}'s own integrations only\n"
    # and each one's pending OAuth authorization (code, PKCE verifier), which the API writes and cannot read
    names = {n for i in integrations for n in (i, pending_integration(i))}
    return head + "".join(AGENT_RULE_HCL.format(agent=agent, integration=_checked(i), mount=_checked(mount))
                          for i in sorted(names))


def api_policy(mount: str = "secret") -> str:
    """The HCL of the API's write-only policy."""
    return API_POLICY_HCL.format(name=role_name(API_IDENTITY), mount=_checked(mount))


def webhooks_policy(mount: str = "secret") -> str:
    """The HCL of the webhook dispatcher's read-only policy on signing secrets."""
    return WEBHOOKS_POLICY_HCL.format(name=role_name(WEBHOOKS_IDENTITY), mount=_checked(mount))


def provision(admin: hvac.Client, *, agents: Iterable[str], mount: str = "secret",
              approle_dir: Path | None = None, integrations: Mapping[str, Iterable[str]] | None = None,
              bound_cidrs: Iterable[str] = ()) -> dict[str, AppRoleCredentials]:
    """Idempotently set up mounts, policies and AppRoles; return (and optionally save) every login.

    ``integrations`` maps an agent to the integrations its policy covers (default: the catalog's).
    ``bound_cidrs`` binds every secret_id and token to those networks (compose's app network, say).
    """
    agents = list(agents)
    for reserved in (API_IDENTITY, WEBHOOKS_IDENTITY):
        if reserved in agents:
            raise ValueError(f"{reserved!r} is a service identity and cannot be an agent id")
    ensure_kv_v2(admin, mount)
    if f"{APPROLE_MOUNT}/" not in _data(admin.sys.list_auth_methods()):
        admin.sys.enable_auth_method("approle", path=APPROLE_MOUNT)
    policies = {API_IDENTITY: api_policy(mount), WEBHOOKS_IDENTITY: webhooks_policy(mount)} | {
        a: agent_policy(a, mount, None if integrations is None else integrations.get(a, ())) for a in agents}
    cidrs = list(bound_cidrs)
    bound = {"secret_id_bound_cidrs": cidrs, "token_bound_cidrs": cidrs}  # empty: unbind
    out: dict[str, AppRoleCredentials] = {}
    for identity, hcl in policies.items():
        name = role_name(identity)
        admin.sys.create_or_update_policy(name, hcl)
        admin.auth.approle.create_or_update_approle(
            name, token_policies=[name], token_ttl=TOKEN_TTL, token_max_ttl=TOKEN_MAX_TTL,
            token_type="service", secret_id_ttl=SECRET_ID_TTL, secret_id_num_uses=SECRET_ID_NUM_USES,
            mount_point=APPROLE_MOUNT, **bound)
        file = approle_dir / f"{identity}.json" if approle_dir is not None else None
        out[identity] = _reuse(admin, name, file) or _issue(admin, name)
        if file is not None:
            write_private_json(file, {"role_id": out[identity].role_id, "secret_id": out[identity].secret_id})
    return out


def ensure_kv_v2(admin: hvac.Client, mount: str = "secret") -> None:
    """Mount KV version 2 at ``mount`` unless it is there; refuse a KV version 1 mount."""
    mounts = _data(admin.sys.list_mounted_secrets_engines())
    existing = mounts.get(f"{_checked(mount)}/")
    if existing is None:
        admin.sys.enable_secrets_engine("kv", path=mount, options={"version": "2"})
    elif (existing.get("options") or {}).get("version") != "2":
        raise RuntimeError(f"Vault mount {mount!r} exists but is not KV version 2; Sintra needs KV v2 there")


def write_private_json(path: Path, data: Mapping[str, object]) -> None:
    """Atomically write ``data`` as JSON to ``path`` with mode 0600, in a directory with mode 0700."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.parent.chmod(0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(dict(data), f)
    os.replace(tmp, path)


def _issue(admin: hvac.Client, name: str) -> AppRoleCredentials:
    role_id = admin.auth.approle.read_role_id(name, mount_point=APPROLE_MOUNT)["data"]["role_id"]
    secret_id = admin.auth.approle.generate_secret_id(name, mount_point=APPROLE_MOUNT)["data"]["secret_id"]
    return AppRoleCredentials(role_id=role_id, secret_id=secret_id)


def _reuse(admin: hvac.Client, name: str, file: Path | None) -> AppRoleCredentials | None:
    """The saved login in ``file`` if it belongs to this role and its secret_id is still valid."""
    if file is None or not file.exists():
        return None
    try:
        saved = json.loads(file.read_text())
        role_id = admin.auth.approle.read_role_id(name, mount_point=APPROLE_MOUNT)["data"]["role_id"]
        if saved.get("role_id") != role_id:
            return None
        found = admin.auth.approle.read_secret_id(name, saved["secret_id"], mount_point=APPROLE_MOUNT)
    except (ValueError, KeyError, TypeError, hvac.exceptions.InvalidPath, hvac.exceptions.InvalidRequest):
        return None
    valid = isinstance(found, dict) and found.get("data")  # an unknown secret_id answers 204, no data
    return AppRoleCredentials(role_id, saved["secret_id"]) if valid else None


def _data(response: Mapping[str, object]) -> dict[str, dict[str, Any]]:
    """The ``data`` part of a sys listing (hvac also copies it to the top level)."""
    data = response.get("data", response)
    return data if isinstance(data, dict) else {}


def _checked(name: str) -> str:
    if not _NAME.match(name):
        raise ValueError(f"invalid Vault name {name[:40]!r}: use 1-64 lowercase letters, digits, '-' and '_'")
    return name
