"""Instagram (Graph API, professional accounts): the accounts are the Instagram business accounts linked to the
pages the OAuth grant's user manages, and each is used with its page's token. Publishing is Instagram's two
steps — a media container for the image, then `media_publish` — so a post needs an image; Instagram's API has
no text-only or link posts and no scheduling (both refused before any call). Comments are `text`/`username`/
`hidden`, hidden with `hide`. Errors and usage headers are Graph's, read as the Facebook adapter reads them."""

from __future__ import annotations

from adapters.facebook import FacebookAdapter
from adapters.social import Comment, ManagedAccount, Post
from shared.errors import FieldError, ValidationFailed

INSIGHT_METRICS = ("impressions", "reach", "profile_views")


class InstagramAdapter(FacebookAdapter):
    insight_metrics = INSIGHT_METRICS

    def managed_accounts(self) -> list[ManagedAccount]:
        fields = "id,name,access_token,instagram_business_account{id,username}"
        data = self._graph("GET", "/me/accounts", "social.accounts", params={"fields": fields})
        return [
            ManagedAccount(str(ig["id"]), f"@{ig.get('username', ig['id'])} ({p['name']})", str(p["access_token"]))
            for p in data.get("data", [])
            if (ig := p.get("instagram_business_account"))
        ]

    def check_account(self, account_id: str, token: str) -> str:
        data = self._graph("GET", f"/{account_id}", "social.page", token=token, params={"fields": "id,username"})
        return f"@{data.get('username', account_id)}"

    def check_post(self, post: Post, pointer: str = "") -> list[FieldError]:
        problems = []
        if not post.image_url:
            problems.append(
                FieldError(f"{pointer}/image_url", "Instagram posts need an image (its API has no text-only posts)")
            )
        if post.link:
            problems.append(FieldError(f"{pointer}/link", "Instagram posts carry no links"))
        if post.scheduled_at is not None:
            problems.append(FieldError(f"{pointer}/scheduled_at", "Instagram's API cannot schedule posts"))
        return problems

    def publish(self, account_id: str, token: str, post: Post) -> str:
        if problems := self.check_post(post):
            raise ValidationFailed("Instagram cannot publish this post.", problems)
        form = {"image_url": post.image_url, "caption": post.message}
        container = self._graph("POST", f"/{account_id}/media", "social.publish", token=token, data=form)
        published = self._graph(
            "POST", f"/{account_id}/media_publish", "social.publish", token=token, data={"creation_id": container["id"]}
        )
        return str(published["id"])

    def recent_posts(self, account_id: str, token: str) -> list[tuple[str, str]]:
        data = self._graph(
            "GET", f"/{account_id}/media", "social.find", token=token, params={"fields": "id,caption", "limit": 25}
        )
        return [(str(m["id"]), str(m.get("caption", ""))) for m in data.get("data", [])]

    def comments(self, post_id: str, token: str) -> list[Comment]:
        data = self._graph(
            "GET", f"/{post_id}/comments", "social.comments", token=token, params={"fields": "id,text,username,hidden"}
        )
        return [
            Comment(str(c["id"]), str(c.get("text", "")), str(c.get("username", "")), bool(c.get("hidden")))
            for c in data.get("data", [])
        ]

    def hide_comment(self, comment_id: str, token: str, hidden: bool) -> None:
        self._graph("POST", f"/{comment_id}", "social.moderate", token=token, data={"hide": str(hidden).lower()})
