"""Social media for a federation's pages (`social_media` family; Facebook Pages first).

- Accounts: the pages the OAuth grant's user manages are listed (names and ids, never tokens); the tenant selects
  some, and each selected page's own token is stored as a credential of its own (`page_<id>`: written, audited
  and rotatable like any secret) and referenced from `config.accounts[].access_token_ref`.
- Posts are published once per key: the same key again answers the first post (a lease per integration makes
  racing requests for one key one post). Rows: PartitionKey `<tenant>|<integration>`, RowKey `post|<key>`.
- Moderation (list, hide, delete a post's comments) and page insights (daily series) read with the page's token.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cached_property
from typing import Any

from pydantic import BaseModel, Field

from adapters import capabilities as can
from adapters.social import Post, page_slot
from integrations.credentials import Credentials
from integrations.documents.document import IntegrationDocument, SocialMediaIntegration
from integrations.documents.ref import IntegrationRef
from shared.errors import Conflict, FieldError, NotFound, ValidationFailed
from shared.leases import LeaseBusy, Leases
from shared.rows import Row, Rows
from shared.tables import Table

LEASE_S = 30.0

# The catalog capability → (the adapter Protocol, the document flag switching it on).
SERVICES: dict[str, tuple[type, str]] = {
    "publish_posts": (can.SocialPublish, "publish"),
    "page_insights": (can.SocialInsights, "analytics"),
    "moderate_comments": (can.SocialModeration, "moderation"),
}


class AccountOut(BaseModel):
    account_id: str
    name: str
    selected: bool = Field(description="Whether the hub holds this page's token (config.accounts).")


class PostOut(BaseModel):
    key: str
    account_id: str
    post_id: str = Field(description="The provider's id of the post.")
    scheduled_at: datetime | None = None
    created_at: datetime


class CommentOut(BaseModel):
    comment_id: str
    message: str
    author: str
    hidden: bool


class MetricOut(BaseModel):
    metric: str
    day: date
    value: int


def already_posted(adapter: can.SocialAutoPublish, account_id: str, token: str, post: Post) -> str | None:
    """The id of `post` among the account's recent posts (by the exact text the provider shows), if it is there:
    how an attempt that died after the provider answered is recognised (Graph and X take no idempotency key)."""
    wanted = adapter.shown_text(post)
    return next((post_id for post_id, text in adapter.recent_posts(account_id, token) if text == wanted), None)


class PostRow(Row):
    """A post's key: `Pending` from before the provider call until `Body` (the published post) replaces it."""

    body: str | None = Field(None, alias="Body")
    pending: bool | None = Field(None, alias="Pending")

    def post(self) -> PostOut | None:
        return PostOut.model_validate_json(self.body) if self.body else None


@dataclass(frozen=True)
class SocialPages:
    table: Table
    credentials: Credentials
    set_accounts: Callable[[IntegrationRef, list[dict[str, Any]], str], None]  # config.accounts, actor
    leases: Leases
    now: Callable[[], datetime]

    # -- accounts ---------------------------------------------------------------------------------------------

    def available(self, document: SocialMediaIntegration, adapter: can.SocialPublish) -> list[AccountOut]:
        selected = {a.account_id for a in document.config.accounts}
        return [
            AccountOut(account_id=a.account_id, name=a.name, selected=a.account_id in selected)
            for a in adapter.managed_accounts()
        ]

    def select(
        self, document: IntegrationDocument, adapter: can.SocialPublish, account_ids: list[str], *, actor: str
    ) -> list[AccountOut]:
        """Keep these pages (and only these): each one's token stored as its own credential, the document's
        `config.accounts` pointing at them. A page the grant's user does not manage is a 422 naming it."""
        managed = {a.account_id: a for a in adapter.managed_accounts()}
        unknown = [
            FieldError(f"/account_ids/{i}", "not a page the authorised user manages")
            for i, a in enumerate(account_ids)
            if a not in managed
        ]
        if unknown:
            raise ValidationFailed("Some pages are not managed by the account that granted access.", unknown)
        accounts = []
        for account_id in dict.fromkeys(account_ids):
            page = managed[account_id]
            ref = None  # an account without a token of its own (X) is used with the integration's OAuth token
            if page.token:
                stored = self.credentials.put(
                    document.ref, page_slot(account_id), page.token, actor=actor, reason="page token"
                )
                ref = stored.ref
            kind = "page" if page.token else "account"
            accounts.append({"account_id": account_id, "name": page.name, "kind": kind, "access_token_ref": ref})
        self.set_accounts(document.ref, accounts, actor)
        return [AccountOut(account_id=a["account_id"], name=a["name"], selected=True) for a in accounts]

    # -- posts --------------------------------------------------------------------------------------------------

    @cached_property
    def _posts(self) -> Rows[PostRow]:
        return Rows(self.table, PostRow)

    def get(self, document: IntegrationDocument, key: str) -> PostOut | None:
        found = self._posts.find(document.ref.partition, f"post|{key}")
        return found[0].post() if found else None

    def publish(
        self, document: IntegrationDocument, adapter: can.SocialAutoPublish, *, key: str, account_id: str, post: Post
    ) -> tuple[PostOut, bool]:
        """(the post, whether this call published it): once per key, on every instance. The key's row is
        written *before* the provider call (pending) and completed after it: a pending row found later means an
        attempt died in between, so the post is first looked for among the account's recent posts by its text
        (Graph and X take no idempotency key) and published only when it is not there."""
        pk, rk = document.ref.partition, f"post|{key}"
        try:
            with self.leases.held(document.ref.lease("social"), ttl_s=LEASE_S, wait_s=LEASE_S / 2):
                found = self._posts.find(pk, rk)
                if found is not None and (published := found[0].post()) is not None:
                    return published, False
                token = adapter.account_token(account_id, "social.publish")
                post_id = None
                if found is None:
                    self._posts.insert(PostRow(partition=pk, row=rk, pending=True))
                else:  # a pending row: an earlier attempt may have been answered (scheduled posts included)
                    post_id = already_posted(adapter, account_id, token, post)
                post_id = post_id or adapter.publish(account_id, token, post)
                scheduled = datetime.fromtimestamp(post.scheduled_at, UTC) if post.scheduled_at else None
                out = PostOut(key=key, account_id=account_id, post_id=post_id, scheduled_at=scheduled, created_at=self.now())
                self._posts.upsert(PostRow(partition=pk, row=rk, body=out.model_dump_json()))
                return out, True
        except LeaseBusy:
            raise Conflict("Another post is being published for this integration; retry.", reason="in_progress") from None

    def _post(self, document: IntegrationDocument, key: str) -> PostOut:
        found = self.get(document, key)
        if found is None:
            raise NotFound(f"No post for {key}.")
        return found

    # -- moderation ---------------------------------------------------------------------------------------------

    def comments(self, document: IntegrationDocument, adapter: can.SocialModeration, key: str) -> list[CommentOut]:
        post = self._post(document, key)
        token = adapter.account_token(post.account_id, "social.comments")
        return [CommentOut(**vars(c)) for c in adapter.comments(post.post_id, token)]

    def moderate(
        self, document: IntegrationDocument, adapter: can.SocialModeration, key: str, comment_id: str, action: str
    ) -> None:
        """Hide, show or delete one comment of the post made for `key`; the comment must be that post's."""
        post = self._post(document, key)
        token = adapter.account_token(post.account_id, "social.moderate")
        if comment_id not in {c.comment_id for c in adapter.comments(post.post_id, token)}:
            raise NotFound(f"No comment {comment_id} on the post for {key}.")
        if action == "delete":
            adapter.delete_comment(comment_id, token)
        else:
            adapter.hide_comment(comment_id, token, action == "hide")

    # -- insights -----------------------------------------------------------------------------------------------

    def insights(
        self, document: IntegrationDocument, adapter: can.SocialInsights, account_id: str, start: date, end: date
    ) -> list[MetricOut]:
        token = adapter.account_token(account_id, "social.insights")
        return [
            MetricOut(metric=m.metric, day=m.day, value=m.value) for m in adapter.insights(account_id, token, start, end)
        ]
