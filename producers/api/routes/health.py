"""``/healthz`` (the process is up) and ``/readyz`` (Redis, the database and Vault answer)."""

from __future__ import annotations

from collections.abc import Callable

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from producers.schemas import CheckResult, Liveness, Readiness

router = APIRouter(tags=["health"])
#: Seconds each dependency may take to answer a readiness check.
CHECK_TIMEOUT = 2.0


def _redis(request: Request) -> str:
    broker = request.app.state.enqueuer.broker
    client = getattr(broker, "client", None)
    if client is None:
        return f"{type(broker).__name__} (no Redis)"
    client.ping()
    return "PONG"


def _database(request: Request) -> str:
    with request.app.state.engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    return request.app.state.engine.dialect.name


def _vault(request: Request) -> str:
    addr = request.app.state.settings.vault_addr
    r = httpx.get(f"{addr}/v1/sys/health", timeout=CHECK_TIMEOUT)
    if r.status_code != 200:  # 429 standby, 472/473 DR/perf standby, 501 uninitialised, 503 sealed
        raise RuntimeError(f"{addr} answered sys/health {r.status_code}"
                           f"{' (sealed)' if r.status_code == 503 else ''}")
    return f"{addr} unsealed"


CHECKS: dict[str, Callable[[Request], str]] = {"redis": _redis, "database": _database, "vault": _vault}


@router.get("/healthz", response_model=Liveness)
def healthz() -> Liveness:
    """Liveness: the API process answers."""
    return Liveness(status="ok")


@router.get("/readyz", response_model=Readiness,
            responses={503: {"model": Readiness, "description": "At least one dependency is down; `down` names it."}})
def readyz(request: Request) -> JSONResponse:
    """Readiness: every dependency answers; 503 naming each one that does not."""
    checks: dict[str, CheckResult] = {}
    for name, check in CHECKS.items():
        try:
            checks[name] = CheckResult(ok=True, detail=check(request))
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready"; say which and why
            checks[name] = CheckResult(ok=False, detail=f"{type(exc).__name__}: {str(exc)[:200]}")
    down = [n for n, c in checks.items() if not c.ok]
    body = Readiness(status="unavailable" if down else "ready", checks=checks, down=down)
    return JSONResponse(body.model_dump(mode="json"), status_code=503 if down else 200)
