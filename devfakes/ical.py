"""iCal feeds over HTTPS (a certificate from the fakes' test CA): `/feeds/{name}.ics` with an `ETag` and a
`Last-Modified` that change when the feed does, 304 to a conditional request for an unchanged feed, and
`/feeds/huge.ics` larger than any feed the hub takes. Tests edit a feed with `put`, `cancel` and `remove`."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

HUGE_BYTES = 6 * 1024 * 1024


@dataclass
class ICalFake:
    feeds: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # feed → UID → fields
    changed: dict[str, datetime] = field(default_factory=dict)
    downloads: int = 0  # full answers (200), not 304s
    lock: threading.Lock = field(default_factory=threading.Lock)

    def put(self, feed: str, uid: str, **fields: Any) -> None:
        with self.lock:
            self.feeds.setdefault(feed, {})[uid] = {**self.feeds.get(feed, {}).get(uid, {}), **fields}
            self.changed[feed] = datetime.now(UTC)

    def cancel(self, feed: str, uid: str) -> None:
        self.put(feed, uid, status="CANCELLED")

    def remove(self, feed: str, uid: str) -> None:
        with self.lock:
            self.feeds.get(feed, {}).pop(uid, None)
            self.changed[feed] = datetime.now(UTC)

    def _body(self, feed: str) -> bytes:
        lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Integration Hub//iCal fake//EN"]
        for uid, e in sorted(self.feeds.get(feed, {}).items()):
            lines += ["BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20260101T000000Z"]
            if "T" in e["start"]:
                lines += [f"DTSTART:{e['start']}", f"DTEND:{e['end']}"]
            else:
                lines += [f"DTSTART;VALUE=DATE:{e['start']}", f"DTEND;VALUE=DATE:{e['end']}"]
            lines.append(f"SUMMARY:{e['summary']}")
            for prop, key in (("LOCATION", "location"), ("CATEGORIES", "category"), ("STATUS", "status")):
                if e.get(key):
                    lines.append(f"{prop}:{e[key]}")
            lines.append("END:VEVENT")
        lines.append("END:VCALENDAR")
        return ("\r\n".join(lines) + "\r\n").encode()

    async def feed(self, request: Request) -> Response:
        name = request.path_params["name"]
        if name == "huge":
            with self.lock:
                self.downloads += 1
            return Response(b"BEGIN:VCALENDAR\r\n" + b"X" * HUGE_BYTES, media_type="text/calendar")
        with self.lock:
            if name not in self.feeds:
                return Response("Not Found", status_code=404, media_type="text/plain")
            body = self._body(name)
            modified = self.changed.get(name, datetime(2026, 1, 1, tzinfo=UTC))
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        headers = {"ETag": etag, "Last-Modified": format_datetime(modified, usegmt=True)}
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers=headers)
        with self.lock:
            self.downloads += 1
        return Response(body, media_type="text/calendar", headers=headers)

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/feeds/{name}.ics", self.feed)])
