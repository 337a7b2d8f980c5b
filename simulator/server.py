"""Run the simulator in a background thread on a real socket (for tests and local scripts)."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass

import uvicorn

from simulator.app import create_app

#: Longest wait for the server to start or stop.
STARTUP_TIMEOUT = 10.0


@dataclass
class SimulatorServer:
    """A running simulator: ``url`` is like ``http://127.0.0.1:PORT``."""

    url: str
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self) -> None:
        """Ask uvicorn to exit and wait for the thread."""
        self.server.should_exit = True
        self.thread.join(timeout=STARTUP_TIMEOUT)


def start_in_thread(host: str = "127.0.0.1", port: int = 0) -> SimulatorServer:
    """Start a simulator on ``host:port`` (0 picks a free port) and return once it accepts connections."""
    # proto=IPPROTO_TCP so asyncio sets TCP_NODELAY on accepted connections (else ~40 ms per request)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    config = uvicorn.Config(create_app(), log_level="warning", access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="provider-simulator",
                              daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"provider simulator did not start on {host}:{sock.getsockname()[1]}")
        time.sleep(0.01)
    return SimulatorServer(url=f"http://{host}:{sock.getsockname()[1]}", server=server, thread=thread)
