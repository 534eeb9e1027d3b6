"""X's API v2 on loopback: OAuth 2.0 with PKCE (S256 enforced: a code is redeemed only with its verifier) and a
refresh token only under `offline.access` (rotating), the authorised user (`/users/me`), posts (`/tweets`: text
up to 280 characters, deleted only by their author), replies found by conversation and hidden or shown by the
conversation's author. Every answer carries `x-rate-limit-limit/-remaining/-reset`; past the window a 429
*without* Retry-After (X sends none)."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass, field
from email.message import Message
from email.parser import BytesParser
from typing import Any
from urllib.parse import parse_qs, urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from devfakes.oauth_accounting import OAuthAccountingFake

JPEG = b"\xff\xd8\xff\xe0" + b"\x00\x10JFIF" + bytes(200) + b"\xff\xd9"  # enough of a JPEG for a fake
ME = {"id": "1500000000000000001", "username": "svenskboule", "name": "Svenska Bouleförbundet"}


@dataclass
class XFake(OAuthAccountingFake):
    challenges: dict[str, str] = field(default_factory=dict)  # code → its S256 code_challenge
    tweets: dict[str, dict[str, Any]] = field(default_factory=dict)
    media: dict[str, bytes] = field(default_factory=dict)  # uploaded media id → the image's bytes
    per_window: int = 300  # requests per 15-minute window per user (tweets: X's limits vary by endpoint and plan)
    used: int = 0
    reset_at: float = field(default_factory=lambda: time.time() + 900)

    async def authorize(self, request: Request) -> Response:
        q = request.query_params
        if q.get("client_id") != self.client_id:
            return JSONResponse({"error": "unauthorized_client"}, status_code=400)
        if q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
            return JSONResponse({"error": "invalid_request", "error_description": "PKCE (S256) is required"}, 400)
        code = secrets.token_urlsafe(12)
        self.codes[code] = q.get("scope", "").split()
        self.challenges[code] = q["code_challenge"]
        return RedirectResponse(f"{q['redirect_uri']}?{urlencode({'code': code, 'state': q.get('state', '')})}", 302)

    async def token(self, request: Request) -> Response:
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
        if form.get("grant_type") == "authorization_code":
            challenge = self.challenges.pop(form.get("code", ""), None)
            verifier = form.get("code_verifier", "")
            digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
            if challenge is None or digest != challenge:
                return JSONResponse({"error": "invalid_grant", "error_description": "code_verifier mismatch"}, 400)
        return await super().token(request)

    def _issue(self, scopes: list[str]) -> dict[str, Any]:
        issued = super()._issue(scopes)
        self.access[issued["access_token"]] = time.time() + 7200  # X's access tokens last 2 h
        if "offline.access" not in scopes:  # no refresh token without offline.access
            self.refresh.pop(issued.pop("refresh_token"), None)
        issued["expires_in"] = 7200
        return issued

    # -- plumbing -----------------------------------------------------------------------------------------------

    def _limits(self) -> dict[str, str]:
        return {
            "x-rate-limit-limit": str(self.per_window),
            "x-rate-limit-remaining": str(max(0, self.per_window - self.used)),
            "x-rate-limit-reset": str(int(self.reset_at)),
        }

    def _answer(self, body: dict[str, Any], status: int = 200) -> Response:
        return JSONResponse(body, status_code=status, headers=self._limits())

    def _admit(self, request: Request) -> Response | None:
        with self.lock:
            if time.time() >= self.reset_at:
                self.used, self.reset_at = 0, time.time() + 900
            if self.used >= self.per_window:
                self.throttled += 1
                return self._answer(
                    {"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank"}, 429
                )
            self.used += 1
        if not self._bearer_ok(request):
            return self._answer(
                {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"}, 401
            )
        return None

    # -- the API ------------------------------------------------------------------------------------------------

    async def me(self, request: Request) -> Response:
        if denied := self._admit(request):
            return denied
        return self._answer({"data": ME})

    async def upload(self, request: Request) -> Response:
        """`POST /2/media/upload`: a multipart form with the image's bytes (`media`) and `media_category`."""
        if denied := self._admit(request):
            return denied
        ctype = request.headers.get("content-type", "")
        if not ctype.startswith("multipart/form-data"):
            return self._answer({"title": "Invalid Request", "detail": "multipart/form-data required"}, 400)
        raw = f"Content-Type: {ctype}\r\n\r\n".encode() + await request.body()
        parts: list[Message] = BytesParser().parsebytes(raw).get_payload()  # type: ignore[assignment]
        media = next((p for p in parts if p.get_param("name", header="content-disposition") == "media"), None)
        if media is None or media.get_content_type() not in ("image/jpeg", "image/png", "image/gif", "image/webp"):
            return self._answer({"title": "Invalid Request", "detail": "media must be an image"}, 400)
        media_id = str(secrets.randbelow(10**18))
        with self.lock:
            self.media[media_id] = bytes(media.get_payload(decode=True))
        return self._answer({"data": {"id": media_id, "media_key": f"3_{media_id}"}})

    async def image(self, request: Request) -> Response:
        """Not X: a public web server holding the federation's images (the hub fetches them, then uploads)."""
        return Response(JPEG, media_type="image/jpeg")

    async def create_tweet(self, request: Request) -> Response:
        if denied := self._admit(request):
            return denied
        body = await request.json()
        text = str(body.get("text", ""))
        media_ids = (body.get("media") or {}).get("media_ids") or []
        if any(m not in self.media for m in media_ids):
            return self._answer({"title": "Invalid Request", "detail": "Your media IDs are invalid."}, 400)
        if not text or len(text) > 280:
            problem = {"title": "Invalid Request", "detail": "text must be 1 to 280 characters", "type": "about:blank"}
            return self._answer({"errors": [{"message": problem["detail"]}], **problem}, 400)
        tweet_id = str(secrets.randbelow(10**18))
        reply_to = (body.get("reply") or {}).get("in_reply_to_tweet_id")
        conversation = self.tweets[reply_to]["conversation_id"] if reply_to in self.tweets else tweet_id
        with self.lock:
            self.tweets[tweet_id] = {
                "id": tweet_id,
                "text": text,
                "author_id": ME["id"],
                "conversation_id": conversation,
                "media_ids": media_ids,
            }
        return self._answer({"data": {"id": tweet_id, "text": text}}, 201)

    async def tweet(self, request: Request) -> Response:
        if denied := self._admit(request):
            return denied
        tweet = self.tweets.get(request.path_params["tweet_id"])
        if tweet is None:
            return self._answer({"errors": [{"title": "Not Found Error", "detail": "Could not find tweet"}]}, 404)
        if tweet["author_id"] != ME["id"]:
            return self._answer({"title": "Forbidden", "detail": "You are not allowed to delete this Tweet."}, 403)
        with self.lock:
            del self.tweets[tweet["id"]]
        return self._answer({"data": {"deleted": True}})

    async def timeline(self, request: Request) -> Response:
        if denied := self._admit(request):
            return denied
        mine = [t for t in self.tweets.values() if t["author_id"] == request.path_params["user_id"]]
        limit = int(request.query_params.get("max_results", "10"))
        return self._answer({"data": [{"id": t["id"], "text": t["text"]} for t in reversed(mine)][:limit]})

    async def search(self, request: Request) -> Response:
        if denied := self._admit(request):
            return denied
        query = request.query_params.get("query", "")
        conversation = query.removeprefix("conversation_id:")
        data = [
            {"id": t["id"], "text": t["text"], "author_id": t["author_id"], "hidden": t.get("hidden", False)}
            for t in self.tweets.values()
            if t["conversation_id"] == conversation and t["id"] != conversation
        ]
        users = [{"id": t["author_id"], "username": t.get("username", "someone")} for t in self.tweets.values()]
        return self._answer({"data": data, "includes": {"users": users}, "meta": {"result_count": len(data)}})

    async def hide(self, request: Request) -> Response:
        if denied := self._admit(request):
            return denied
        reply = self.tweets.get(request.path_params["tweet_id"])
        if reply is None or reply["conversation_id"] == reply["id"]:
            return self._answer({"errors": [{"detail": "Only replies can be hidden"}]}, 400)
        root = self.tweets.get(reply["conversation_id"])
        if root is None or root["author_id"] != ME["id"]:
            return self._answer({"title": "Forbidden", "detail": "Only the conversation's author hides replies"}, 403)
        hidden = bool((await request.json()).get("hidden"))
        with self.lock:
            reply["hidden"] = hidden
        return self._answer({"data": {"hidden": hidden}})

    def someone_replies(self, tweet_id: str, text: str, username: str = "someone") -> str:
        reply_id = str(secrets.randbelow(10**18))
        with self.lock:
            self.tweets[reply_id] = {
                "id": reply_id,
                "text": text,
                "author_id": "99" + reply_id[:8],
                "username": username,
                "conversation_id": self.tweets[tweet_id]["conversation_id"],
            }
        return reply_id

    def api_routes(self) -> list[Route]:
        return [
            Route("/2/users/me", self.me),
            Route("/2/tweets", self.create_tweet, methods=["POST"]),
            Route("/2/media/upload", self.upload, methods=["POST"]),
            Route("/images/{name}", self.image),
            Route("/2/users/{user_id}/tweets", self.timeline),
            Route("/2/tweets/search/recent", self.search),
            Route("/2/tweets/{tweet_id}", self.tweet, methods=["DELETE"]),
            Route("/2/tweets/{tweet_id}/hidden", self.hide, methods=["PUT"]),
        ]
