"""X (API v2, OAuth 2.0 with PKCE; `offline.access` for a refresh token, which rotates): the account is the
authorised user's own (`/users/me`: no per-account token, the integration's OAuth token is used), posts are
`POST /tweets` (text, a link appended; at most 280 characters), moderation hides or shows the replies in a
post's conversation (X lets only their authors delete replies), and there are no daily account insights on
X's API (the catalog does not list them).

An image is fetched through the egress policy and uploaded to `/media/upload` (X takes bytes, not URLs).

X answers 429 without Retry-After and carries `x-rate-limit-remaining/-reset` on every answer: when a window
is spent, the adapter holds the integration's shared window until `reset`, on every instance, so the next
call waits instead of drawing a 429; a 429 that comes anyway is retried at `reset` (the catalog names
`x-rate-limit-reset` as X's retry header: a Unix time, which the outbound client reads as a moment)."""

from __future__ import annotations

import time
from typing import Any

import requests
from urllib3 import encode_multipart_formdata

from adapters.social import Comment, ManagedAccount, Post, SocialAdapter
from shared.errors import FieldError, ProviderError, ValidationFailed
from shared.http import Call, Policy

MAX_CHARS = 280
MAX_IMAGE_BYTES = 5 * 1024 * 1024  # X's limit for an image
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})
MAX_HOLD_S = 900.0  # X's windows are 15 minutes


class XAdapter(SocialAdapter):
    def managed_accounts(self) -> list[ManagedAccount]:
        me = self._x("GET", "/users/me", "social.accounts")["data"]
        return [ManagedAccount(str(me["id"]), f"@{me['username']}", "")]  # no token of its own: the grant's

    def check_account(self, account_id: str, token: str) -> str:
        me = self._x("GET", "/users/me", "social.page")["data"]
        if str(me["id"]) != account_id:
            raise ProviderError(
                detail=f"X: the authorised user is @{me['username']}, not {account_id}", provider=self.spec.id
            )
        return f"@{me['username']}"

    def check_post(self, post: Post, pointer: str = "") -> list[FieldError]:
        text, problems = self.shown_text(post), []
        if post.scheduled_at is not None:
            problems.append(FieldError(f"{pointer}/scheduled_at", "X's API cannot schedule posts"))
        if len(text) > MAX_CHARS:
            problems.append(FieldError(f"{pointer}/message", f"{len(text)} characters with the link; X takes {MAX_CHARS}"))
        return problems

    def publish(self, account_id: str, token: str, post: Post) -> str:
        text = self.shown_text(post)
        if problems := self.check_post(post):
            raise ValidationFailed("X cannot publish this post.", problems)
        body: dict[str, Any] = {"text": text}
        if post.image_url:
            body["media"] = {"media_ids": [self._upload(post.image_url)]}
        return str(self._x("POST", "/tweets", "social.publish", json=body)["data"]["id"])

    def _upload(self, image_url: str) -> str:
        """X takes an image's bytes, not its URL: fetched through the egress policy (no credential of ours goes
        to the image's host; at most MAX_IMAGE_BYTES), then uploaded to X's media endpoint."""
        call = Call("GET", image_url, max_bytes=MAX_IMAGE_BYTES, expect=frozenset(range(400, 500)))
        image = self.ctx.outbound.send(call, Policy(provider=self.spec.id, max_attempts=2))
        kind = image.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if image.status_code >= 400 or kind not in IMAGE_TYPES:
            problem = (
                f"answered {image.status_code}" if image.status_code >= 400 else f"is not an image ({kind or 'no type'})"
            )
            raise ValidationFailed("X cannot post this image.", [FieldError("/image_url", f"the image URL {problem}")])
        form, content_type = encode_multipart_formdata(
            {"media": ("image", image.content, kind), "media_category": "tweet_image"}
        )
        data = self._x("POST", "/media/upload", "social.media", data=form, headers={"Content-Type": content_type})
        return str(data["data"]["id"])

    def shown_text(self, post: Post) -> str:
        return f"{post.message} {post.link}" if post.link else post.message

    def recent_posts(self, account_id: str, token: str) -> list[tuple[str, str]]:
        data = self._x("GET", f"/users/{account_id}/tweets", "social.find", params={"max_results": 20})
        return [(str(t["id"]), str(t.get("text", ""))) for t in data.get("data", [])]

    def comments(self, post_id: str, token: str) -> list[Comment]:
        params = {"query": f"conversation_id:{post_id}", "tweet.fields": "author_id,hidden", "expansions": "author_id"}
        data = self._x("GET", "/tweets/search/recent", "social.comments", params=params)
        users = {u["id"]: u.get("username", "") for u in data.get("includes", {}).get("users", [])}
        return [
            Comment(str(t["id"]), str(t.get("text", "")), f"@{users.get(t.get('author_id'), '')}", bool(t.get("hidden")))
            for t in data.get("data", [])
        ]

    def hide_comment(self, comment_id: str, token: str, hidden: bool) -> None:
        self._x("PUT", f"/tweets/{comment_id}/hidden", "social.moderate", json={"hidden": hidden})

    def delete_comment(self, comment_id: str, token: str) -> None:
        raise ValidationFailed(
            "X lets only a reply's author delete it.", [FieldError("/action", "hide the reply instead (action: hide)")]
        )

    # -- plumbing -----------------------------------------------------------------------------------------------

    def _x(self, method: str, path: str, operation: str, **kwargs: Any) -> dict[str, Any]:
        response = self.request(method, path, operation=operation, expect=frozenset({400, 403, 404}), **kwargs)
        self._heed_limits(response, operation)
        if response.status_code >= 400:
            raise ProviderError(detail=f"X: {_detail(response)}", provider=self.spec.id, status_code=response.status_code)
        body: dict[str, Any] = response.json()
        return body

    def _heed_limits(self, response: requests.Response, operation: str) -> None:
        """A spent window (`x-rate-limit-remaining: 0`) holds the shared window until X's `reset`."""
        remaining, reset = response.headers.get("x-rate-limit-remaining"), response.headers.get("x-rate-limit-reset")
        policy = self.policy(operation)
        if remaining == "0" and reset and reset.isdigit() and policy.limit_key and policy.window:
            wait = min(MAX_HOLD_S, max(0.0, int(reset) + 1 - time.time()))  # a whole second: round up
            if wait > 0:
                self.ctx.outbound.limiter.penalise(policy.limit_key, policy.window, wait)


def _detail(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.reason
    errors = body.get("errors") or []
    return str(body.get("detail") or (errors[0].get("detail") or errors[0].get("message") if errors else response.reason))
