"""What the social-media family's adapters share: the pages or accounts an authorised user manages (each with
its own token, a secret the hub keeps as a reference and never answers), a post to publish, comments to
moderate and a daily metric series. Facebook Pages speaks Graph; Instagram and X follow with their own adapters."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from adapters.base import Adapter
from integrations.documents.document import SocialMediaIntegration
from shared.errors import Conflict, FieldError


@dataclass(frozen=True)
class ManagedAccount:
    account_id: str
    name: str
    token: str = field(repr=False)  # the page's own token: a secret, stored as a reference by the hub


@dataclass(frozen=True)
class Post:
    message: str
    link: str | None = None
    image_url: str | None = None
    scheduled_at: int | None = None  # Unix seconds; None: publish now


@dataclass(frozen=True)
class Comment:
    comment_id: str
    message: str
    author: str
    hidden: bool


@dataclass(frozen=True)
class MetricDay:
    metric: str
    day: date
    value: int


def page_slot(account_id: str) -> str:
    """The credential slot of a selected page's token (its reference lives in `config.accounts`)."""
    return f"page_{account_id}"


def post_of(payload: dict[str, Any]) -> Post:
    """An outbox record (`social_post`) as a post: published now (the record arrives when it should go out)."""
    return Post(message=str(payload["message"]), link=payload.get("link"), image_url=payload.get("image_url"))


class SocialAdapter(Adapter[SocialMediaIntegration]):
    """What every social adapter does the same way: a selected account's token (its own, or none: X uses the
    grant's), and the text a post shows (what finding it again after a crash compares)."""

    def account_token(self, account_id: str, operation: str) -> str:
        account = next((a for a in self.document.config.accounts if a.account_id == account_id), None)
        if account is None:
            raise Conflict(
                f"Account {account_id} is not selected for this integration (PUT …/social/accounts).", reason="not_selected"
            )
        return self.ctx.resolve_secret(page_slot(account_id), operation) if account.access_token_ref else ""

    def check_post(self, post: Post, pointer: str = "") -> list[FieldError]:
        """What this provider cannot publish, before any call (default: anything goes)."""
        return []

    def shown_text(self, post: Post) -> str:
        """The text the provider shows for `post` (what its `recent_posts` returns for it)."""
        return post.message
