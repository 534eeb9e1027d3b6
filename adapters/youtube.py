"""YouTube Live (Data API v3: liveBroadcasts, liveStreams): a federation event becomes a scheduled broadcast
bound to the integration's one reusable live stream, whose stream name — the key an encoder needs — the hub
keeps as the `stream_key_ref` secret and never shows (the API answers with the RTMP ingestion address and a
masked key). YouTube's quota is 10,000 *units* a day and a write costs 50: the catalog's `operation_units` make
usage count units, not requests. DVR, auto-start and recording follow the document's flags."""

from __future__ import annotations

from typing import Any

from adapters.base import Adapter
from adapters.streaming import Broadcast, LiveStream
from integrations.documents.document import StreamingIntegration
from shared.errors import ProviderError


class YouTubeAdapter(Adapter[StreamingIntegration]):
    def channel(self) -> dict[str, Any]:
        items = self.request(
            "GET", "/channels", operation="streaming.channels", params={"part": "id,snippet", "mine": "true"}
        ).json()
        if not items.get("items"):
            raise ProviderError(detail="YouTube: the authorised account has no channel", provider=self.spec.id)
        return dict(items["items"][0])

    def create_stream(self, title: str) -> LiveStream:
        body = {
            "snippet": {"title": title},
            "cdn": {"frameRate": "variable", "ingestionType": "rtmp", "resolution": "variable"},
            "contentDetails": {"isReusable": True},
        }
        data = self.request(
            "POST",
            "/liveStreams",
            operation="streaming.create_stream",
            params={"part": "snippet,cdn,contentDetails"},
            json=body,
        ).json()
        info = data["cdn"]["ingestionInfo"]
        return LiveStream(str(data["id"]), str(info["ingestionAddress"]), str(info["streamName"]))

    def create_broadcast(self, *, title: str, scheduled_start: str, privacy: str, stream_id: str) -> Broadcast:
        flags = self.document.capabilities
        body = {
            "snippet": {"title": title, "scheduledStartTime": scheduled_start},
            "status": {"privacyStatus": privacy, "selfDeclaredMadeForKids": False},
            "contentDetails": {"enableDvr": flags.dvr, "recordFromStart": flags.auto_record, "enableAutoStart": True},
        }
        parts = {"part": "snippet,status,contentDetails"}
        data = self.request(
            "POST", "/liveBroadcasts", operation="streaming.create_broadcast", params=parts, json=body
        ).json()
        broadcast_id = str(data["id"])
        bind = {"id": broadcast_id, "streamId": stream_id, "part": "id,contentDetails"}
        self.request("POST", "/liveBroadcasts/bind", operation="streaming.bind", params=bind)
        return Broadcast(broadcast_id, f"https://www.youtube.com/watch?v={broadcast_id}", scheduled_start, privacy)
