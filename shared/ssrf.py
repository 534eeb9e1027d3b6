"""Outbound URLs chosen by tenants (alert webhooks) must not reach our own network: HTTPS only, and every
address the host resolves to must be public (no loopback, private, link-local — cloud metadata lives there —
multicast or reserved ranges). Checked when the URL is saved and again before each delivery."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

Resolver = Callable[[str, int], Iterable[str]]


def system_resolver(host: str, port: int) -> list[str]:
    return [info[4][0] for info in socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)]


def check_public_https(url: str, *, resolve: Resolver = system_resolver, allow_hosts: frozenset[str] = frozenset()) -> str:
    """Return the URL if safe to call, else raise ValueError saying why (the message is shown to the tenant)."""
    parts = urlsplit(url)
    if parts.scheme != "https":
        raise ValueError("must be an https:// URL")
    if not parts.hostname or parts.username or parts.password:
        raise ValueError("must name a host, without credentials in the URL")
    host = parts.hostname
    if host in allow_hosts:  # operator-approved exceptions (local test receivers)
        return url
    try:
        addresses = list(resolve(host, parts.port or 443))
    except OSError:
        raise ValueError(f"{host} does not resolve") from None
    if not addresses:
        raise ValueError(f"{host} does not resolve")
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if not ip.is_global or ip.is_multicast:
            raise ValueError(f"{host} resolves to a non-public address ({ip})")
    return url
