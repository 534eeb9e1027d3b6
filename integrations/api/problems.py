"""RFC 9457 problem details: the single translation of our errors (and the framework's) into HTTP."""

from __future__ import annotations

import json
import logging
import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.errors import FieldError, HubError, Unauthorized, ValidationFailed

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://integration-hub.dev/problems/"
log = logging.getLogger("hub.api")

_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    412: "Precondition failed",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Validation failed",
    429: "Too many requests",
    500: "Internal error",
}
_SLUGS = {405: "method-not-allowed"}


class ProblemFieldError(BaseModel):
    pointer: str = Field(description="JSON pointer (RFC 6901) into the request body, or a parameter name.")
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[ProblemFieldError] | None = Field(None, description="Field-level errors (422).")
    model_config = {"extra": "allow"}


# The response documentation every route module shares (one place: the OpenAPI contract reads the same).
Responses = dict[int | str, dict[str, Any]]  # what FastAPI's `responses=` takes
P: dict[str, Any] = {"model": Problem, "content": {"application/problem+json": {}}}
COMMON: Responses = {
    401: {**P, "description": "No or invalid credentials."},
    403: {**P, "description": "The credential lacks the required scope."},
    404: {**P, "description": "No such integration for this tenant."},
    429: {**P, "description": "Rate limited; see Retry-After."},
}
WRITE: Responses = {
    **COMMON,
    400: {**P, "description": "Malformed JSON."},
    413: {**P, "description": "Body too large."},
    415: {**P, "description": "Not JSON."},
    422: {**P, "description": "Field-level validation errors."},
}
PAGED: Responses = {  # a listing with `limit` and an opaque `continuation`
    **COMMON,
    400: {**P, "description": "Malformed continuation token."},
    422: {**P, "description": "Invalid query parameter."},
}
CONDITIONAL: Responses = {
    409: {**P, "description": "Not allowed in the current lifecycle state."},
    412: {**P, "description": "If-Match does not match the current ETag."},
}
STATEFUL_WRITE: Responses = {**WRITE, 409: CONDITIONAL[409]}  # a write the integration's lifecycle may refuse
ANY_CREDENTIAL: Responses = {401: COMMON[401], 429: COMMON[429]}  # tenant-free reads: any valid credential


def problems(*shared: Responses, own: dict[int, str | dict[str, Any]]) -> Responses:
    """A route's response documentation: the shared sets, then its own answers — a text is a problem+json answer
    with that description, a dict is taken as it is (a success with another media type, say)."""
    out: Responses = {}
    for responses in shared:
        out.update(responses)
    for status, doc in own.items():
        out[status] = {**P, "description": doc} if isinstance(doc, str) else doc
    return out


def problem_body(
    status: int,
    detail: str,
    *,
    instance: str | None = None,
    slug: str | None = None,
    title: str | None = None,
    errors: list[FieldError] | None = None,
    extensions: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The RFC 9457 body: the one builder (routes' handlers and the edge's own answers both use it)."""
    body: dict[str, Any] = {
        "type": TYPE_BASE + (slug or _SLUGS.get(status) or _TITLES.get(status, "error").lower().replace(" ", "-")),
        "title": title or _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    if errors is not None:
        body["errors"] = [{"pointer": e.pointer, "message": e.message} for e in errors]
    body.update({k: v for k, v in (extensions or {}).items() if k not in body})
    return body


def problem(status: int, detail: str, *, headers: dict[str, str] | None = None, **fields: Any) -> JSONResponse:
    """`problem_body` (same keyword fields) as a response."""
    body = problem_body(status, detail, **fields)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _pointer(loc: tuple[Any, ...]) -> str:
    from integrations.service import json_pointer

    where, rest = (loc[0], loc[1:]) if loc and loc[0] in ("body", "query", "path", "header") else ("body", loc)
    if where == "body":
        return json_pointer(rest)
    return f"{where}:{'.'.join(str(p) for p in rest)}"


async def _on_hub_error(request: Request, exc: HubError) -> JSONResponse:
    headers: dict[str, str] = {}
    extensions = {k: v for k, v in exc.extensions.items() if k not in ("reason",)}  # reasons are for the audit log
    if isinstance(exc, Unauthorized):
        headers["WWW-Authenticate"] = 'Bearer realm="integration-hub"'
        extensions = {}  # unknown, revoked and expired look the same to the caller (the audit log tells them apart)
    if exc.retry_after is not None:
        headers["Retry-After"] = str(math.ceil(exc.retry_after))
    if exc.status >= 500:
        log.error("request failed: %s", exc.detail)
    errors = exc.errors if isinstance(exc, ValidationFailed) else None
    reason = exc.extensions.get("reason")
    if reason and exc.status in (409,):
        extensions["reason"] = reason  # conflict reasons help the caller fix the request
    return problem(
        exc.status,
        exc.detail,
        instance=request.url.path,
        slug=exc.type_slug,
        title=exc.title,
        errors=errors,
        headers=headers,
        extensions=extensions,
    )


async def _on_request_validation(request: Request, exc: RequestValidationError) -> JSONResponse:
    errs = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errs):
        return problem(400, "The request body is not valid JSON.", instance=request.url.path, slug="malformed-json")
    fields = [FieldError(_pointer(tuple(e["loc"])), str(e["msg"]).removeprefix("Value error, ")) for e in errs]
    return problem(422, "The request is invalid.", instance=request.url.path, slug="validation-failed", errors=fields)


async def _on_http_exception(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    detail = exc.detail if isinstance(exc.detail, str) else _TITLES.get(exc.status_code, "Error")
    return problem(exc.status_code, detail, instance=request.url.path, headers=getattr(exc, "headers", None))


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    # Never echo the exception text: it may carry a provider response or a secret.
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem(500, "An unexpected error occurred; it has been logged.", instance=request.url.path)


_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


def document_problems(spec: dict[str, Any]) -> dict[str, Any]:
    """Make the spec say what is sent: every error response is `application/problem+json` with our Problem
    shape — FastAPI's default 422 (`application/json`, HTTPValidationError) is never what this API answers."""
    for operations in spec.get("paths", {}).values():
        for operation in operations.values():
            for code, response in operation.get("responses", {}).items():
                content = response.get("content", {})
                if code[:1] not in ("4", "5") or not content:
                    continue
                if PROBLEM_JSON in content or code == "422":
                    schema = content.get("application/json", {}).get("schema")
                    if code == "422" or schema is None:
                        schema = _PROBLEM_REF
                    response["content"] = {PROBLEM_JSON: {"schema": schema}}
    schemas = spec.get("components", {}).get("schemas", {})
    text = json.dumps(spec.get("paths", {}))
    for name in ("HTTPValidationError", "ValidationError"):
        if name in schemas and f"#/components/schemas/{name}" not in text:
            schemas.pop(name)
    return spec


def install(app: FastAPI) -> None:
    app.add_exception_handler(HubError, _on_hub_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _on_request_validation)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _on_http_exception)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _on_unexpected)
