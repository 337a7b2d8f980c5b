"""The worker's egress policy: provider calls reach public addresses only, checked after DNS resolution.

Credential patterns (checked at configure and before a base URL is built) keep tenants from choosing
hosts; this transport is the second wall. Every connection resolves the host itself, refuses the
connection when any address is loopback, private (RFC 1918, ULA ``fc00::/7``), link-local (incl. the
cloud metadata address 169.254.169.254), shared (100.64/10), multicast, reserved or unspecified, and
then connects to the address it checked, so a second DNS answer cannot swap in an internal one
(rebinding). TLS still verifies the certificate against the host name.

The one exception is an address the operator chose: the hosts of ``settings.provider_urls`` and of
``settings.provider_root`` (the simulator, tests, an egress proxy) are reachable wherever they live.
"""

from __future__ import annotations

import functools
import ipaddress
import itertools
import select
import socket
import ssl
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx

#: Address families the policy understands.
_FAMILIES = (socket.AF_INET, socket.AF_INET6)


class EgressRefused(httpx.ConnectError):
    """A provider call was aimed at an address the egress policy forbids."""


def is_public(address: str) -> bool:
    """True when ``address`` (an IP literal) is a public unicast address."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None:
            return is_public(str(embedded))
    return ip.is_global and not ip.is_multicast


def allowed_origins(urls: Iterable[str]) -> frozenset[tuple[str, int]]:
    """The (host, port) pairs of operator-chosen URLs."""
    out = set()
    for url in urls:
        parsed = httpx.URL(url)
        if parsed.host:
            out.add((parsed.host.lower(), parsed.port or (443 if parsed.scheme == "https" else 80)))
    return frozenset(out)


class GuardedBackend(httpcore.SyncBackend):
    """An httpcore network backend that connects only to checked, public addresses."""

    def __init__(self, allowed: frozenset[tuple[str, int]] = frozenset()) -> None:
        self.allowed = allowed

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None, socket_options: Iterable[Any] | None = None,
                    ) -> httpcore.NetworkStream:
        if (host.lower(), port) in self.allowed:
            return _Stream(super().connect_tcp(host, port, timeout, local_address, socket_options))
        address = resolve_public(host, port)
        return _Stream(super().connect_tcp(address, port, timeout, local_address, socket_options))


_real_poll: Any = None


def _readable(sock: Any) -> bool:
    """Whether ``sock`` has data (or EOF) waiting: one non-blocking ``poll`` system call.

    httpcore asks this of every pooled connection on every request and every response close (a server
    that closed an idle keep-alive connection leaves it readable). Its own check uses ``select.poll``,
    which under gevent is gevent's: a watcher and a trip through the hub per connection (5 % of a
    worker's CPU per job). A zero-timeout poll never blocks, so the unpatched one is safe under gevent.
    """
    global _real_poll
    if _real_poll is None:
        try:
            from gevent.monkey import get_original

            _real_poll = get_original("select", "poll")
        except ImportError:  # pragma: no cover - gevent is a dependency of the worker
            _real_poll = select.poll
    fd = -1 if sock is None else sock.fileno()
    if fd < 0:
        return True  # gone: as httpcore does, the next read returns the terminating b""
    p = _real_poll()
    p.register(fd, select.POLLIN)
    return bool(p.poll(0))


class _Stream(httpcore.NetworkStream):
    """httpcore's network stream with :func:`_readable` as its idle-connection check."""

    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, timeout)

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, timeout)

    def close(self) -> None:
        self._stream.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        return _Stream(self._stream.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":
            return _readable(self._stream.get_extra_info("socket"))
        return self._stream.get_extra_info(info)


def resolve_public(host: str, port: int) -> str:
    """The first address of ``host``, or :class:`EgressRefused` when any of its addresses is not public."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from None
    addresses = [str(info[4][0]) for info in infos if info[0] in _FAMILIES]  # typeshed: a sockaddr may hold ints
    if not addresses:
        raise httpcore.ConnectError(f"{host} has no IPv4 or IPv6 address")
    if bad := [a for a in addresses if not is_public(a)]:
        # every address is checked: a name that resolves to one public and one internal address
        # must not be connectable on retry either
        raise EgressRefused(f"egress refused: {host} resolves to a non-public address ({bad[0]})")
    return addresses[0]


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The process's one TLS context (httpx's defaults: certificates verified) for every provider pool.

    Each context loads the CA bundle (about 1 MB and 35 ms of CPU), and a worker has a pool per shard per
    provider base URL: at 256 in flight it built 128 per provider on its first job there, 4.7 s of CPU during
    which every greenlet of the process stood still, and 50 MB. One context serves any number of connections.
    """
    return httpx.create_ssl_context()


class EgressTransport(httpx.HTTPTransport):
    """``httpx.HTTPTransport`` over :class:`GuardedBackend`, keeping up to ``connections`` alive."""

    def __init__(self, *, allowed: frozenset[tuple[str, int]] = frozenset(), connections: int = 20,
                 **kwargs: Any) -> None:
        super().__init__(**{"verify": tls_context(), **kwargs})
        self._pool = httpcore.ConnectionPool(ssl_context=tls_context(), max_connections=connections,
                                             max_keepalive_connections=connections, keepalive_expiry=5.0,
                                             network_backend=GuardedBackend(allowed))


class ShardedTransport(httpx.BaseTransport):
    """Requests spread round-robin over several pools.

    httpcore's pool matches every waiting request against every connection on each request and each
    response close: with hundreds of calls in flight on one pool that costs more CPU than the calls
    (measured: two thirds of a worker's CPU at 256 in flight), and its idle check polls every idle
    connection's socket. Pools of :data:`SHARD` connections
    keep that cost flat; together they keep a connection alive per job in flight.
    """

    def __init__(self, transports: list[httpx.BaseTransport]) -> None:
        self._transports = transports
        self._next = itertools.count()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._transports[next(self._next) % len(self._transports)].handle_request(request)

    def close(self) -> None:
        for transport in self._transports:
            transport.close()


class _NoCookies(httpx.Cookies):
    """A cookie jar that keeps nothing a response sets."""

    def extract_cookies(self, response: httpx.Response) -> None:
        return None


class ProviderHTTP(httpx.Client):
    """The worker's pooled provider client: it keeps no cookies.

    One client serves every workspace calling a base URL, so a cookie one tenant's call received must
    not ride along on another tenant's call; providers authenticate with headers or query parameters.
    (Parsing every response's headers for cookies also cost 2 % of a job's CPU.)
    """

    #: Most request paths whose merged URL is kept (a provider's calls use a handful of paths, plus ids).
    MERGED_URLS = 1024

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._cookies = _NoCookies()
        self._merged: dict[tuple[httpx.URL, str], httpx.URL] = {}

    def _merge_url(self, url: httpx.URL | str) -> httpx.URL:
        """The base URL joined with ``url``, kept per path string: httpx parses both on every request
        (pure Python, 4 % of a job's CPU at 256 in flight); a URL is immutable, so one serves every call."""
        if not isinstance(url, str):
            return super()._merge_url(url)
        key = (self.base_url, url)
        merged = self._merged.get(key)
        if merged is None:
            merged = super()._merge_url(url)
            if len(self._merged) >= self.MERGED_URLS:  # bounded: paths carrying ids would grow it forever
                self._merged.clear()
            self._merged[key] = merged
        return merged

    @property
    def cookies(self) -> httpx.Cookies:
        return self._cookies

    @cookies.setter
    def cookies(self, cookies: Any) -> None:
        self._cookies = _NoCookies()


#: Connections per pool of a :class:`ShardedTransport`.
SHARD = 4


def egress_transport(provider_urls: dict[str, str], root: str = "", *, concurrency: int = 8) -> httpx.BaseTransport:
    """The worker's transport: public addresses, plus the hosts of the operator's provider URLs and root;
    a connection kept alive for each of ``concurrency`` calls in flight."""
    allowed = allowed_origins([*provider_urls.values(), *([root] if root else [])])
    shards = -(-concurrency // SHARD)
    if shards == 1:
        return EgressTransport(allowed=allowed, connections=max(20, concurrency))
    return ShardedTransport([EgressTransport(allowed=allowed, connections=SHARD) for _ in range(shards)])
