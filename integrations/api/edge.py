"""The HTTP edge, as one pure ASGI middleware: correlation id, request size and media type, rate-limit
headers on every response (errors included), and a last-resort 500 problem that never leaks internals.

Pure ASGI rather than BaseHTTPMiddleware so request bodies stream through untouched and an exception
anywhere inside still produces a response that carries the rate-limit headers.
"""

from __future__ import annotations

import itertools
import json
import logging
import re
import secrets
from collections.abc import Callable
from typing import Any

import anyio
from opentelemetry.trace import SpanKind
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from integrations.api.body_checks import depth_exceeds, value_errors
from integrations.api.deprecations import Deprecation, headers_for
from integrations.api.problems import PROBLEM_JSON, problem_body
from integrations.api.ratelimit import WEBHOOK_PATH, Decision, Limiter
from integrations.api_versions import response_headers
from shared import logs, telemetry
from shared.errors import STORAGE_RETRY_AFTER_S, FieldError, PayloadTooLarge, StorageUnavailable

log = logging.getLogger("hub.api")
JSON_TYPES = ("application/json", "application/merge-patch+json")
FORM_TYPES = ("application/x-www-form-urlencoded",)
FORM_PATHS = frozenset({"/api/v1/oauth/token"})  # RFC 6749 token requests are form-encoded
_BODY_METHODS = {b"POST", b"PUT", b"PATCH"}
# File imports stream through (spooled to disk by the route), up to max_upload rather than max_body.
UPLOAD_PATH = re.compile(r"^/api/v1/tenants/[^/]+/integrations/int_[0-9a-f]{24}/(imports|reconciliations)$")
UPLOAD_TYPES = ("multipart/form-data", "text/csv", "application/json", "application/octet-stream")


_TENANT_PATH = re.compile(r"^/api/v1/tenants/([^/]+)(?:/integrations/(int_[0-9a-f]{24}))?")


def _problem(
    status: int, title: str, detail: str, slug: str, path: str, errors: list[FieldError] | None = None
) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    body = json.dumps(problem_body(status, detail, instance=path, slug=slug, title=title, errors=errors)).encode()
    return body, [(b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(body)).encode())]


class Edge:
    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body: int,
        limiter: Callable[[], Limiter | None],
        on_request: Callable[[Any, str, str, int], None] | None = None,
        deprecations: dict[str, Deprecation] | None = None,
        observe_status: Callable[[str, str, int], None] | None = None,
        verified_key: Callable[[str], str | None] = lambda presented: None,
        max_depth: int = 64,
        max_upload: int = 512 * 1024 * 1024,
    ) -> None:
        self.app = app
        self.max_upload = max_upload
        self.verified_key = verified_key
        self.max_depth = max_depth
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
        correlation = correlation_id(headers)
        scope.setdefault("state", {})["correlation_id"] = correlation
        extra = [(b"x-correlation-id", correlation.encode())]
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                deprecated = headers_for(scope, self.deprecations) if self.deprecations else []
                if self.observe_status is not None:
                    route = scope.get("route")
                    self.observe_status(getattr(route, "operation_id", None) or "", scope["method"], message["status"])
                version = scope["state"].get("api_version")
                versioned = response_headers(version) if version else []
                message = {**message, "headers": [*message.get("headers", []), *extra, *deprecated, *versioned]}
                principal = scope["state"].get("principal")
                if principal is not None and self.on_request is not None:
                    try:
                        self.on_request(principal, path, scope["method"], message["status"])
                    except Exception:  # noqa: BLE001 - counting must never break a response
                        log.exception("counting a request failed")
            await send(message)

        async def respond(
            status: int,
            title: str,
            detail: str,
            slug: str,
            more: list[tuple[bytes, bytes]] = (),  # type: ignore[assignment]
            errors: list[FieldError] | None = None,
        ) -> None:
            body, hdrs = _problem(status, title, detail, slug, path, errors)
            await send_with_headers({"type": "http.response.start", "status": status, "headers": [*hdrs, *more]})
            await send({"type": "http.response.body", "body": body})

        # The limiter may touch storage: inside the edge's error handling, so an outage is a 503 problem with the
        # correlation header, never a bare 500. The common case needs no I/O (a key verified here before, a token
        # left in this instance's lease) and is decided on the loop; a refill from storage runs in a worker
        # thread, so a storage hang never stalls other requests (and /api/health) on this worker. Picking the
        # client and the limiter is I/O-free (cached verification; tables are opened lazily).
        decision: Decision | None = None
        try:
            limiter = self.limiter()
            if limiter is not None:
                client = _client_key(scope, headers, self.verified_key)
                decision = limiter.check_local(client, path, scope["method"])
                if decision is None:
                    decision = await anyio.to_thread.run_sync(limiter.check, client, path, scope["method"])
        except Exception as exc:  # noqa: BLE001 - the limiter's storage is down: say so, do not guess
            if isinstance(exc, StorageUnavailable):
                # Expected during an outage, and logged on the event loop: one line, not a formatted traceback
                # per request (tens of milliseconds each, with every other request waiting).
                log.warning("rate limiter unavailable on %s %s: storage did not answer", scope["method"], path)
            else:
                log.exception("rate limiter unavailable on %s %s", scope["method"], path)
            await respond(
                503,
                "Service unavailable",
                "The hub cannot check its rate limits right now; retry shortly.",
                "unavailable",
                [(b"retry-after", str(STORAGE_RETRY_AFTER_S).encode())],
            )
            return
        if decision is not None:
            extra += decision.headers()
        if decision is not None and not decision.allowed:
            await respond(
                429,
                "Too many requests",
                f"Rate limit exceeded; retry in {decision.retry_after} s.",
                "rate-limited",
                [(b"retry-after", str(decision.retry_after).encode())],
            )
            return
        # A provider's delivery comes as the provider sends it (form, JSON, empty): the receiver takes the bytes.
        webhook = path.startswith(WEBHOOK_PATH)
        upload = scope["method"] == "POST" and UPLOAD_PATH.match(path) is not None
        if upload:
            length = headers.get(b"content-length")
            ctype = headers.get(b"content-type", b"").decode("latin-1").split(";")[0].strip().lower()
            if length is not None and length.isdigit() and int(length) > self.max_upload:
                await respond(
                    413, "Payload too large", f"Import files are limited to {self.max_upload} bytes.", "payload-too-large"
                )
                return
            bodyless = length in (None, b"0") and headers.get(b"transfer-encoding") != b"chunked"
            if ctype not in UPLOAD_TYPES and not bodyless:  # bodyless: the file is a Blob reference
                await respond(
                    415,
                    "Unsupported media type",
                    f"Send the file as {' or '.join(UPLOAD_TYPES)}, not {ctype or 'no content type'}.",
                    "unsupported-media-type",
                )
                return
        elif scope["method"].encode() in _BODY_METHODS:
            length = headers.get(b"content-length")
            if length is not None and length.isdigit() and int(length) > self.max_body:
                await respond(
                    413, "Payload too large", f"Request bodies are limited to {self.max_body} bytes.", "payload-too-large"
                )
                return
            ctype = headers.get(b"content-type", b"").decode("latin-1").split(";")[0].strip().lower()
            has_body = (length not in (None, b"0")) or headers.get(b"transfer-encoding") == b"chunked"
            accepted = FORM_TYPES if path in FORM_PATHS else JSON_TYPES
            if has_body and path.startswith("/api/") and ctype not in accepted and not webhook:
                await respond(
                    415,
                    "Unsupported media type",
                    f"Send {' or '.join(accepted)}, not {ctype or 'no content type'}.",
                    "unsupported-media-type",
                )
                return

        downstream: Receive = receive
        if upload:
            downstream = _counted(receive, self.max_upload)
        elif scope["method"].encode() in _BODY_METHODS:
            # Bodies are small (max_body): read the whole body here, so a chunked body over the limit is a 413
            # before any route sees it, and JSON nested past max_depth is a 400 before any parser recurses.
            chunks, size, more = [], 0, True
            while more:
                message = await receive()
                if message["type"] != "http.request":
                    return  # the client went away
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > self.max_body:
                    await respond(
                        413,
                        "Payload too large",
                        f"Request bodies are limited to {self.max_body} bytes.",
                        "payload-too-large",
                    )
                    return
                chunks.append(chunk)
                more = message.get("more_body", False)
            body = b"".join(chunks)
            if ctype in JSON_TYPES and not webhook:
                if depth_exceeds(body, self.max_depth):
                    await respond(
                        400, "Bad request", f"JSON may nest at most {self.max_depth} levels deep.", "malformed-json"
                    )
                    return
                if errors := value_errors(body):
                    await respond(422, "Validation failed", "The request is invalid.", "validation-failed", errors=errors)
                    return
            replayed = False

            async def replay() -> Message:
                nonlocal replayed
                if not replayed:
                    replayed = True
                    return {"type": "http.request", "body": body, "more_body": False}
                return await receive()  # after the body: disconnect notices

            downstream = replay

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
            await self._call(scope, downstream, send_with_headers, respond, lambda: started)

    async def _call(self, scope: Scope, receive: Receive, send: Send, respond: Any, started: Callable[[], bool]) -> None:
        try:
            await self.app(scope, receive, send)
        except Exception:  # noqa: BLE001 - the last line of defence: log, answer 500, leak nothing
            log.exception("unhandled error on %s %s", scope["method"], scope["path"])
            if not started():
                await respond(500, "Internal error", "An unexpected error occurred; it has been logged.", "internal")


def _counted(receive: Receive, limit: int) -> Receive:
    """A streamed body that stops at `limit` bytes (a chunked upload declares no length)."""
    size = 0

    async def counted() -> Message:
        nonlocal size
        message = await receive()
        size += len(message.get("body", b""))
        if size > limit:
            raise PayloadTooLarge(f"Import files are limited to {limit} bytes.")
        return message

    return counted


def _client_key(scope: Scope, headers: dict[bytes, bytes], verified_key: Callable[[str], str | None]) -> str:
    """Who to count a request against before authentication: a key's own bucket only once its secret has been
    verified on this instance (no I/O), else the caller's address — so random key ids share one bucket and cost
    no storage read or bucket row each."""
    auth = headers.get(b"authorization", b"").decode("latin-1")
    presented = auth[7:].strip() if auth[:7].lower() == "bearer " else headers.get(b"x-api-key", b"").decode("latin-1")
    if presented.startswith("hubk_") and (key_id := verified_key(presented)):
        return f"key:{key_id}"
    client: Any = scope.get("client") or ("unknown", 0)
    return f"ip:{client[0]}"


_CORRELATION = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


# Correlation ids must be unique, not secret: a random per-process prefix and a counter (32 hex characters, like
# a UUID). uuid4() reads the OS's random source on every request: a fifth of the event loop's time under load.
_INSTANCE = secrets.token_hex(10)
_SEQUENCE = itertools.count(int.from_bytes(secrets.token_bytes(4)))


def correlation_id(headers: dict[bytes, bytes]) -> str:
    """The caller's correlation id when it is a safe token (it is echoed in a header and logged), else a new one."""
    given = headers.get(b"x-correlation-id", b"").decode("latin-1")
    return given if _CORRELATION.match(given) else f"{_INSTANCE}{next(_SEQUENCE):012x}"
