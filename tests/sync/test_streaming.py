"""YouTube Live against a loopback fake behind the OAuth flow: a federation event becomes a broadcast once per
key, bound to the integration's one reusable live stream; the stream key is kept as a secret reference and never
answered (RTMP address and a masked key only) nor logged; DVR and recording follow the document's flags; usage
counts YouTube's quota units (a write costs 50), not requests."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

import pytest

from devfakes.launcher import Fakes
from integrations.documents.ref import IntegrationRef
from integrations.wiring import Hub
from tests.helpers import ApiClient, connect_active, together


def _active(admin: ApiClient, fake: Any, provider: str, name: str, **capabilities: bool) -> str:
    body = {
        "family": "streaming",
        "provider": provider,
        "display_name": name,
        "oauth_client_id": fake.client_id,
        "capabilities": capabilities,
    }
    return connect_active(admin, fake, body)


def test_broadcasts_once_per_key_with_the_stream_key_kept_secret(
    admin: ApiClient, fakes: Fakes, hub: Hub, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake = fakes.youtube
    path = _active(admin, fake, "youtube", "SBF Live", channel_management=True, dvr=True, auto_record=True)

    event = {"key": "SM-2027-F", "title": "SM i boule 2027 — final", "scheduled_start": "2027-06-13T14:00:00+02:00"}
    r = admin.post(f"{path}/streaming/broadcasts", json=event)
    assert r.status_code == 201, r.text
    made = r.json()
    (stream,) = fake.streams.values()
    key = stream["cdn"]["ingestionInfo"]["streamName"]
    assert made["rtmp_url"] == "rtmp://a.rtmp.youtube.com/live2" and made["stream_key"].endswith(key[-4:])
    assert key not in r.text and key not in admin.get(path).text
    broadcast = fake.broadcasts[made["broadcast_id"]]
    assert broadcast["boundStreamId"] == stream["id"] and broadcast["contentDetails"]["enableDvr"] is True
    assert broadcast["contentDetails"]["recordFromStart"] is True

    document = hub.integrations.get(IntegrationRef(admin.tenant, path.rsplit("/", 1)[1])).document
    assert document.credentials.stream_key_ref  # kept as a reference, resolvable by the hub only
    assert hub.credentials.resolve(document, "stream_key_ref", operation="test") == key

    # Requests racing for new keys: one stream stays the only stream, each key one broadcast (a lease per
    # integration; without it both made a stream and a broadcast each).
    racing = {**event, "key": "SM-2027-Q", "title": "Kvartsfinal"}
    answers = together(*[lambda: admin.post(f"{path}/streaming/broadcasts", json=racing) for _ in range(4)])
    assert sorted(a.status_code for a in answers) == [200, 200, 200, 201], [a.text for a in answers]  # type: ignore[attr-defined]
    assert len({a.json()["broadcast_id"] for a in answers}) == 1 and len(fake.streams) == 1  # type: ignore[attr-defined]
    assert len(fake.broadcasts) == 2

    again = admin.post(f"{path}/streaming/broadcasts", json=event)
    assert again.status_code == 200 and again.json() == made and len(fake.broadcasts) == 2
    second = admin.post(f"{path}/streaming/broadcasts", json={**event, "key": "SM-2027-S", "title": "Semifinal"})
    assert second.status_code == 201 and len(fake.streams) == 1  # the same reusable stream
    assert admin.get(f"{path}/streaming/broadcasts/SM-2027-S").json()["broadcast_id"] == second.json()["broadcast_id"]

    usage = admin.get(f"{path}/usage").json()
    ops = usage["by_operation"]
    assert ops["streaming.create_broadcast"]["units"] == 150 and ops["streaming.create_broadcast"]["requests"] == 3
    assert ops["streaming.create_stream"]["units"] == 50 and ops["streaming.bind"]["units"] == 150
    assert usage["totals"]["units"] == fake.units  # what YouTube counted, the hub counted
    days = (date.fromisoformat(usage["end"]) - date.fromisoformat(usage["start"])).days + 1  # the report's period
    assert usage["daily_quota"] == 10_000
    assert usage["totals"]["quota_burn_pct"] == pytest.approx(100 * fake.units / (10_000 * days), abs=0.001)

    naive = admin.post(f"{path}/streaming/broadcasts", json={**event, "key": "X", "scheduled_start": "2027-06-13T14:00:00"})
    assert naive.status_code == 422 and naive.json()["errors"][0]["pointer"] == "/scheduled_start"
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert key not in logged


def test_twitch_schedules_a_segment_and_keeps_the_channel_key_secret(admin: ApiClient, fakes: Fakes, hub: Hub) -> None:
    fake = fakes.twitch
    path = _active(admin, fake, "twitch", "SBF på Twitch", channel_management=True)
    event = {"key": "CUP-1", "title": "Svenska cupen, final", "scheduled_start": "2027-08-01T13:00:00+02:00"}
    r = admin.post(f"{path}/streaming/broadcasts", json=event)
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["rtmp_url"] == "rtmp://live.twitch.tv/app" and made["watch_url"] == "https://www.twitch.tv/bouleforbundet"
    assert fake.stream_key not in r.text and made["stream_key"].endswith(fake.stream_key[-4:])
    (segment,) = fake.segments.values()
    assert segment["title"] == "Svenska cupen, final" and segment["start_time"].startswith("2027-08-01T11:00:00")
    document = hub.integrations.get(IntegrationRef(admin.tenant, path.rsplit("/", 1)[1])).document
    assert hub.credentials.resolve(document, "stream_key_ref", operation="test") == fake.stream_key
