"""What a calendar adapter offers the calendar sync (integrations/sync/calendar.py): the platform's events
written to the provider's calendar under a key we choose (so a replayed create finds the first one), and the
calendar's changes read incrementally from a sync token (Google `syncToken`, Graph `@odata.deltaLink`) that the
provider may expire (`CursorExpired`: read everything again)."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from adapters.base import Adapter
from integrations.documents.document import CalendarIntegration
from shared.errors import ProviderError

When = date | datetime  # a date for all-day events, an aware datetime otherwise


def parse_when(value: str) -> When:
    if "T" not in value:
        return date.fromisoformat(value)
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def when_text(value: When) -> str:
    """Dates as dates; times in UTC, to the second: both sides of a round trip write the same text."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    return value.isoformat()


@dataclass(frozen=True)
class CalendarEvent:
    """An event as both sides understand it. `key` is the platform's id (None for events created in the
    calendar); `event_type` drives the integration's event-type filter."""

    title: str
    starts_at: When
    ends_at: When
    location: str = ""
    description: str = ""
    key: str | None = None
    event_type: str | None = None
    cancelled: bool = False

    @property
    def all_day(self) -> bool:
        return not isinstance(self.starts_at, datetime)

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> CalendarEvent:
        return cls(
            title=payload["title"],
            starts_at=parse_when(payload["starts_at"]),
            ends_at=parse_when(payload["ends_at"]),
            location=payload.get("location") or "",
            description=payload.get("description") or "",
            key=payload.get("key"),
            event_type=payload.get("event_type"),
            cancelled=bool(payload.get("cancelled")),
        )

    def content(self) -> dict[str, Any]:
        """What both sides can see and change: the basis of the echo check."""
        return {
            "title": self.title,
            "starts_at": when_text(self.starts_at),
            "ends_at": when_text(self.ends_at),
            "all_day": self.all_day,
            "location": self.location,
            "description": self.description,
        }

    def digest(self) -> str:
        return hashlib.sha256(json.dumps(self.content(), sort_keys=True).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class RemoteEvent:
    external_id: str
    event: CalendarEvent | None  # None: deleted or cancelled at the provider


@dataclass(frozen=True)
class EventPage:
    events: list[RemoteEvent]
    sync_token: str | None  # set on the last page only: where the next incremental read starts
    # Every event there is, whatever the token asked (a feed has no incremental form): what the hub knew and
    # this read lacks was deleted.
    complete: bool = False


@dataclass(frozen=True)
class Watch:
    """A change subscription at the provider: Google's push channel or Graph's subscription."""

    id: str
    resource_id: str | None  # Google's resourceId (stopping a channel names both)
    expires_at: datetime


class CalendarAdapter(Adapter[CalendarIntegration]):
    def provider_event_id(self, key: str) -> str:
        """An id derived from our key (per integration): what makes a replayed create recognisable."""
        digest = hashlib.sha256(f"{self.document.id}:{key}".encode()).digest()
        return base64.b32hexencode(digest).decode().lower().rstrip("=")[:32]

    def full_read_covers(self, starts_at: str) -> bool:
        """Whether the last full read would have listed an event starting then (Graph reads a window)."""
        return True

    def notification_url(self) -> str:
        """Where the provider posts change notifications: the hub's receiver, over HTTPS only (both providers
        refuse anything else)."""
        url = self.ctx.callback_url or ""
        if not url.startswith("https://"):
            raise ProviderError(
                detail=f"{self.spec.id} posts change notifications over HTTPS only; the hub's public URL gives "
                f"{url!r} (set HUB_PUBLIC_BASE_URL)",
                provider=self.spec.id,
            )
        return url
