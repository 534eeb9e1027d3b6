"""Typed errors of the hub. Nothing here knows HTTP: the API edge translates them to RFC 9457 problems,
the queue handlers to retry / dead-letter / skip."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class FieldError:
    pointer: str  # RFC 6901 JSON pointer into the request body, e.g. "/config/currencies/0"
    message: str


class HubError(Exception):
    """Base of every error we raise on purpose."""

    status = 500
    title = "Internal error"
    type_slug = "internal"

    def __init__(self, detail: str = "", *, retry_after: float | None = None, **extensions: object) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.retry_after = retry_after  # seconds; the edge sends it as Retry-After
        self.extensions = extensions


class BadRequest(HubError):
    status, title, type_slug = 400, "Bad request", "bad-request"


class Unauthorized(HubError):
    status, title, type_slug = 401, "Unauthorized", "unauthorized"


class Forbidden(HubError):
    status, title, type_slug = 403, "Forbidden", "forbidden"


class NotFound(HubError):
    status, title, type_slug = 404, "Not found", "not-found"


class Conflict(HubError):
    status, title, type_slug = 409, "Conflict", "conflict"


class PreconditionFailed(HubError):
    """The ETag given (or read) no longer matches: somebody else wrote first."""

    status, title, type_slug = 412, "Precondition failed", "precondition-failed"


class PayloadTooLarge(HubError):
    status, title, type_slug = 413, "Payload too large", "payload-too-large"


class ValidationFailed(HubError):
    status, title, type_slug = 422, "Validation failed", "validation-failed"

    def __init__(self, detail: str, errors: list[FieldError] | None = None, **extensions: object) -> None:
        super().__init__(detail)
        self.extensions = extensions
        self.errors = errors or []


class RateLimited(HubError):
    status, title, type_slug = 429, "Too many requests", "rate-limited"

    def __init__(self, detail: str, retry_after: int, **extensions: object) -> None:
        super().__init__(detail, retry_after=retry_after, **extensions)


class StorageUnavailable(HubError):
    """Table or Queue storage did not answer in time (outage, throttling, network): nothing was decided, the
    caller may retry after `retry_after` seconds."""

    status, title, type_slug = 503, "Service unavailable", "storage-unavailable"

    def __init__(self, detail: str = "Storage is unavailable; retry shortly.", **extensions: object) -> None:
        super().__init__(detail, retry_after=STORAGE_RETRY_AFTER_S, **extensions)


STORAGE_RETRY_AFTER_S = 5
DETAIL_LIMIT = 600


@dataclass
class ProviderError(HubError):
    """An outbound call failed. `retriable` tells queue handlers whether the message should come back."""

    detail: str = "Provider call failed"
    provider: str = ""
    status_code: int | None = None
    retriable: bool = False
    retry_after: float | None = None
    extensions: dict[str, object] = field(default_factory=dict)
    status = 502
    title = "Provider error"
    type_slug = "provider-error"

    def __post_init__(self) -> None:
        # One place where provider text is made safe: every registered secret masked in all its echo forms,
        # then bounded. Callers pass provider text whole (cutting first could leave half a secret unmasked).
        from shared.redaction import REDACTOR

        self.detail = REDACTOR.excerpt(self.detail, DETAIL_LIMIT)
        Exception.__init__(self, self.detail)
