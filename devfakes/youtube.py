"""YouTube Live's Data API on loopback, behind the shared OAuth fake: the channel of the authorised account,
reusable live streams (an ingestion address and a stream name — the key), broadcasts and their binding, each
method costing its documented quota units against 10,000 a day (past it: 403 `quotaExceeded`)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from devfakes.oauth_accounting import OAuthAccountingFake

COSTS = {"channels": 1, "liveStreams": 50, "liveBroadcasts": 50, "bind": 50}


@dataclass
class YouTubeFake(OAuthAccountingFake):
    units: int = 0
    daily_units: int = 10_000
    streams: dict[str, dict[str, Any]] = field(default_factory=dict)
    broadcasts: dict[str, dict[str, Any]] = field(default_factory=dict)

    def _spend(self, request: Request, what: str) -> Response | None:
        if not self._bearer_ok(request):
            return JSONResponse({"error": {"code": 401, "errors": [{"reason": "authError"}]}}, status_code=401)
        with self.lock:
            if self.units + COSTS[what] > self.daily_units:
                body = {"error": {"code": 403, "errors": [{"reason": "quotaExceeded", "domain": "youtube.quota"}]}}
                return JSONResponse(body, status_code=403)
            self.units += COSTS[what]
        return None

    async def channels(self, request: Request) -> Response:
        if denied := self._spend(request, "channels"):
            return denied
        return JSONResponse({"items": [{"id": "UC-federation-channel", "snippet": {"title": "Svenska Bouleförbundet"}}]})

    async def live_streams(self, request: Request) -> Response:
        if denied := self._spend(request, "liveStreams"):
            return denied
        body = await request.json()
        stream_id = "ls-" + secrets.token_hex(6)
        name = "-".join(secrets.token_hex(2) for _ in range(4))  # what YouTube's stream names look like
        info = {"ingestionAddress": "rtmp://a.rtmp.youtube.com/live2", "streamName": name}
        stream = {
            "id": stream_id,
            "snippet": body.get("snippet", {}),
            "cdn": {"ingestionInfo": info},
            "contentDetails": body.get("contentDetails", {}),
        }
        with self.lock:
            self.streams[stream_id] = stream
        return JSONResponse(stream)

    async def live_broadcasts(self, request: Request) -> Response:
        if denied := self._spend(request, "liveBroadcasts"):
            return denied
        body = await request.json()
        if not body.get("snippet", {}).get("scheduledStartTime"):
            body_error = {"error": {"code": 400, "errors": [{"reason": "scheduledStartTimeRequired"}]}}
            return JSONResponse(body_error, status_code=400)
        broadcast_id = secrets.token_urlsafe(8)
        with self.lock:
            self.broadcasts[broadcast_id] = {**body, "id": broadcast_id}
        return JSONResponse({**body, "id": broadcast_id})

    async def bind(self, request: Request) -> Response:
        if denied := self._spend(request, "bind"):
            return denied
        q = request.query_params
        with self.lock:
            broadcast = self.broadcasts.get(q.get("id", ""))
            if broadcast is None or q.get("streamId") not in self.streams:
                return JSONResponse({"error": {"code": 404, "errors": [{"reason": "liveBroadcastNotFound"}]}}, 404)
            broadcast["boundStreamId"] = q["streamId"]
        return JSONResponse({"id": broadcast["id"], "contentDetails": {"boundStreamId": q["streamId"]}})

    def api_routes(self) -> list[Route]:
        return [
            Route("/youtube/v3/channels", self.channels),
            Route("/youtube/v3/liveStreams", self.live_streams, methods=["POST"]),
            Route("/youtube/v3/liveBroadcasts", self.live_broadcasts, methods=["POST"]),
            Route("/youtube/v3/liveBroadcasts/bind", self.bind, methods=["POST"]),
        ]
