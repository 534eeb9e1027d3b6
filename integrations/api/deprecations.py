"""Deprecation cycles: an operation marked here is `deprecated` in the OpenAPI document and its responses
carry `Deprecation` (RFC 9745), `Sunset` (RFC 8594) and a `Link` to the migration note."""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from email.utils import format_datetime
from typing import Any


@dataclass(frozen=True)
class Deprecation:
    since: date
    sunset: date
    link: str  # the migration note

    def headers(self) -> list[tuple[bytes, bytes]]:
        since = int(datetime.combine(self.since, time(), UTC).timestamp())
        sunset = format_datetime(datetime.combine(self.sunset, time(), UTC), usegmt=True)
        return [
            (b"deprecation", f"@{since}".encode()),
            (b"sunset", sunset.encode()),
            (b"link", f'<{self.link}>; rel="deprecation"; type="text/html"'.encode()),
        ]


# operationId → deprecation. Empty today: v1 has deprecated nothing yet. A deprecation must overlap at least
# one minor version before its sunset (seed 001).
DEPRECATIONS: dict[str, Deprecation] = {}


def mark(app: Any, deprecations: dict[str, Deprecation]) -> None:
    """Flag deprecated operations in the OpenAPI document, with their sunset in the description."""
    original = app.openapi

    def openapi() -> dict[str, Any]:
        fresh = app.openapi_schema is None
        schema: dict[str, Any] = original()
        if fresh:
            for item in schema.get("paths", {}).values():
                for operation in item.values():
                    dep = deprecations.get(str(operation.get("operationId"))) if isinstance(operation, dict) else None
                    if dep:
                        operation["deprecated"] = True
                        operation["description"] = (
                            operation.get("description", "")
                            + f"\n\nDeprecated since {dep.since}; sunset {dep.sunset}: {dep.link}"
                        ).strip()
        return schema

    app.openapi = openapi


def headers_for(scope: MutableMapping[str, Any], deprecations: dict[str, Deprecation]) -> list[tuple[bytes, bytes]]:
    operation = getattr(scope.get("route"), "operation_id", None)
    found = deprecations.get(operation) if operation else None
    return found.headers() if found else []
