"""A minimal keep-alive HTTP/1.1 load client on asyncio streams, for the API rows of ``bench/perf.py``.

Why not httpx: at 1,500 requests/s on a 2-core machine, httpx's own per-request CPU (~0.5 ms) would be
what the bench measures; a raw client over persistent connections costs a few tens of microseconds,
so the figure is the server's. It speaks just enough HTTP/1.1 for our API (Content-Length or chunked).
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any


class Conn:
    """One persistent connection to ``host:port``."""

    def __init__(self, host: str, port: int, headers: dict[str, str]) -> None:
        self.host, self.port = host, port
        self.extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def call(self, method: str, path: str, body: Any = None) -> tuple[int, bytes]:
        """Send one request and read its answer; return (status, body)."""
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        data = b"" if body is None else json.dumps(body).encode()
        head = (f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\n{self.extra}"
                f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n")
        self.writer.write(head.encode() + data)
        status = int((await self.reader.readline()).split()[1])
        length, chunked, close = 0, False, False
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
            elif name == b"connection":
                close = b"close" in value.lower()
        payload = await self._chunked() if chunked else await self.reader.readexactly(length)
        if close:
            self.close()
        return status, payload

    async def _chunked(self) -> bytes:
        assert self.reader is not None
        out = b""
        while size := int((await self.reader.readline()).strip(), 16):
            out += await self.reader.readexactly(size)
            await self.reader.readline()
        await self.reader.readline()
        return out

    def close(self) -> None:
        """Drop the connection (the next call opens a new one)."""
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def run_clients(base: str, key: str, requests: list[tuple[str, str, Any]], *, concurrency: int = 16,
                      rate: float | None = None) -> tuple[float, list[float], list[int]]:
    """Send ``requests`` (method, path, body) over ``concurrency`` connections (paced at ``rate``/s when given).

    Returns (wall seconds, per-request latencies in ms, statuses), in request order.
    """
    host, port = base.split("//", 1)[1].split(":")
    conns: asyncio.Queue[Conn] = asyncio.Queue()
    for _ in range(concurrency):
        conns.put_nowait(Conn(host, int(port), {"Authorization": f"Bearer {key}"}))
    lat = [0.0] * len(requests)
    statuses = [0] * len(requests)
    started = time.perf_counter()

    async def one(i: int, method: str, path: str, body: Any) -> None:
        if rate:
            await asyncio.sleep(max(0.0, started + i / rate - time.perf_counter()))
        conn = await conns.get()
        t = time.perf_counter()
        try:
            statuses[i], _ = await conn.call(method, path, body)
        finally:
            lat[i] = (time.perf_counter() - t) * 1000
            conns.put_nowait(conn)

    await asyncio.gather(*(one(i, *r) for i, r in enumerate(requests)))
    wall = time.perf_counter() - started
    while not conns.empty():
        conns.get_nowait().close()
    return wall, lat, statuses
