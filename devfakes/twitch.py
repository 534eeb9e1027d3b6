"""Twitch's Helix on loopback, behind the shared OAuth fake: every call needs the user's token *and* the app's
`Client-Id` (400 "Client-Id header required" / 401 otherwise), `/users`, the channel's stream key, schedule
segments; Ratelimit-* headers on every answer."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from devfakes.oauth_accounting import OAuthAccountingFake

USER = {"id": "141981764", "login": "bouleforbundet", "display_name": "Bouleförbundet"}


@dataclass
class TwitchFake(OAuthAccountingFake):
    stream_key: str = field(default_factory=lambda: "live_141981764_" + secrets.token_urlsafe(18))
    segments: dict[str, dict[str, Any]] = field(default_factory=dict)

    def _denied(self, request: Request) -> Response | None:
        if request.headers.get("client-id") != self.client_id:
            return JSONResponse({"error": "Bad Request", "status": 400, "message": "Client-Id header required"}, 400)
        if not self._bearer_ok(request):
            return JSONResponse({"error": "Unauthorized", "status": 401, "message": "Invalid OAuth token"}, 401)
        return None

    @staticmethod
    def _limits() -> dict[str, str]:
        return {"Ratelimit-Limit": "800", "Ratelimit-Remaining": "799", "Ratelimit-Reset": "1767225600"}

    async def users(self, request: Request) -> Response:
        return self._denied(request) or JSONResponse({"data": [USER]}, headers=self._limits())

    async def stream_key_route(self, request: Request) -> Response:
        if denied := self._denied(request):
            return denied
        if request.query_params.get("broadcaster_id") != USER["id"]:
            return JSONResponse({"error": "Unauthorized", "status": 401, "message": "not your channel"}, 401)
        return JSONResponse({"data": [{"stream_key": self.stream_key}]}, headers=self._limits())

    async def segment(self, request: Request) -> Response:
        if denied := self._denied(request):
            return denied
        body = await request.json()
        if not body.get("start_time") or not body.get("timezone") or not body.get("duration"):
            return JSONResponse({"error": "Bad Request", "status": 400, "message": "Missing required parameter"}, 400)
        segment_id = secrets.token_urlsafe(12)
        with self.lock:
            self.segments[segment_id] = {**body, "id": segment_id}
        data = {"segments": [self.segments[segment_id]], "broadcaster_id": USER["id"], "broadcaster_login": USER["login"]}
        return JSONResponse({"data": data}, headers=self._limits())

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/oauth/authorize", self.authorize),
                Route("/oauth/token", self.token, methods=["POST"]),
                Route("/helix/users", self.users),
                Route("/helix/streams/key", self.stream_key_route),
                Route("/helix/schedule/segment", self.segment, methods=["POST"]),
            ]
        )
