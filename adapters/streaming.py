"""What the streaming family's adapters share: the live stream an encoder sends to (its name is the stream key,
a secret the hub keeps as a reference) and the scheduled broadcast a federation event becomes. YouTube Live and
Twitch each map their own API onto these."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LiveStream:
    id: str
    ingestion_address: str
    stream_name: str  # the stream key: a secret


@dataclass(frozen=True)
class Broadcast:
    id: str
    watch_url: str
    scheduled_start: str
    privacy: str
