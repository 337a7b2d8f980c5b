"""The worker's provider HTTP client: no cookies kept across calls; the idle-connection check."""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

from workers.egress import ProviderHTTP, _readable, egress_transport


def test_a_cookie_one_call_received_is_not_sent_on_the_next() -> None:
    seen: list[str | None] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("cookie"))
        return httpx.Response(200, headers={"set-cookie": "session=tenant-a; Path=/"})

    with ProviderHTTP(base_url="https://api.example", transport=httpx.MockTransport(answer)) as client:
        client.get("/one")
        client.get("/two")
        assert not client.cookies
    assert seen == [None, None]


def test_kept_merged_urls_join_the_current_base_and_stay_bounded() -> None:
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200)

    with ProviderHTTP(base_url="https://us21.api.example/3.0", transport=httpx.MockTransport(answer)) as client:
        client.MERGED_URLS = 3
        client.get("/campaigns", params={"count": 10})
        client.get("/campaigns", params={"count": 5})  # the kept path, its own query
        client.get("https://other.example/abs")  # an absolute URL is not joined
        for i in range(5):
            client.get(f"/campaigns/c{i}")
        client.base_url = httpx.URL("https://eu1.api.example/3.0")
        client.get("/campaigns")  # a new base: not the old one's kept URL
        assert len(client._merged) <= 3
    assert seen == ["https://us21.api.example/3.0/campaigns?count=10", "https://us21.api.example/3.0/campaigns?count=5",
                    "https://other.example/abs", *(f"https://us21.api.example/3.0/campaigns/c{i}" for i in range(5)),
                    "https://eu1.api.example/3.0/campaigns"]


def test_readable_sees_pending_data_and_a_closed_peer() -> None:
    a, b = socket.socketpair()
    try:
        assert not _readable(a)
        b.sendall(b"x")
        assert _readable(a)
        a.recv(1)
        assert not _readable(a)
        b.close()
        assert _readable(a)  # EOF waiting: a keep-alive connection the server closed
    finally:
        a.close()
    assert _readable(a)  # closed: no descriptor


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    close_after = False

    def do_GET(self) -> None:  # noqa: N802
        body = self.client_address[1].to_bytes(2, "big").hex().encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        if type(self).close_after:
            self.close_connection = True

    def log_message(self, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    """Says when it has closed a connection."""

    closed = threading.Event()

    def shutdown_request(self, request: object) -> None:
        super().shutdown_request(request)  # type: ignore[arg-type]
        self.closed.set()


def test_the_pool_reuses_a_live_connection_and_replaces_one_the_server_closed() -> None:
    server = _Server(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with ProviderHTTP(base_url=base, transport=egress_transport({"x": base}, concurrency=1)) as client:
            first, second = client.get("/").text, client.get("/").text
            assert first == second  # same client port: the kept-alive connection
            _Handler.close_after = True
            client.get("/")  # the server closes this connection after answering
            _Handler.close_after = False
            assert server.closed.wait(10)
            assert client.get("/").status_code == 200  # a fresh connection, no error
    finally:
        _Handler.close_after = False
        server.shutdown()
        server.server_close()
