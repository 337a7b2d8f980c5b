"""The provider simulator with two fault kinds it does not have itself: time windows and latency.

``python -m tests.faults.simserver --port P`` serves the unchanged simulator app (``simulator.app``)
behind one ASGI wrapper adding, for the fault suite and ``bench/recovery.py``:

- ``POST /_faults/window`` ``{"provider", "status", "seconds", "retry_after"?, "path"?, "method"?}``:
  every matching provider request for the next ``seconds`` is answered with the provider's own error
  body for ``status`` (built by the simulator's fault builder, so the client sees exactly what a
  ``/_sim/faults`` fault would give), instead of the simulator's count-based ``times``;
- ``POST /_faults/latency`` ``{"provider", "seconds", "for_seconds"?}``: every request to that provider
  waits ``seconds`` before it is served (a slow provider, so jobs are mid-call when a worker dies);
- ``GET /_faults/stats``: how many window faults were served, per provider and status;
- ``POST /_faults/clear``: drop windows and latency.

Everything else (``/_sim/*``, provider paths, state) is the simulator's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections import Counter
from typing import Any

import uvicorn
from starlette.requests import Request

from simulator.app import create_app
from simulator.control import FaultSpec
from simulator.providers import provider_modules


class FaultWrapper:
    """ASGI wrapper: time-windowed status faults and per-provider latency in front of the simulator."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.builders = {m.PROVIDER: m.fault_response for m in provider_modules()}
        self.windows: list[dict[str, Any]] = []
        self.latency: dict[str, tuple[float, float]] = {}  # provider -> (seconds, until monotonic)
        self.served: Counter[str] = Counter()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path.startswith("/_faults/"):
            await self._control(scope, receive, send)
            return
        provider = path.split("/", 2)[1] if path.count("/") >= 1 else ""
        if provider in self.builders:
            now = time.monotonic()
            delay = self.latency.get(provider)
            if delay and delay[1] > now:
                await asyncio.sleep(delay[0])
            window = self._window(provider, scope["method"], path, time.monotonic())
            if window is not None:
                spec = FaultSpec(provider=provider, status=window["status"], retry_after=window.get("retry_after"))
                self.served[f"{provider}:{window['status']}"] += 1
                await self.builders[provider](spec)(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _window(self, provider: str, method: str, path: str, now: float) -> dict[str, Any] | None:
        self.windows = [w for w in self.windows if w["until"] > now]
        for w in self.windows:
            if (w["provider"] == provider and w["from"] <= now and (not w.get("path") or w["path"] in path)
                    and (not w.get("method") or w["method"].upper() == method)):
                return w
        return None

    async def _control(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        body = await Request(scope, receive).body()
        data = json.loads(body or b"{}")
        now, path = time.monotonic(), scope["path"]
        if path == "/_faults/window":
            self.windows.append({**data, "from": now, "until": now + float(data["seconds"])})
            out: Any = {"ok": True}
        elif path == "/_faults/latency":
            self.latency[data["provider"]] = (float(data["seconds"]), now + float(data.get("for_seconds", 1e9)))
            out = {"ok": True}
        elif path == "/_faults/clear":
            self.windows.clear()
            self.latency.clear()
            out = {"ok": True}
        elif path == "/_faults/stats":
            out = {"served": dict(self.served)}
        else:
            out = {"error": "unknown control path"}
        payload = json.dumps(out).encode()
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(payload)).encode())]})
        await send({"type": "http.response.body", "body": payload})


def main() -> None:
    """Serve the wrapped simulator."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    args = ap.parse_args()
    uvicorn.run(FaultWrapper(create_app()), host=args.host, port=args.port, log_level="warning",
                access_log=False, lifespan="off")


if __name__ == "__main__":
    main()
