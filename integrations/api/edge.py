"""The HTTP edge, as one pure ASGI middleware: correlation id, request size and media type, rate-limit
headers on every response (errors included), and a last-resort 500 problem that never leaks internals.

Pure ASGI rather than BaseHTTPMiddleware so request bodies stream through untouched and an exception
anywhere inside still produces a response that carries the rate-limit headers.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Callable
from typing import Any

from opentelemetry.trace import SpanKind
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from integrations.api.deprecations import Deprecation, headers_for
from integrations.api.problems import PROBLEM_JSON, TYPE_BASE
from integrations.api.ratelimit import Decision, RateLimiter
from shared import logs, telemetry

log = logging.getLogger("hub.api")
JSON_TYPES = ("application/json", "application/merge-patch+json")
FORM_TYPES = ("application/x-www-form-urlencoded",)
FORM_PATHS = frozenset({"/api/v1/oauth/token"})  # RFC 6749 token requests are form-encoded
_BODY_METHODS = {b"POST", b"PUT", b"PATCH"}


_TENANT_PATH = re.compile(r"^/api/v1/tenants/([^/]+)(?:/integrations/(int_[0-9a-f]{24}))?")


class _TooLarge(Exception):
    pass


def _problem(status: int, title: str, detail: str, slug: str, path: str) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    body = json.dumps(
        {"type": TYPE_BASE + slug, "title": title, "status": status, "detail": detail, "instance": path}
    ).encode()
    return body, [(b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(body)).encode())]


class Edge:
    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body: int,
        limiter: Callable[[], RateLimiter | None],
        on_request: Callable[[Any, str, str, int], None] | None = None,
        deprecations: dict[str, Deprecation] | None = None,
        observe_status: Callable[[str, str, int], None] | None = None,
    ) -> None:
        self.app = app
        self.observe_status = observe_status
        self.deprecations = deprecations or {}
        self.max_body = max_body
        self.limiter = limiter
        self.on_request = on_request

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        path: str = scope["path"]
        correlation = headers.get(b"x-correlation-id", b"").decode("latin-1")[:64] or uuid.uuid4().hex
        scope.setdefault("state", {})["correlation_id"] = correlation
        limiter = self.limiter()
        decision: Decision | None = limiter.check(_client_key(scope, headers), path, scope["method"]) if limiter else None
        extra = [(b"x-correlation-id", correlation.encode())] + (decision.headers() if decision else [])
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                deprecated = headers_for(scope, self.deprecations) if self.deprecations else []
                if self.observe_status is not None:
                    route = scope.get("route")
                    self.observe_status(getattr(route, "operation_id", None) or "", scope["method"], message["status"])
                message = {**message, "headers": [*message.get("headers", []), *extra, *deprecated]}
                principal = scope["state"].get("principal")
                if principal is not None and self.on_request is not None:
                    try:
                        self.on_request(principal, path, scope["method"], message["status"])
                    except Exception:  # noqa: BLE001 - counting must never break a response
                        log.exception("counting a request failed")
            await send(message)

        async def respond(status: int, title: str, detail: str, slug: str, more: list[tuple[bytes, bytes]] = ()) -> None:  # type: ignore[assignment]
            body, hdrs = _problem(status, title, detail, slug, path)
            await send_with_headers({"type": "http.response.start", "status": status, "headers": [*hdrs, *more]})
            await send({"type": "http.response.body", "body": body})

        if decision is not None and not decision.allowed:
            await respond(
                429,
                "Too many requests",
                f"Rate limit exceeded; retry in {decision.retry_after} s.",
                "rate-limited",
                [(b"retry-after", str(decision.retry_after).encode())],
            )
            return
        if scope["method"].encode() in _BODY_METHODS:
            length = headers.get(b"content-length")
            if length is not None and length.isdigit() and int(length) > self.max_body:
                await respond(
                    413, "Payload too large", f"Request bodies are limited to {self.max_body} bytes.", "payload-too-large"
                )
                return
            ctype = headers.get(b"content-type", b"").decode("latin-1").split(";")[0].strip().lower()
            has_body = (length not in (None, b"0")) or headers.get(b"transfer-encoding") == b"chunked"
            accepted = FORM_TYPES if path in FORM_PATHS else JSON_TYPES
            if has_body and path.startswith("/api/") and ctype not in accepted:
                await respond(
                    415,
                    "Unsupported media type",
                    f"Send {' or '.join(accepted)}, not {ctype or 'no content type'}.",
                    "unsupported-media-type",
                )
                return

        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise _TooLarge
            return message

        carrier = {
            k.decode("latin-1"): v.decode("latin-1") for k, v in headers.items() if k in (b"traceparent", b"tracestate")
        }
        ids = _TENANT_PATH.match(path)
        with (
            logs.bound(correlation_id=correlation, tenant_id=ids and ids.group(1), integration_id=ids and ids.group(2)),
            telemetry.span(
                f"HTTP {scope['method']}",
                kind=SpanKind.SERVER,
                parent=telemetry.context_from(carrier),
                attributes={"http.request.method": scope["method"], "url.path": path, "hub.correlation_id": correlation},
            ),
        ):
            await self._call(scope, limited_receive, send_with_headers, respond, lambda: started)

    async def _call(self, scope: Scope, receive: Receive, send: Send, respond: Any, started: Callable[[], bool]) -> None:
        try:
            await self.app(scope, receive, send)
        except _TooLarge:
            if not started():
                await respond(
                    413, "Payload too large", f"Request bodies are limited to {self.max_body} bytes.", "payload-too-large"
                )
        except Exception:  # noqa: BLE001 - the last line of defence: log, answer 500, leak nothing
            log.exception("unhandled error on %s %s", scope["method"], scope["path"])
            if not started():
                await respond(500, "Internal error", "An unexpected error occurred; it has been logged.", "internal")


def _client_key(scope: Scope, headers: dict[bytes, bytes]) -> str:
    """Who to count a request against before authentication: the key id of a presented API key (not yet
    verified: a forged id only spends that id's budget… so unverified ids share the IP's bucket), else the IP."""
    auth = headers.get(b"authorization", b"").decode("latin-1")
    client: Any = scope.get("client") or ("unknown", 0)
    if auth.startswith("Bearer hubk_"):
        parts = auth[7:].split("_")
        if len(parts) >= 3 and len(parts[1]) == 16:
            return f"key:{parts[1]}"
    return f"ip:{client[0]}"
