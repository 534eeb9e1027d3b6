"""Twitch's Helix on loopback, behind the shared OAuth fake: every call needs the user's token *and* the app's
`Client-Id` (400 "Client-Id header required" / 401 otherwise), `/users`, the channel's stream key, schedule
segments; Ratelimit-* headers on every answer. The client authenticates at the token URL with its id and secret
in the form, as Twitch wants.

EventSub (`/eventsub/subscriptions`) as Twitch runs it for webhooks: only an **app** token (client credentials)
may create, list or delete; the callback must be HTTPS on port 443; the secret 10–100 characters; one
subscription per type, condition and callback (409 for another). A new subscription answers 202
`webhook_callback_verification_pending`, then the fake posts the signed `webhook_callback_verification` with a
challenge to the callback (public URLs mapped to the hub's loopback address through `hub_urls`): `enabled`
only when the answer is 2xx and exactly the challenge. `go_live()`/`go_offline()` post signed notifications
to every enabled subscription of that type; `revoke()` revokes one and posts the revocation."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import requests
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from devfakes.oauth_accounting import OAuthAccountingFake
from devfakes.servers import post_to_hub

USER = {"id": "141981764", "login": "bouleforbundet", "display_name": "Bouleförbundet"}


@dataclass
class TwitchFake(OAuthAccountingFake):
    stream_key: str = field(default_factory=lambda: "live_141981764_" + secrets.token_urlsafe(18))
    segments: dict[str, dict[str, Any]] = field(default_factory=dict)
    token_auth: str = "body"
    app_grants: bool = True
    subscriptions: dict[str, dict[str, Any]] = field(default_factory=dict)  # EventSub, by id (secret included)
    hub_urls: dict[str, str] = field(default_factory=dict)  # public URL prefix → the hub's loopback URL
    sent: list[tuple[str, int]] = field(default_factory=list)  # messages posted: (type, the hub's status)

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

    # --- EventSub ---------------------------------------------------------------------------------------------
    def _app_denied(self, request: Request) -> Response | None:
        if request.headers.get("client-id") != self.client_id:
            return JSONResponse({"error": "Bad Request", "status": 400, "message": "Client-Id header required"}, 400)
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        if self._bearer_ok(request):  # a user token: webhooks are the app's business
            return JSONResponse({"error": "Bad Request", "status": 400, "message": "An app access token is required."}, 400)
        if self.app_access.get(token, 0) <= time.time():
            return JSONResponse({"error": "Unauthorized", "status": 401, "message": "Invalid OAuth token"}, 401)
        return None

    @staticmethod
    def _public(sub: dict[str, Any]) -> dict[str, Any]:
        transport = {k: v for k, v in sub["transport"].items() if k != "secret"}
        return {**{k: v for k, v in sub.items() if k != "transport"}, "transport": transport}

    async def eventsub(self, request: Request) -> Response:
        if denied := self._app_denied(request):
            return denied
        if request.method == "GET":
            q = request.query_params
            with self.lock:
                found = [
                    self._public(x)
                    for x in self.subscriptions.values()
                    if q.get("type", x["type"]) == x["type"]
                    and q.get("status", x["status"]) == x["status"]
                    and q.get("user_id", x["condition"].get("broadcaster_user_id"))
                    == x["condition"].get("broadcaster_user_id")
                    and q.get("subscription_id", x["id"]) == x["id"]
                ]
            return JSONResponse({"data": found, "total": len(found), "total_cost": 0, "max_total_cost": 10000})
        if request.method == "DELETE":
            with self.lock:
                gone = self.subscriptions.pop(request.query_params.get("id", ""), None)
            if gone is None:
                return JSONResponse({"error": "Not Found", "status": 404, "message": "subscription not found"}, 404)
            return Response(status_code=204)
        return await self._subscribe(await request.json())

    async def _subscribe(self, body: dict[str, Any]) -> Response:
        transport, condition = body.get("transport") or {}, body.get("condition") or {}
        callback, secret = str(transport.get("callback", "")), str(transport.get("secret", ""))
        parts = urlsplit(callback)

        def bad(message: str) -> Response:
            return JSONResponse({"error": "Bad Request", "status": 400, "message": message}, 400)

        if body.get("type") not in ("stream.online", "stream.offline") or body.get("version") != "1":
            return bad("invalid subscription type or version")
        if condition.get("broadcaster_user_id") != USER["id"]:
            return bad("invalid condition")
        if transport.get("method") != "webhook" or parts.scheme != "https" or parts.port not in (None, 443):
            return bad("the callback must use HTTPS on port 443")
        if not 10 <= len(secret) <= 100:
            return bad("secret must be between 10 and 100 characters")
        with self.lock:
            if any(
                x["type"] == body["type"] and x["condition"] == condition and x["transport"]["callback"] == callback
                for x in self.subscriptions.values()
            ):
                return JSONResponse({"error": "Conflict", "status": 409, "message": "subscription already exists"}, 409)
            sub = {
                "id": secrets.token_hex(16),
                "status": "webhook_callback_verification_pending",
                "type": body["type"],
                "version": "1",
                "condition": condition,
                "created_at": _stamp(),
                "transport": {"method": "webhook", "callback": callback, "secret": secret},
                "cost": 0,
            }
            self.subscriptions[sub["id"]] = sub
        answer = {"data": [self._public(sub)], "total": 1, "total_cost": 0, "max_total_cost": 10000}
        challenge = secrets.token_urlsafe(16)
        try:
            response = self._send(sub, "webhook_callback_verification", {"challenge": challenge})
            verified = response.status_code < 300 and response.text == challenge
        except requests.RequestException:
            verified = False
        with self.lock:
            if sub["id"] in self.subscriptions:
                sub["status"] = "enabled" if verified else "webhook_callback_verification_failed"
        return JSONResponse(answer, 202)

    def _send(self, sub: dict[str, Any], kind: str, content: dict[str, Any]) -> requests.Response:
        body = json.dumps({"subscription": self._public(sub), **content}).encode()
        message_id, stamp = secrets.token_hex(16), _stamp()
        signature = hmac.new(
            sub["transport"]["secret"].encode(), message_id.encode() + stamp.encode() + body, hashlib.sha256
        )
        headers = {
            "Content-Type": "application/json",
            "Twitch-Eventsub-Message-Id": message_id,
            "Twitch-Eventsub-Message-Timestamp": stamp,
            "Twitch-Eventsub-Message-Signature": "sha256=" + signature.hexdigest(),
            "Twitch-Eventsub-Message-Type": kind,
            "Twitch-Eventsub-Subscription-Type": sub["type"],
            "Twitch-Eventsub-Subscription-Version": "1",
        }

        def record(status: int) -> None:
            with self.lock:
                self.sent.append((kind, status))

        response: requests.Response = post_to_hub(
            sub["transport"]["callback"], self.hub_urls, record, data=body, headers=headers
        )
        return response

    def _notify(self, kind: str, event: dict[str, Any]) -> int:
        with self.lock:
            live = [x for x in self.subscriptions.values() if x["type"] == kind and x["status"] == "enabled"]
        for sub in live:
            self._send(sub, "notification", {"event": event})
        return len(live)

    def go_live(self) -> int:
        """The broadcaster starts streaming: `stream.online` to every enabled subscription; how many got it."""
        event = {
            "id": secrets.token_hex(8),
            "broadcaster_user_id": USER["id"],
            "broadcaster_user_login": USER["login"],
            "broadcaster_user_name": USER["display_name"],
            "type": "live",
            "started_at": _stamp(),
        }
        return self._notify("stream.online", event)

    def go_offline(self) -> int:
        event = {k: USER[k.removeprefix("broadcaster_user_")] for k in ("broadcaster_user_id", "broadcaster_user_login")}
        return self._notify("stream.offline", event)

    def revoke(self, subscription_id: str, reason: str = "authorization_revoked") -> None:
        with self.lock:
            sub = self.subscriptions[subscription_id]
            sub["status"] = reason
        self._send(sub, "revocation", {})

    def api_routes(self) -> list[Route]:
        return [
            Route("/helix/users", self.users),
            Route("/helix/streams/key", self.stream_key_route),
            Route("/helix/schedule/segment", self.segment, methods=["POST"]),
            Route("/helix/eventsub/subscriptions", self.eventsub, methods=["GET", "POST", "DELETE"]),
        ]


def _stamp() -> str:
    """RFC 3339 with nanoseconds, as Twitch writes its timestamps."""
    now = datetime.now(UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond:06d}123Z"
