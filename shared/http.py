"""The one outbound HTTP client every adapter uses.

- A client-side limiter keeps each limit key (one integration's token) inside the provider's documented
  window: `SlidingWindowLimiter` for the threads of one instance, and in the hub `SharedWindowLimiter`
  (`shared/rate_windows.py`) for every instance together. The 429 handling below is the backstop.
- Retries with jittered exponential backoff on 429, 502/503/504 and connection errors, honouring
  Retry-After (seconds or HTTP date) or else waiting out the provider's window. A write without an
  idempotency key is retried only where the provider says it did not process it (429, 503).
- Every attempt reports (status, latency) to the caller's `on_attempt` hook (usage counters).
- Errors carry their retry meaning and never echo credentials: a provider's error text is scrubbed of every
  registered secret (in its escaped and encoded forms) first, then truncated.
- Every request goes through the egress policy (`shared/egress.py`): the transport connects only to checked
  public addresses (or the operator's exact exceptions), and redirects are followed only within the origin
  of the request (with its credentials) — a redirect elsewhere is an error, never followed.
"""

from __future__ import annotations

import email.utils
import logging
import random
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urljoin

import certifi
import requests
import urllib3
from opentelemetry.trace import SpanKind

from shared import telemetry
from shared.egress import EgressPolicy, EgressRefused, blocked_reason, guard, guarded_pool, same_origin
from shared.errors import ProviderError

log = logging.getLogger("hub.outbound")
RETRY_STATUSES = frozenset({429, 502, 503, 504})
NOT_PROCESSED = frozenset({429, 503})  # safe to retry even a non-idempotent write


@dataclass(frozen=True)
class Window:
    """`requests` per `per_seconds` (sliding), and optionally at most `concurrent` in flight."""

    requests: int
    per_seconds: float
    concurrent: int | None = None


def window_span(window: Window) -> float:
    # A small guard beyond the window for clock granularity; jitter is handled by stamping completions.
    return window.per_seconds * 1.005 + 0.005


class SlidingWindowLimiter:
    """Admits a call when fewer than `requests` calls started within the last `per_seconds`."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> None:
        self._clock = clock
        self._sleep = sleep
        self._starts: dict[str, deque[list[float]]] = {}
        self._inflight: dict[str, threading.Semaphore] = {}
        self._lock = threading.Lock()

    def acquire(self, key: str, window: Window) -> Callable[[], None]:
        """Block until a call may start; returns the release to call when the response is back.

        Each admitted call holds a slot stamped with its departure; the release re-stamps it with the time the
        response came back. The provider saw the request somewhere between the two, so counting the window
        from the later stamp keeps us inside the provider's window whatever the network or scheduling jitter."""
        sem = None
        if window.concurrent:
            with self._lock:
                sem = self._inflight.setdefault(key, threading.Semaphore(window.concurrent))
            sem.acquire()
        slot: list[float]
        while True:
            with self._lock:
                starts = self._starts.setdefault(key, deque())
                now = self._clock()
                span = window_span(window)
                while starts and now - starts[0][0] >= span:
                    starts.popleft()
                if len(starts) < window.requests:
                    slot = [now]
                    starts.append(slot)
                    break
                wait = span - (now - min(s[0] for s in starts))
            self._sleep(max(wait, 0.001))

        def release() -> None:
            with self._lock:
                slot[0] = self._clock()
            if sem:
                sem.release()

        return release

    def penalise(self, key: str, window: Window, seconds: float) -> None:
        """After a 429, treat the window as full for `seconds`, so other threads wait too."""
        with self._lock:
            starts = self._starts.setdefault(key, deque())
            fill_at = self._clock() + seconds - window_span(window)
            starts.clear()
            starts.extend([fill_at] for _ in range(window.requests))


class Limiter(Protocol):
    def acquire(self, key: str, window: Window) -> Callable[[], None]: ...

    def penalise(self, key: str, window: Window, seconds: float) -> None: ...


@dataclass
class Call:
    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    json: Any = None
    data: Any = None
    params: dict[str, Any] | None = None
    idempotency_key: str | None = None
    idempotency_header: str | None = None
    timeout_s: float = 30.0
    expect: frozenset[int] = frozenset()  # error statuses the caller handles itself (returned, not raised)
    cert: tuple[str, str] | None = None  # client certificate and key files (mutual TLS)
    verify: str | bool = True  # CA bundle path, or True for the system store
    max_bytes: int | None = None  # a larger answer is refused while it streams in, never held whole (feeds)


@dataclass
class Policy:
    provider: str
    limit_key: str | None = None
    window: Window | None = None
    max_attempts: int = 6
    backoff_base_s: float = 0.5
    backoff_cap_s: float = 30.0
    on_attempt: Callable[[int | None, float], None] | None = None
    # From the provider's catalog entry: its retry header (None: it sends none, so a 429 waits out the window),
    # the answers worth retrying, and those that promise nothing was processed.
    retry_after_header: str | None = "Retry-After"
    retry_statuses: frozenset[int] = RETRY_STATUSES
    not_processed: frozenset[int] = NOT_PROCESSED


EPOCH_FLOOR = 1_000_000_000  # 2001-09-09: no provider asks for a 31-year wait


def retry_after_seconds(value: str | None, *, now: float | None = None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.replace(".", "", 1).isdigit():
        seconds = float(value)
        if seconds > EPOCH_FLOOR:  # a reset given as a Unix time (X's x-rate-limit-reset) is a moment, not a delay
            return max(0.0, seconds + 1 - (now if now is not None else time.time()))  # whole seconds: round up
        return seconds
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (now if now is not None else time.time()))


MAX_REDIRECTS = 3
POST_BODY_MAX = 64 * 1024


def _refused(policy: Policy, reason: str) -> ProviderError:
    """A destination the egress policy refuses (before sending, or at connect): precise, and never retried."""
    return ProviderError(
        detail=f"{policy.provider}: the destination is not allowed ({reason})", provider=policy.provider, retriable=False
    )


class OutboundClient:
    def __init__(
        self,
        *,
        egress: EgressPolicy | None = None,
        limiter: Limiter | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.egress = egress or EgressPolicy()
        self.session = self.new_session()
        self._pools: dict[str, urllib3.PoolManager] = {}  # post_status's, by CA bundle
        self._pools_lock = threading.Lock()
        self.limiter: Limiter = limiter or SlidingWindowLimiter(sleep=sleep)
        self._sleep = sleep

    def post_status(self, call: Call, policy: Policy, *, schemes: tuple[str, ...] = ("https", "http")) -> int:
        """One POST whose answer is only its status (a webhook delivery): egress-checked, traced and counted like
        `send`, but through a bare urllib3 pool instead of `requests`' session, which cost 40 % of a delivery's
        CPU. Never retried (the delivery schedule retries) and never redirected (a 3xx is the answer); the
        answer's body is read up to POST_BODY_MAX and dropped. A destination the policy refuses raises
        EgressRefused (before sending) or urllib3's connection error (at connect: `blocked_reason` says why);
        other network trouble raises urllib3's errors."""
        self.egress.check_static(call.url, schemes=schemes)
        headers = telemetry.inject({"X-Correlation-Id": uuid.uuid4().hex, **call.headers})
        with telemetry.span(
            f"{policy.provider} POST",
            kind=SpanKind.CLIENT,
            attributes={"http.request.method": "POST", "server.address": _host(call.url), "hub.provider": policy.provider},
        ) as s:
            status: int | None = None
            try:
                response = self._pool(call.verify).request(
                    "POST",
                    call.url,
                    body=call.data,
                    headers=headers,
                    timeout=urllib3.Timeout(connect=min(call.timeout_s, 10.0), read=call.timeout_s),
                    retries=False,
                    redirect=False,
                    preload_content=False,
                )
                status = response.status
                if len(response.read(POST_BODY_MAX + 1, decode_content=False)) > POST_BODY_MAX:
                    response.close()  # not worth draining: the connection is dropped instead of reused
                else:
                    response.release_conn()
            finally:
                telemetry.provider_calls.add(1, {"provider": policy.provider, "status": str(status or "network")})
            s.set_attribute("http.response.status_code", status)
            return status

    def _pool(self, verify: str | bool) -> urllib3.PoolManager:
        ca = verify if isinstance(verify, str) else certifi.where()  # what `requests` trusts by default
        with self._pools_lock:
            pool = self._pools.get(ca)
            if pool is None:
                pool = self._pools[ca] = guarded_pool(self.egress, ca_certs=ca)
            return pool

    def new_session(self, session: requests.Session | None = None) -> requests.Session:
        """A session behind the egress policy (for libraries that bring their own HTTP calls, such as msal)."""
        return guard(session or requests.Session(), self.egress)

    def send(self, call: Call, policy: Policy) -> requests.Response:
        with telemetry.span(
            f"{policy.provider} {call.method}",
            kind=SpanKind.CLIENT,
            attributes={
                "http.request.method": call.method,
                "server.address": _host(call.url),
                "hub.provider": policy.provider,
            },
        ) as s:
            response = self._send(call, policy)
            s.set_attribute("http.response.status_code", response.status_code)
            return response

    def _send(self, call: Call, policy: Policy) -> requests.Response:
        try:
            self.egress.check_static(call.url)
        except EgressRefused as exc:
            raise _refused(policy, str(exc)) from None
        headers = telemetry.inject({"X-Correlation-Id": uuid.uuid4().hex, **call.headers})
        if call.idempotency_key and call.idempotency_header:
            headers[call.idempotency_header] = call.idempotency_key
        idempotent = call.method in ("GET", "HEAD", "PUT", "DELETE", "OPTIONS") or bool(call.idempotency_key)
        attempt = 0
        while True:
            attempt += 1
            release = (
                self.limiter.acquire(policy.limit_key, policy.window)
                if policy.limit_key and policy.window
                else (lambda: None)
            )
            started = time.perf_counter()
            status: int | None = None
            try:
                response = self._request(call, headers, policy)
                status = response.status_code
            except requests.RequestException as exc:
                response = None
                network_error = exc
            finally:
                release()
                if policy.on_attempt:
                    policy.on_attempt(status, (time.perf_counter() - started) * 1000)
                telemetry.provider_calls.add(1, {"provider": policy.provider, "status": str(status or "network")})
                if status == 429:
                    telemetry.provider_throttles.add(1, {"provider": policy.provider})

            if response is not None and status is not None and (status < 400 or status in call.expect):
                return response
            # A refused TLS handshake (wrong client certificate, untrusted server) or a destination the egress
            # policy refuses will not heal by retrying.
            refused = blocked_reason(network_error) if response is None else None
            if refused:
                raise _refused(policy, refused)
            retriable = (
                (status in policy.retry_statuses)
                if response is not None
                else not isinstance(network_error, requests.exceptions.SSLError)
            )
            safe = idempotent or (status in policy.not_processed)
            if not retriable or not safe or attempt >= policy.max_attempts:
                raise self._error(policy, response, None if response is not None else network_error, retriable=retriable)
            delay = self._delay(response, policy, attempt)
            if status == 429 and policy.limit_key and policy.window:
                self.limiter.penalise(policy.limit_key, policy.window, delay)
            log.warning(
                "%s %s → %s; retry %d in %.2fs", call.method, _safe_url(call.url), status or "network error", attempt, delay
            )
            self._sleep(delay)

    def _request(self, call: Call, headers: dict[str, str], policy: Policy) -> requests.Response:
        """One attempt, following redirects only within the request's origin (`requests` would follow them
        anywhere, and re-send custom key headers such as `X-Api-Key` to the new host)."""
        url, method = call.url, call.method
        for _ in range(MAX_REDIRECTS + 1):
            response = self.session.request(
                method,
                url,
                headers=headers,
                json=call.json if method == call.method else None,
                data=call.data if method == call.method else None,
                params=call.params if url == call.url else None,
                timeout=call.timeout_s,
                cert=call.cert,
                verify=call.verify,
                allow_redirects=False,
                stream=call.max_bytes is not None,
            )
            if not response.is_redirect:
                return _bounded(response, call.max_bytes, policy) if call.max_bytes is not None else response
            target = urljoin(response.url or url, response.headers.get("location", ""))
            if not same_origin(target, call.url):
                response.close()
                raise ProviderError(
                    detail=f"{policy.provider} redirected to another origin ({_host(target)}): not followed",
                    provider=policy.provider,
                    status_code=response.status_code,
                    retriable=False,
                )
            if response.status_code == 303 or (response.status_code in (301, 302) and method == "POST"):
                method = "GET"
            url = target
        raise ProviderError(detail=f"{policy.provider}: too many redirects", provider=policy.provider, retriable=False)

    def _delay(self, response: requests.Response | None, policy: Policy, attempt: int) -> float:
        if response is not None:
            after = _retry_after(response, policy)
            if after is not None:
                return min(after, 300.0)
            if response.status_code == 429 and policy.window:
                return policy.window.per_seconds  # no Retry-After (Fortnox): wait out the window
        backoff = min(policy.backoff_cap_s, policy.backoff_base_s * 2 ** (attempt - 1))
        return random.uniform(backoff / 2, backoff)  # jitter

    @staticmethod
    def _error(
        policy: Policy, response: requests.Response | None, exc: Exception | None, *, retriable: bool
    ) -> ProviderError:
        provider = policy.provider
        if response is None:
            return ProviderError(
                detail=f"{provider}: network error ({type(exc).__name__})", provider=provider, retriable=retriable
            )
        # The whole text: ProviderError scrubs it, then keeps a bounded excerpt (cutting first could leave half a
        # secret that no mask matches).
        return ProviderError(
            detail=f"{provider} answered {response.status_code}: {response.text or ''}".strip(),
            provider=provider,
            status_code=response.status_code,
            retriable=retriable,
            retry_after=_retry_after(response, policy),
        )


def _retry_after(response: requests.Response, policy: Policy) -> float | None:
    """The wait the provider asked for, in the header its catalog entry names (None: it sends none)."""
    return retry_after_seconds(response.headers.get(policy.retry_after_header)) if policy.retry_after_header else None


def _host(url: str) -> str:
    return url.split("://", 1)[-1].split("/", 1)[0]


def _bounded(response: requests.Response, limit: int, policy: Policy) -> requests.Response:
    """Read a streamed answer up to `limit` bytes; past it the connection is dropped and the call refused."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        response.close()
        raise ProviderError(
            detail=f"{policy.provider}: the answer is {int(declared)} bytes, over the {limit}-byte limit",
            provider=policy.provider,
            retriable=False,
        )
    body = bytearray()
    for chunk in response.iter_content(64 * 1024):
        body += chunk
        if len(body) > limit:
            response.close()
            raise ProviderError(
                detail=f"{policy.provider}: the answer is over the {limit}-byte limit", provider=policy.provider
            )
    response._content = bytes(body)  # what `.content`, `.text` and `.json()` read from now on
    return response


def _safe_url(url: str) -> str:
    return url.split("?", 1)[0]
