"""Twitch (Helix): every call carries the app's `Client-Id` beside the user's token. A federation event becomes
a segment of the channel's stream schedule; the channel's stream key (`/streams/key`) is kept as the
`stream_key_ref` secret and never answered — the ingest address is Twitch's RTMP server. Helix answers
`Ratelimit-Limit/-Remaining/-Reset` (800 points a minute per user token); `stream.online`/`offline` arrive
through the EventSub receiver."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from adapters.base import Adapter
from adapters.youtube import Broadcast, LiveStream
from shared.errors import ProviderError

INGEST = "rtmp://live.twitch.tv/app"


class TwitchAdapter(Adapter):
    def auth_headers(self, operation: str) -> dict[str, str]:
        return {**super().auth_headers(operation), "Client-Id": str(self.document.oauth_client_id)}

    def _user(self) -> dict[str, Any]:
        users = self.request("GET", "/users", operation="streaming.channels").json().get("data") or []
        if not users:
            raise ProviderError(detail="Twitch: the token names no user", provider=self.spec.id)
        return dict(users[0])

    def create_stream(self, title: str) -> LiveStream:
        """Twitch has one stream per channel: its key is what an encoder needs."""
        user = self._user()
        data = self.request(
            "GET", "/streams/key", operation="streaming.create_stream", params={"broadcaster_id": user["id"]}
        ).json()["data"]
        return LiveStream(str(user["id"]), INGEST, str(data[0]["stream_key"]))

    def create_broadcast(self, *, title: str, scheduled_start: str, privacy: str, stream_id: str) -> Broadcast:
        body = {
            "start_time": datetime.fromisoformat(scheduled_start.replace("Z", "+00:00"))
            .astimezone(UTC)
            .isoformat()
            .replace("+00:00", "Z"),  # RFC 3339 in UTC
            "timezone": "Europe/Stockholm",
            "duration": "240",
            "is_recurring": False,
            "title": title[:140],
        }
        data = self.request(
            "POST",
            "/schedule/segment",
            operation="streaming.create_broadcast",
            params={"broadcaster_id": stream_id},
            json=body,
        ).json()["data"]
        segment = data["segments"][0]
        login = data.get("broadcaster_login", stream_id)
        return Broadcast(str(segment["id"]), f"https://www.twitch.tv/{login}", scheduled_start, "public")
