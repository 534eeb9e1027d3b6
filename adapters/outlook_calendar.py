"""Outlook calendars through Microsoft Graph v1.0: events carry our key in a single-value extended property
(found again with `$filter`) and a `transactionId` (Graph's own guard against a retried create); changes come
from `calendarView/delta` — v1.0 offers it for the primary calendar only, over a window fixed by the first
call — following `@odata.nextLink` to the `@odata.deltaLink` we keep (410 Gone → a full read). Changes are
announced by a Graph subscription (created only once Graph has checked the URL with its `validationToken`)
whose `clientState` is the integration's webhook secret, renewed with a PATCH of its expiry."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import requests

from adapters.base import CursorExpired
from adapters.calendar import CalendarAdapter, CalendarEvent, EventPage, RemoteEvent, Watch, parse_when, when_text
from integrations.documents.document import ValidationCheck

# A string property in our own namespace (a GUID we chose) holding the platform's event key.
GONE = frozenset({404, 410})
KEY_PROPERTY = "String {6f1c3a52-8e0b-4c4e-9a51-3d2b7e9f0a11} Name hubKey"


class OutlookCalendarAdapter(CalendarAdapter):
    WINDOW_PAST = timedelta(days=30)  # the delta window, fixed when a full read starts
    WINDOW_AHEAD = timedelta(days=400)

    @property
    def _collection(self) -> str:
        calendar = self.document.config.calendar_id
        return f"/me/calendars/{quote(calendar, safe='')}/events" if calendar else "/me/calendar/events"

    def validate(self) -> list[ValidationCheck]:
        calendar = self.document.config.calendar_id
        checks = [
            self.check_call(
                "calendar.read", "GET", f"/me/calendars/{quote(calendar, safe='')}" if calendar else "/me/calendar"
            )
        ]
        pulls = str(self.document.config.sync_direction) != "push"
        if pulls and calendar:
            checks.append(
                ValidationCheck(
                    name="config.calendar_id",
                    passed=False,
                    detail="Graph v1.0 reads changes of the primary calendar only: leave calendar_id empty to pull, "
                    "or set sync_direction to push",
                )
            )
        return checks

    @staticmethod
    def _when(value: Any) -> dict[str, str]:
        text = when_text(value)
        if "T" not in text:
            text += "T00:00:00"
        return {"dateTime": text.removesuffix("Z"), "timeZone": "UTC"}

    def _body(self, event: CalendarEvent) -> dict[str, Any]:
        return {
            "subject": event.title,
            "body": {"contentType": "text", "content": event.description},
            "start": self._when(event.starts_at),
            "end": self._when(event.ends_at),
            "isAllDay": event.all_day,
            "location": {"displayName": event.location},
            "categories": [event.event_type] if event.event_type else [],
            "singleValueExtendedProperties": [{"id": KEY_PROPERTY, "value": event.key or ""}],
        }

    def find_event(self, key: str) -> str | None:
        escaped = key.replace("'", "''")
        params = {
            "$filter": f"singleValueExtendedProperties/Any(ep: ep/id eq '{KEY_PROPERTY}' and ep/value eq '{escaped}')",
            "$select": "id",
        }
        rows = self.request("GET", "/me/events", operation="sync.lookup", params=params).json()["value"]
        return rows[0]["id"] if rows else None

    def create_event(self, event: CalendarEvent) -> str:
        assert event.key
        # Graph drops a second create with the same transactionId. Per version: an event deleted in Outlook
        # and sent again with new content must be created anew, not matched to the deleted one.
        body = {**self._body(event), "transactionId": self.provider_event_id(f"{event.key}:{event.digest()}")}
        return str(self.request("POST", self._collection, operation="sync.push_events", json=body).json()["id"])

    def update_event(self, external_id: str, event: CalendarEvent) -> str:
        response = self.request(
            "PATCH",
            f"/me/events/{quote(external_id, safe='')}",
            operation="sync.push_events",
            json=self._body(event),
            expect=frozenset({404}),
        )
        if response.status_code == 404:
            raise LookupError(external_id)  # deleted in Outlook: the sync creates it again
        return str(response.json()["id"])

    def delete_event(self, external_id: str) -> None:
        self.request(
            "DELETE", f"/me/events/{quote(external_id, safe='')}", operation="sync.push_events", expect=frozenset({404})
        )

    def full_read_covers(self, starts_at: str) -> bool:
        window = getattr(self, "_window", None)
        return window is None or window[0] <= starts_at <= window[1]

    def _remote(self, item: dict[str, Any]) -> RemoteEvent:
        if "@removed" in item or item.get("isCancelled"):
            return RemoteEvent(item["id"], None)
        all_day = bool(item.get("isAllDay"))

        def when(value: dict[str, str]) -> Any:
            moment = parse_when(value["dateTime"][:19])  # Graph sends 7 fractional digits; UTC as we asked
            return moment.date() if all_day and isinstance(moment, datetime) else moment

        return RemoteEvent(
            item["id"],
            CalendarEvent(
                title=item.get("subject") or "",
                starts_at=when(item["start"]),
                ends_at=when(item["end"]),
                location=(item.get("location") or {}).get("displayName") or "",
                description=((item.get("body") or {}).get("content") or "").strip(),
            ),
        )

    def changes(self, sync_token: str | None) -> Iterator[EventPage]:
        def check(response: requests.Response) -> None:
            if response.status_code == 410:
                raise CursorExpired("outlook delta link")

        url, params = sync_token, None  # a delta link carries its query
        if not url:
            now = datetime.now(UTC).replace(microsecond=0)
            self._window = (when_text(now - self.WINDOW_PAST), when_text(now + self.WINDOW_AHEAD))
            url = "/me/calendarView/delta"
            params = {"startDateTime": self._window[0], "endDateTime": self._window[1]}
        headers = {"Prefer": 'outlook.body-content-type="text", outlook.timezone="UTC"'}
        pages = self.pages(
            url, operation="sync.pull_events", params=params, headers=headers, expect=frozenset({410}), check=check
        )
        for page in pages:  # the delta link comes with the last page only
            yield EventPage([self._remote(i) for i in page.items], page.final)

    def watch_changes(self, secret: str, expires_at: datetime) -> Watch:
        body = {
            "changeType": "created,updated,deleted",
            "notificationUrl": self.notification_url(),
            "resource": "me/events",  # the primary calendar's events: what calendarView/delta reads
            "expirationDateTime": expires_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "clientState": secret[:128],
        }
        data = self.request("POST", "/subscriptions", operation="webhook.subscribe", json=body).json()
        return Watch(str(data["id"]), None, _instant(data.get("expirationDateTime")) or expires_at)

    def renew_watch(self, watch: Watch, secret: str, expires_at: datetime) -> Watch:
        body = {"expirationDateTime": expires_at.astimezone(UTC).isoformat().replace("+00:00", "Z")}
        response = self.request(
            "PATCH", f"/subscriptions/{quote(watch.id, safe='')}", operation="webhook.renew", json=body, expect=GONE
        )
        if response.status_code in GONE:
            return self.watch_changes(secret, expires_at)  # Graph removed it (expired, or a lifecycle removal)
        return Watch(watch.id, None, _instant(response.json().get("expirationDateTime")) or expires_at)

    def stop_watch(self, watch: Watch) -> None:
        self.request("DELETE", f"/subscriptions/{quote(watch.id, safe='')}", operation="webhook.unsubscribe", expect=GONE)


def _instant(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None
