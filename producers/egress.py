"""Where webhooks may be sent: https to public addresses, or hosts the operator allows (SSRF guard).

Checked when an endpoint is created and again before every delivery (DNS may change in between). A
fuller egress policy for provider calls is the security module's; this one covers webhook URLs only.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit


class EgressRefused(ValueError):
    """The URL points somewhere webhooks may not go; the message says why."""


def _addresses(host: str, port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise EgressRefused(f"cannot resolve {host!r}: {exc.strerror or exc}") from None
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


def check_webhook_url(url: str, *, allow_hosts: Iterable[str] = (), allow_private: bool = False,
                      unresolvable_ok: bool = False) -> None:
    """Refuse URLs that are not https, or that resolve to loopback, private, link-local or reserved addresses.

    A host in ``allow_hosts`` may use http and any address (an operator's internal receiver, tests);
    ``allow_private`` permits private addresses for https URLs. ``unresolvable_ok`` accepts a name that
    does not resolve yet (at creation: every delivery checks again).
    """
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host:
        raise EgressRefused(f"webhook URL {url[:100]!r} must be an absolute https URL")
    if parts.username or parts.password:
        raise EgressRefused("webhook URL must not carry credentials")
    if host in {h.lower() for h in allow_hosts}:
        return
    if parts.scheme != "https":
        raise EgressRefused(f"webhook URL must use https (host {host!r} is not in SINTRA_WEBHOOK_ALLOW_HOSTS)")
    if host == "localhost" or host.endswith(".localhost"):
        raise EgressRefused(f"webhook host {host!r} is loopback; allow it with SINTRA_WEBHOOK_ALLOW_HOSTS")
    try:
        addresses = _addresses(host, parts.port or 443)
    except EgressRefused:
        if unresolvable_ok:
            return
        raise
    for addr in addresses:
        if allow_private and addr.is_private and not addr.is_loopback:
            continue
        if not addr.is_global or addr.is_multicast:
            raise EgressRefused(f"webhook host {host!r} resolves to {addr}, a non-public address; allow it with "
                                "SINTRA_WEBHOOK_ALLOW_HOSTS")
