"""Helpers of the security tests: a connection-counting listener and production-like provider hosts."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType

from config.providers import definitions
from tests.stack import Stack

#: Providers whose host comes from a credential field: never pointed at the simulator here.
TENANT_HOSTED = ("salesforce", "zendesk", "freshdesk", "intercom", "mailchimp")


class LoopbackListener:
    """A TCP listener on 127.0.0.1 that accepts, counts and closes every connection."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def __enter__(self) -> LoopbackListener:
        self._thread.start()
        return self

    def __exit__(self, *exc: tuple[type[BaseException] | None, BaseException | None, TracebackType | None]) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


@contextmanager
def production_hosts(stack: Stack) -> Iterator[None]:
    """Within the block, the tenant-hosted providers are called on their real hosts, as in production
    (every other provider keeps its simulator URL, as a per-provider override of the emptied root)."""
    settings = stack.settings
    root, urls = settings.provider_root, settings.provider_urls
    kept = {p: u for p in definitions() if p not in TENANT_HOSTED and (u := settings.provider_url(p))}
    kept |= {f"{p}_token": u for p in definitions() if p not in TENANT_HOSTED and (u := settings.provider_token_url(p))}
    saved = dict(urls)
    urls.update(kept)
    settings.provider_root = ""
    try:
        yield
    finally:
        settings.provider_root = root
        urls.clear()
        urls.update(saved)
