"""A provider stand-in with a set latency, in front of the simulator: ``python -m bench.standin``.

For the I/O-bound rows of ``bench/perf.py``: every request waits ``--latency`` seconds (200 ms by
default), then gets the simulator's own answer. A GET the simulator answered 200 is asked once and its
answer replayed to every identical GET (same path, query and credentials); anything else is forwarded
every time. The simulator is a full FastAPI app that builds each answer from its state, so on a 2-core
machine it would cap the row at a few hundred calls per second for Sintra and bare dramatiq alike; the
stand-in answers from memory, so the row measures the workers. A raw ASGI app on uvicorn (no framework).

Usage: ``python -m bench.standin --port P --upstream http://127.0.0.1:8100 [--latency 0.2]``.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

import httpx
import uvicorn
from starlette.requests import Request

Reply = tuple[int, list[tuple[bytes, bytes]], bytes]
#: Response headers not replayed (the server sets its own framing).
_HOP = {b"content-length", b"transfer-encoding", b"connection", b"date", b"server"}


class StandIn:
    """The ASGI app: wait, then answer from the replay cache or from the simulator."""

    def __init__(self, upstream: str, latency: float) -> None:
        self.upstream, self.latency = upstream.rstrip("/"), latency
        self.cache: dict[tuple[bytes, ...], Reply] = {}
        self.client: httpx.AsyncClient | None = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        body = await Request(scope, receive).body()
        headers = dict(scope["headers"])
        key = (scope["method"].encode(), scope["raw_path"], scope["query_string"], headers.get(b"authorization", b""))
        await asyncio.sleep(self.latency)
        reply = self.cache.get(key) if scope["method"] == "GET" else None
        if reply is None:
            reply = await self._forward(scope, headers, body)
            if scope["method"] == "GET" and reply[0] == 200:
                self.cache[key] = reply
        status, out_headers, content = reply
        await send({"type": "http.response.start", "status": status,
                    "headers": [*out_headers, (b"content-length", str(len(content)).encode())]})
        await send({"type": "http.response.body", "body": content})

    async def _forward(self, scope: dict[str, Any], headers: dict[bytes, bytes], body: bytes) -> Reply:
        if self.client is None:
            self.client = httpx.AsyncClient(timeout=30)
        url = self.upstream + scope["raw_path"].decode() + (f"?{scope['query_string'].decode()}"
                                                            if scope["query_string"] else "")
        sent = {k.decode(): v.decode() for k, v in headers.items() if k not in (b"host", b"content-length")}
        r = await self.client.request(scope["method"], url, headers=sent, content=body)
        return r.status_code, [(k, v) for k, v in r.headers.raw if k.lower() not in _HOP], r.content


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--upstream", required=True, help="the simulator's root URL")
    ap.add_argument("--latency", type=float, default=0.2, help="seconds every answer waits")
    args = ap.parse_args()
    uvicorn.run(StandIn(args.upstream, args.latency), host="127.0.0.1", port=args.port, log_level="warning",
                access_log=False, backlog=4096, lifespan="off",
                timeout_keep_alive=60)  # longer than the clients' keep-alive: no close races


if __name__ == "__main__":
    main()
