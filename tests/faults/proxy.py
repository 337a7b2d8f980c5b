"""A TCP proxy that can be cut: how the fault suite takes PostgreSQL (or anything) away from Sintra.

The shared PostgreSQL cannot be stopped (other people use it), so Sintra's processes reach it
through this proxy; ``cut()`` closes every open connection and stops listening (new connections are
refused), ``restore()`` listens again on the same port. Runs an asyncio loop in a daemon thread.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from typing import Any


class TcpProxy:
    """``127.0.0.1:<port>`` -> ``target_host:target_port``, with :meth:`cut` and :meth:`restore`."""

    def __init__(self, target_host: str, target_port: int, port: int = 0) -> None:
        self.target = (target_host, target_port)
        if port == 0:
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                port = int(s.getsockname()[1])
        self.port = port
        self.loop = asyncio.new_event_loop()
        self._server: asyncio.AbstractServer | None = None
        self._conns: set[asyncio.StreamWriter] = set()
        self.accepted = 0
        self.refused_while_cut = 0
        self._thread = threading.Thread(target=self.loop.run_forever, name=f"tcp-proxy-{port}", daemon=True)
        self._thread.start()
        self._call(self._listen())

    def _call(self, coro: Any, timeout: float = 10.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port, reuse_address=True)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self._conns |= {writer, up_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (OSError, asyncio.CancelledError):
                pass
            finally:
                dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self._conns -= {writer, up_writer}

    async def _cut(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()  # stop listening: new connections are refused
        for w in list(self._conns):
            w.transport.abort()  # RST: the peer sees the connection die, as when a server goes away
        self._conns.clear()
        if server is not None:
            try:
                await asyncio.wait_for(server.wait_closed(), 5)
            except TimeoutError:
                pass

    def cut(self) -> None:
        """Close every connection and refuse new ones."""
        self._call(self._cut())

    def restore(self) -> None:
        """Accept connections again."""
        if self._server is None:
            self._call(self._listen())

    def close(self) -> None:
        """Cut and stop the loop."""
        try:
            self.cut()
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
