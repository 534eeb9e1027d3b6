"""The egress policy: where the hub's outbound calls may go. Every outbound request goes through it.

A tenant chooses some URLs (a CRM's `instance_url`, a Kobo server, an LMS portal, an iCal feed, an alert
webhook). Sent naively, our credentials would go wherever the tenant says — to the hub's own listeners, the
storage emulator, cloud metadata (169.254.169.254) or a private network. So:

- `check_url` (no I/O but the resolver): scheme (HTTPS only in production), no userinfo, the provider's host
  patterns where the provider has fixed domains, and every address the host resolves to must be public.
  Run when a URL is saved (field-level 422) and again when it is called.
- `GuardedAdapter` (a `requests` transport adapter) resolves the host **at connect time**, checks every address
  and connects to the checked address itself, with the hostname kept for SNI, certificate checks and `Host`:
  there is no window between check and connect for a DNS rebinding.
- Refused: loopback, private, link-local, CGNAT, multicast, reserved, unspecified, and the IPv6 forms that embed
  an IPv4 address (IPv4-mapped, NAT64 64:ff9b::/96 and 64:ff9b:1::/48, 6to4 2002::/16, Teredo 2001::/32), which
  `ipaddress.is_global` calls global. Numeric host spellings (`2130706433`, `0177.0.0.1`, `127.1`) are resolved
  like any host, so they are checked by the address they reach.
- The only exceptions are operator settings naming exact `ip:port` origins (loopback fakes in development and
  tests); the settings refuse them in production.

Redirects are handled by the outbound client (`shared/http.py`): never across origins, never with credentials.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3 import PoolManager
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import NewConnectionError
from urllib3.util.connection import create_connection

Resolver = Callable[[str, int], Iterable[str]]

# `is_global` is True for these, yet each reaches an IPv4 address chosen by whoever controls the embedding.
_EMBEDDING = tuple(ipaddress.ip_network(n) for n in ("64:ff9b::/96", "64:ff9b:1::/48", "2002::/16", "2001::/32", "::/96"))
_CGNAT = ipaddress.ip_network("100.64.0.0/10")


class EgressRefused(ValueError):
    """A destination the policy refuses. The message names the rule, never a credential; it is shown to tenants."""


class Unresolved(EgressRefused):
    """The host does not resolve (now): nothing to connect to, so nothing reached either."""


def system_resolver(host: str, port: int) -> list[str]:
    return [str(info[4][0]) for info in socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)]


def refusal(address: str) -> str | None:
    """Why an address may not be reached, or None when it is public."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return "not an IP address"
    checks = (
        (ip.is_loopback, "loopback"),
        (ip.is_unspecified, "unspecified"),
        (ip.is_link_local, "link-local"),
        (ip.is_private, "private"),
        (ip.is_multicast, "multicast"),
        (ip.is_reserved, "reserved"),
        (isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT, "carrier-grade NAT"),
    )
    for hit, why in checks:
        if hit:
            return f"a {why} address ({ip})"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return f"an IPv4-mapped address ({ip})"
        if any(ip in net for net in _EMBEDDING):
            return f"an address embedding IPv4 (NAT64/6to4/Teredo: {ip})"
    if not ip.is_global:
        return f"a non-global address ({ip})"
    return None


@dataclass(frozen=True)
class EgressPolicy:
    https_only: bool = True
    # Operator exceptions: exact (ip, port) pairs that may be reached although not public (loopback fakes).
    allow: frozenset[tuple[str, int]] = frozenset()
    resolve: Resolver = field(default=system_resolver, compare=False)

    @classmethod
    def from_origins(cls, origins: Iterable[str], *, https_only: bool, resolve: Resolver = system_resolver) -> EgressPolicy:
        pairs = set()
        for origin in origins:
            host, _, port = origin.rpartition(":")
            pairs.add((str(ipaddress.ip_address(host.strip("[]"))), int(port)))
        return cls(https_only=https_only, allow=frozenset(pairs), resolve=resolve)

    def addresses(self, host: str, port: int) -> list[str]:
        """Every address of `host`, each checked; raises EgressRefused if any is refused (one bad answer in a set
        is enough for a rebinding attacker, so a mixed answer is refused whole)."""
        try:
            found = list(dict.fromkeys(a.split("%", 1)[0] for a in self.resolve(host, port)))
        except OSError:
            raise Unresolved(f"{host} does not resolve") from None
        if not found:
            raise Unresolved(f"{host} does not resolve")
        for address in found:
            if (str(ipaddress.ip_address(address)), port) in self.allow:
                continue
            if why := refusal(address):
                raise EgressRefused(f"{host} resolves to {why}")
        return found

    def check_url(self, url: str, *, hosts: tuple[str, ...] = (), schemes: tuple[str, ...] = ("https", "http")) -> str:
        """Return the URL if the hub may call it; else EgressRefused saying which rule it breaks.

        `hosts`: the provider's fixed domains as glob patterns (`*.dynamics.com`); empty = any public host."""
        host, port = self.check_static(url, hosts=hosts, schemes=schemes)
        self.addresses(host, port)
        return url

    def check_static(
        self, url: str, *, hosts: tuple[str, ...] = (), schemes: tuple[str, ...] = ("https", "http")
    ) -> tuple[str, int]:
        """The checks that need no DNS: scheme, userinfo, port, host patterns, and an IP literal's range."""
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        allowed = tuple(s for s in schemes if not (self.https_only and s in ("http", "rtmp")))
        if scheme not in allowed:
            raise EgressRefused(f"must be a {' or '.join(f'{s}://' for s in allowed)} URL")
        if not parts.hostname:
            raise EgressRefused("must name a host")
        if parts.username is not None or parts.password is not None:
            raise EgressRefused("must not carry credentials in the URL")
        try:
            port = parts.port or _DEFAULT_PORTS.get(scheme, 443)
        except ValueError:
            raise EgressRefused("has an invalid port") from None
        host = parts.hostname.rstrip(".").lower()
        exempt = self._exempt(host, port)
        if hosts and not exempt and not any(fnmatch.fnmatchcase(host, p) for p in hosts):
            raise EgressRefused(f"host must be one of {', '.join(hosts)}")
        if not exempt and _is_ip(host) and (why := refusal(host.strip("[]"))):
            raise EgressRefused(f"{host} is {why}")
        return host, port

    def _exempt(self, host: str, port: int) -> bool:
        try:
            return (str(ipaddress.ip_address(host.strip("[]"))), port) in self.allow
        except ValueError:
            return False


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
        return True
    except ValueError:
        return False


_DEFAULT_PORTS = {"https": 443, "http": 80, "rtmps": 443, "rtmp": 1935}


def same_origin(a: str, b: str) -> bool:
    pa, pb = urlsplit(a), urlsplit(b)
    try:
        return (pa.scheme, pa.hostname, pa.port or _DEFAULT_PORTS.get(pa.scheme)) == (
            pb.scheme,
            pb.hostname,
            pb.port or _DEFAULT_PORTS.get(pb.scheme),
        )
    except ValueError:
        return False


# --- the transport: connect only to checked addresses --------------------------------------------------------------


class EgressBlocked(NewConnectionError):
    """Raised at connect time; `refusal` is the policy's reason (shown to tenants)."""

    def __init__(self, conn: HTTPConnection, refusal: str) -> None:
        super().__init__(conn, f"egress refused: {refusal}")
        self.refusal = refusal


def blocked_reason(exc: BaseException | None) -> str | None:
    """The egress refusal behind a `requests` connection error, if that is what it was."""
    seen = 0
    while exc is not None and seen < 8:
        if isinstance(exc, EgressBlocked):
            return exc.refusal
        exc = getattr(exc, "reason", None) or (exc.args[0] if exc.args and isinstance(exc.args[0], BaseException) else None)
        seen += 1
    return None


def _guarded_connect(conn: HTTPConnection, policy: EgressPolicy) -> socket.socket:
    host = conn._dns_host  # noqa: SLF001 - urllib3's own name for the host it would resolve
    try:
        addresses = policy.addresses(host, conn.port or 0)
    except EgressRefused as exc:
        raise EgressBlocked(conn, str(exc)) from None
    error: OSError | None = None
    for address in addresses:
        try:
            return create_connection(
                (address, conn.port or 0),
                conn.timeout,
                source_address=conn.source_address,
                socket_options=conn.socket_options,
            )
        except OSError as exc:
            error = exc
    raise NewConnectionError(conn, f"Failed to establish a new connection: {error}")


def _pool_classes(policy: EgressPolicy) -> dict[str, type[Any]]:
    class GuardedHTTPConnection(HTTPConnection):
        def _new_conn(self) -> socket.socket:
            return _guarded_connect(self, policy)

    class GuardedHTTPSConnection(HTTPSConnection):
        def _new_conn(self) -> socket.socket:
            return _guarded_connect(self, policy)

    class GuardedHTTPPool(HTTPConnectionPool):
        ConnectionCls = GuardedHTTPConnection

    class GuardedHTTPSPool(HTTPSConnectionPool):
        ConnectionCls = GuardedHTTPSConnection

    return {"http": GuardedHTTPPool, "https": GuardedHTTPSPool}


class GuardedAdapter(HTTPAdapter):
    """A `requests` transport whose every connection goes to an address the policy checked (SNI and the
    certificate's hostname check stay on the original host: urllib3 wraps the socket we hand it)."""

    def __init__(self, policy: EgressPolicy, **kwargs: Any) -> None:
        self._policy = policy
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _pool_classes(self._policy)
        self.poolmanager.key_fn_by_scheme = dict(self.poolmanager.key_fn_by_scheme)

    def proxy_manager_for(self, *args: Any, **kwargs: Any) -> Any:
        raise EgressRefused("outbound proxies are not used: the egress policy checks the destination itself")


# requests' defaults keep 10 connections to 10 hosts: the hub's worker threads (a fan-out's 16, a function
# batch's jobs) to one provider, or a tenant's endpoints on many hosts, would each pay a new TLS handshake.
POOL_HOSTS = 64
POOL_PER_HOST = 32


def guarded_pool(policy: EgressPolicy, *, ca_certs: str) -> PoolManager:
    """A bare urllib3 pool behind the same connect-time check, for the one hot path where `requests`' session
    machinery costs more than the call itself (a fan-out's POSTs to tenant endpoints); TLS verified against
    `ca_certs`."""
    pool = PoolManager(num_pools=POOL_HOSTS, maxsize=POOL_PER_HOST, cert_reqs="CERT_REQUIRED", ca_certs=ca_certs)
    pool.pool_classes_by_scheme = _pool_classes(policy)
    pool.key_fn_by_scheme = dict(pool.key_fn_by_scheme)
    return pool


def guard(session: requests.Session, policy: EgressPolicy) -> requests.Session:
    """Mount the guarded transport on a `requests.Session` for both schemes; no environment proxies."""
    adapter = GuardedAdapter(policy, pool_connections=POOL_HOSTS, pool_maxsize=POOL_PER_HOST)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.trust_env = False  # HTTP(S)_PROXY would send traffic around the check
    return session
