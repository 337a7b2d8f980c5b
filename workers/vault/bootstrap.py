"""Bring a running OpenBao server into service: initialise, unseal, mount KV v2, provision AppRoles.

Used by ``sintra vault bootstrap`` (the docker-compose ``vault-bootstrap`` service), where the server
is another container. The unseal key and root token go to ``<state_dir>/openbao/init.json`` (mode 0600)
and the AppRole files to ``<state_dir>/vault/`` - the same layout ``make run`` uses.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path

import hvac
import requests

from workers.vault.provision import AppRoleCredentials, ensure_kv_v2, provision
from workers.vault.server import BaoError, _init_and_unseal, _private_dir, _retry_5xx

#: sys/health codes: 200 active, 501 not initialised, 503 sealed.
_READY, _UNINITIALISED, _SEALED = 200, 501, 503


def _health(addr: str, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            status = requests.get(f"{addr}/v1/sys/health", timeout=2.0).status_code
            if status in (_READY, _UNINITIALISED, _SEALED):
                return status
            last = status
        except requests.RequestException as exc:
            last = type(exc).__name__
        time.sleep(0.2)
    raise BaoError(f"OpenBao at {addr} did not answer sys/health within {timeout:g} s (last: {last})")


class _Remote:
    """The part of a BaoServer that initialisation needs: its address."""

    def __init__(self, addr: str) -> None:
        self.addr = addr


def bootstrap(addr: str, state_dir: Path, *, agents: Iterable[str], timeout: float = 60.0,
              approle_dir: Path | None = None, bound_cidrs: Iterable[str] = ()) -> dict[str, AppRoleCredentials]:
    """Initialise (first time) and unseal the server at ``addr``, then provision it; idempotent."""
    base = Path(state_dir).resolve() / "openbao"
    _private_dir(base)
    status = _health(addr, timeout)
    root = _init_and_unseal(_Remote(addr), base / "init.json", status)  # type: ignore[arg-type]
    if _health(addr, timeout) != _READY:
        raise BaoError(f"OpenBao at {addr} is still sealed after unsealing")
    admin = hvac.Client(url=addr, token=root)
    _retry_5xx(lambda: ensure_kv_v2(admin, "secret"))
    return provision(admin, agents=agents, approle_dir=approle_dir or Path(state_dir) / "vault",
                     bound_cidrs=bound_cidrs)
