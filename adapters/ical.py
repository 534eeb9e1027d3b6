"""iCal feeds (RFC 5545): a read-only calendar at the tenant's `config.ics_url`, polled through the egress
policy (HTTPS, at most MAX_FEED_BYTES, the outbound client's timeouts) and parsed with `icalendar`.

A feed has no incremental form: every answer lists every event, so each page is `complete` (the sync finds
deletions by absence). The cursor is the feed's validators (`ETag`, `Last-Modified`): the next poll is
conditional, and a 304 costs neither a download nor a parse. An event's id is its `UID` (with `RECURRENCE-ID`
for an overridden instance); `STATUS:CANCELLED` is a deletion; the first `CATEGORIES` value is its event type.
A recurring series (`RRULE`) is one event, its first occurrence: occurrences are not expanded."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import icalendar

from adapters.calendar import CalendarAdapter, CalendarEvent, EventPage, RemoteEvent, When
from integrations.documents.document import ValidationCheck
from shared.errors import ProviderError

MAX_FEED_BYTES = 5 * 1024 * 1024


def _when(value: Any) -> When:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)  # floating time: read as UTC
    if isinstance(value, date):
        return value
    raise ValueError(f"not a date or time: {value!r}")


def _slug(text: str) -> str | None:
    slug = re.sub(r"[^a-z0-9_]+", "_", text.strip().lower()).strip("_")
    return slug[:64] if slug and slug[0].isalpha() else None


def parse_feed(body: bytes) -> list[RemoteEvent]:
    """Every VEVENT of a feed as a remote event (cancelled ones as deletions)."""
    calendar = icalendar.Calendar.from_ical(body)
    out: dict[str, RemoteEvent] = {}
    for component in calendar.walk("VEVENT"):
        uid = str(component.get("UID") or "")
        if not uid:
            continue  # RFC 5545 requires one; an event without cannot be followed across polls
        recurrence = component.get("RECURRENCE-ID")
        external_id = f"{uid}#{recurrence.to_ical().decode()}" if recurrence is not None else uid
        if str(component.get("STATUS") or "").upper() == "CANCELLED":
            out[external_id] = RemoteEvent(external_id, None)
            continue
        starts = _when(component.decoded("DTSTART"))
        if component.get("DTEND") is not None:
            ends = _when(component.decoded("DTEND"))
        elif component.get("DURATION") is not None:
            ends = starts + component.decoded("DURATION")
        else:  # RFC 5545 3.6.1: a date lasts the day, a date-time no time at all
            ends = starts + timedelta(days=1) if not isinstance(starts, datetime) else starts
        categories = component.get("CATEGORIES")
        first = categories[0] if isinstance(categories, list) else categories
        kind = _slug(str(first.cats[0])) if first is not None and getattr(first, "cats", None) else None
        event = CalendarEvent(
            title=str(component.get("SUMMARY") or ""),
            starts_at=starts,
            ends_at=ends,
            location=str(component.get("LOCATION") or ""),
            description=str(component.get("DESCRIPTION") or ""),
            event_type=kind,
        )
        out[external_id] = RemoteEvent(external_id, event)
    return list(out.values())


class ICalAdapter(CalendarAdapter):
    def _fetch(self, validators: dict[str, str], operation: str) -> tuple[list[RemoteEvent] | None, dict[str, str]]:
        """(the feed's events, or None when unchanged since `validators`; the validators to keep)."""
        headers = {"Accept": "text/calendar"}
        if etag := validators.get("etag"):
            headers["If-None-Match"] = etag
        if modified := validators.get("last_modified"):
            headers["If-Modified-Since"] = modified
        response = self.request(
            "GET", "", operation=operation, headers=headers, max_bytes=MAX_FEED_BYTES, expect=frozenset({304})
        )
        if response.status_code == 304:
            return None, validators
        kind = response.headers.get("content-type", "")
        if "calendar" not in kind and not response.content.lstrip().startswith(b"BEGIN:VCALENDAR"):
            raise ProviderError(
                detail=f"iCal: the feed answered {kind or 'no content type'}, not text/calendar", provider="ical"
            )
        try:
            events = parse_feed(response.content)
        except ValueError as exc:
            raise ProviderError(detail=f"iCal: the feed is not valid iCalendar ({exc})", provider="ical") from None
        kept = {
            k: v
            for k, v in (("etag", response.headers.get("etag")), ("last_modified", response.headers.get("last-modified")))
            if v
        }
        return events, kept

    def validate(self) -> list[ValidationCheck]:
        from adapters.checks import timed

        def fetch() -> str:
            events, _ = self._fetch({}, "validate")
            return f"GET the feed → {len(events or [])} events"

        return [timed("provider.authenticate", fetch)]

    def changes(self, sync_token: str | None) -> Iterator[EventPage]:
        validators = json.loads(sync_token) if sync_token else {}
        events, kept = self._fetch(validators, "sync.pull_events")
        token = json.dumps(kept, sort_keys=True)
        if events is None:
            yield EventPage([], token)  # 304: nothing changed, nothing read
        else:
            yield EventPage(events, token, complete=True)
