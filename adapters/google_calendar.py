"""Google Calendar API v3: events written under an id derived from our key (Google lets the client choose
event ids, and a second insert of the same id is 409 — a replayed create finds the first), read back
incrementally with `syncToken` (given on the last page only; 410 Gone → a full read). Changes are announced on
a push channel (`events/watch`) whose token is the integration's webhook secret; channels cannot be extended,
so renewing one opens a new channel and then stops the old."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import requests

from adapters.base import CursorExpired
from adapters.calendar import CalendarAdapter, CalendarEvent, EventPage, RemoteEvent, Watch, parse_when, when_text
from integrations.documents.document import ValidationCheck

GONE = frozenset({404, 410})


class GoogleCalendarAdapter(CalendarAdapter):
    @property
    def _events(self) -> str:
        return f"/calendars/{quote(self.document.config.calendar_id or 'primary', safe='')}/events"

    def validate(self) -> list[ValidationCheck]:
        calendar = quote(self.document.config.calendar_id or "primary", safe="")
        return [self.check_call("calendar.read", "GET", f"/calendars/{calendar}")]

    @staticmethod
    def _when(value: Any) -> dict[str, str]:
        text = when_text(value)
        return {"date": text} if "T" not in text else {"dateTime": text, "timeZone": "UTC"}

    def _body(self, event: CalendarEvent) -> dict[str, Any]:
        private = {"hubKey": event.key or ""}
        if event.event_type:
            private["hubEventType"] = event.event_type
        return {
            "summary": event.title,
            "description": event.description,
            "location": event.location,
            "start": self._when(event.starts_at),
            "end": self._when(event.ends_at),
            "status": "confirmed",
            "extendedProperties": {"private": private},
        }

    def find_event(self, key: str) -> str | None:
        event_id = self.provider_event_id(key)
        response = self.request("GET", f"{self._events}/{event_id}", operation="sync.lookup", expect=GONE)
        return event_id if response.status_code == 200 else None

    def create_event(self, event: CalendarEvent) -> str:
        assert event.key
        event_id = self.provider_event_id(event.key)
        response = self.request(
            "POST",
            self._events,
            operation="sync.push_events",
            json={"id": event_id, **self._body(event)},
            expect=frozenset({409}),
        )
        if response.status_code == 409:  # ours already (an earlier attempt, or deleted since): bring it up to date
            return self.update_event(event_id, event)
        return str(response.json()["id"])

    def update_event(self, external_id: str, event: CalendarEvent) -> str:
        response = self.request(
            "PUT", f"{self._events}/{external_id}", operation="sync.push_events", json=self._body(event), expect=GONE
        )
        if response.status_code != 200:
            raise LookupError(external_id)  # gone for good: the sync creates it again
        return str(response.json()["id"])

    def delete_event(self, external_id: str) -> None:
        # 410: deleted already (Google keeps cancelled events); 404: never there. Either way it is gone.
        self.request("DELETE", f"{self._events}/{external_id}", operation="sync.push_events", expect=GONE)

    def _remote(self, item: dict[str, Any]) -> RemoteEvent:
        if item.get("status") == "cancelled":
            return RemoteEvent(item["id"], None)
        private = (item.get("extendedProperties") or {}).get("private") or {}
        start, end = item.get("start") or {}, item.get("end") or {}
        return RemoteEvent(
            item["id"],
            CalendarEvent(
                title=item.get("summary") or "",
                starts_at=parse_when(start.get("dateTime") or start["date"]),
                ends_at=parse_when(end.get("dateTime") or end["date"]),
                location=item.get("location") or "",
                description=item.get("description") or "",
                key=private.get("hubKey") or None,
                event_type=private.get("hubEventType"),
            ),
        )

    def changes(self, sync_token: str | None) -> Iterator[EventPage]:
        def check(response: requests.Response) -> None:
            if response.status_code == 410:
                raise CursorExpired("google_calendar sync token")

        params = {"syncToken": sync_token} if sync_token else {}
        pages = self.pages(self._events, operation="sync.pull_events", params=params, expect=frozenset({410}), check=check)
        for page in pages:  # the sync token comes with the last page only
            yield EventPage([self._remote(i) for i in page.items], page.final)

    def watch_changes(self, secret: str, expires_at: datetime) -> Watch:
        body = {
            "id": str(uuid.uuid4()),
            "type": "web_hook",
            "address": self.notification_url(),
            "token": secret,
            "expiration": int(expires_at.timestamp() * 1000),
        }
        data = self.request("POST", f"{self._events}/watch", operation="webhook.subscribe", json=body).json()
        expires = datetime.fromtimestamp(int(data["expiration"]) / 1000, UTC) if data.get("expiration") else expires_at
        return Watch(str(data["id"]), str(data["resourceId"]), expires)

    def renew_watch(self, watch: Watch, secret: str, expires_at: datetime) -> Watch:
        new = self.watch_changes(secret, expires_at)  # the new channel first: no gap in notifications
        self.stop_watch(watch)
        return new

    def stop_watch(self, watch: Watch) -> None:
        body = {"id": watch.id, "resourceId": watch.resource_id}
        self.request("POST", "/channels/stop", operation="webhook.unsubscribe", json=body, expect=GONE)  # gone: expired
