"""API versions, pinned per API client (Stripe's model): a key answers with the version it was issued under
until its owner moves it; any request may ask for another with the `Hub-Api-Version` header (to try the next
one before moving). A version's changes and its sunset are listed here, once: the spec (`info.x-api-versions`),
the response headers (`Hub-Api-Version`, and `Deprecation`/`Sunset`/`Link` on a deprecated one) and the
routes that keep an older version's behaviour read them.

The worked example: 1.1 made the member intake speak the canonical Member model (a field must be a canonical
member field, its value valid for it); 1.0 took any name the integration's member_field_map listed. A key
pinned to 1.0 keeps the 1.0 behaviour, with Deprecation and Sunset headers, until its sunset."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from shared.errors import BadRequest

HEADER = "Hub-Api-Version"


@dataclass(frozen=True)
class ApiVersion:
    name: str
    released: datetime
    changes: tuple[str, ...]
    sunset: datetime | None = None  # set when the version is deprecated: it stops being served then

    @property
    def deprecated(self) -> bool:
        return self.sunset is not None


VERSIONS: dict[str, ApiVersion] = {
    v.name: v
    for v in (
        ApiVersion(
            "1.0", datetime(2026, 6, 1, tzinfo=UTC), ("The first release.",), sunset=datetime(2027, 6, 30, tzinfo=UTC)
        ),
        ApiVersion(
            "1.1",
            datetime(2026, 12, 6, tzinfo=UTC),
            (
                "POST …/outbox/members: every field must be a canonical member field (GET /api/v1/models/member/fields)"
                " with a valid value, normalised on the way in; 1.0 took any name member_field_map listed.",
            ),
        ),
    )
}
LATEST = "1.1"
BEFORE_PINNING = "1.0"  # a key issued before versions were pinned was built against 1.0
MIGRATION_NOTES = "/api/v1/versions"  # each version's changes and sunset, served by the hub itself


def resolve(requested: str | None, pinned: str | None) -> str:
    """The version a request is answered with: the header's, else the client's pin, else the latest."""
    if requested:
        if requested not in VERSIONS:
            raise BadRequest(f"Unknown API version {requested!r} in {HEADER}; known: {', '.join(VERSIONS)}.", header=HEADER)
        return requested
    return pinned if pinned in VERSIONS else LATEST


def response_headers(name: str) -> list[tuple[bytes, bytes]]:
    version = VERSIONS[name]
    headers = [(HEADER.lower().encode(), name.encode())]
    if version.sunset is not None:
        since = int(VERSIONS[LATEST].released.timestamp())
        headers += [
            (b"deprecation", f"@{since}".encode()),  # RFC 9745
            (b"sunset", version.sunset.strftime("%a, %d %b %Y %H:%M:%S GMT").encode()),  # RFC 8594
            (b"link", f'<{MIGRATION_NOTES}>; rel="deprecation"'.encode()),
        ]
    return headers
