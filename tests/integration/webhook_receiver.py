"""A webhook receiver for tests: a real HTTP server that records deliveries and fails on demand."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    """One request the receiver got."""

    headers: dict[str, str]
    body: bytes
    answered: int


@dataclass
class Receiver:
    """Where deliveries go; ``fail_next`` answers that many requests with ``fail_status``."""

    url: str
    got: list[Received] = field(default_factory=list)
    fail_next: int = 0
    fail_status: int = 503
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self) -> int:
        """The status for the next request."""
        with self.lock:
            if self.fail_next > 0:
                self.fail_next -= 1
                return self.fail_status
            return 200


@contextmanager
def webhook_receiver() -> Iterator[Receiver]:
    """Serve a receiver on 127.0.0.1 on a free port."""
    holder: dict[str, Receiver] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            receiver = holder["r"]
            status = receiver.answer()
            with receiver.lock:
                receiver.got.append(Received({k.lower(): v for k, v in self.headers.items()}, body, status))
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    holder["r"] = Receiver(url=f"http://127.0.0.1:{server.server_address[1]}/hook")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield holder["r"]
    finally:
        server.shutdown()
        server.server_close()
