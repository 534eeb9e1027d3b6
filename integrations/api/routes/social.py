"""Social media (Facebook Pages): the pages the grant manages and the ones selected, posts published once per key,
a post's comments moderated, a page's insights. Page tokens are kept as secret references and never answered."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

import anyio
from fastapi import Path, Query, Response
from pydantic import AnyHttpUrl, Field, StringConstraints, field_validator, model_validator

from adapters.social import Post, post_of
from integrations.api.body import Body
from integrations.api.deps import AdaptersDep, AuditDep, IntakeDep, LiveDep, Reader, Ref, Runner, SocialDep, SyncDep, Writer
from integrations.api.live import LiveAdapters
from integrations.api.problems import COMMON, STATEFUL_WRITE, WRITE, P, Responses, problems
from integrations.api.routing import api_router
from integrations.documents.common import LifecycleStatus
from integrations.documents.document import IntegrationDocument, SocialMediaIntegration
from integrations.documents.ref import IntegrationRef
from integrations.social import SERVICES, AccountOut, CommentOut, MetricOut, PostOut
from integrations.sync.jobs import trigger_sync
from integrations.sync.runs import SyncRun
from shared.errors import Conflict, FieldError, NotFound, ValidationFailed

router = api_router(prefix="/api/v1/tenants/{tenant_id}/integrations/{integration_id}/social", tags=["social media"])
KEY = r"^[A-Za-z0-9._:-]{1,64}$"
ACCOUNT = r"^[0-9]{1,30}$"
COMMENT = r"^[0-9_]{1,64}$"
MAX_INSIGHT_DAYS = 93  # Graph's page insights span at most 93 days a request
SOCIAL: Responses = {
    409: {**P, "description": "Not an active social-media integration with this capability on, or a page not selected."},
    502: {**P, "description": "The provider refused or failed (its error code and message in the detail)."},
}
PostKey = Annotated[str, Path(pattern=KEY, description="The post's key (the platform's id for it).")]


class AccountsIn(Body):
    account_ids: list[Annotated[str, StringConstraints(pattern=ACCOUNT)]] = Field(
        min_length=1, max_length=50, description="The pages to keep (replaces the selection)."
    )


class PostIn(Body):
    key: Annotated[str, StringConstraints(pattern=KEY)] = Field(
        description="One post per key: the same key again answers it."
    )
    account_id: Annotated[str, StringConstraints(pattern=ACCOUNT)] = Field(description="A selected page.")
    message: Annotated[str, StringConstraints(min_length=1, max_length=5000)]
    link: AnyHttpUrl | None = None
    image_url: AnyHttpUrl | None = Field(None, description="A public HTTPS image: posted as a photo with the message.")
    scheduled_at: datetime | None = Field(None, description="Publish later: 10 minutes to 30 days ahead, with a time zone.")

    @field_validator("scheduled_at")
    @classmethod
    def _ahead(cls, v: datetime | None) -> datetime | None:
        if v is None:
            return v
        if v.tzinfo is None:
            raise ValueError("needs a time zone (…Z or …+02:00)")
        ahead = v - datetime.now(UTC)
        if not timedelta(minutes=10) <= ahead <= timedelta(days=30):
            raise ValueError("must be between 10 minutes and 30 days from now")
        return v

    @model_validator(mode="after")
    def _one_attachment(self) -> PostIn:
        if self.link is not None and self.image_url is not None:
            raise ValueError("a post carries a link or an image, not both")
        return self


class ModerationIn(Body):
    action: Literal["hide", "show", "delete"]


def _active(live: LiveAdapters, ref: IntegrationRef, capability: str) -> tuple[Any, Any]:
    _, flag = SERVICES[capability]
    return live.active(ref, family="social_media", flag=flag)


@router.get("/accounts", response_model=list[AccountOut], responses={**COMMON, **SOCIAL})
async def list_social_accounts(ref: Ref, principal: Reader, live: LiveDep, social: SocialDep) -> Any:
    """The pages the authorised user manages, and which are selected (never their tokens)"""

    def ask() -> list[AccountOut]:
        document = live.integrations.get(ref).document
        _connected(document)
        return social.available(document, live.adapter_for(document))  # type: ignore[arg-type]

    return await anyio.to_thread.run_sync(ask)


def _connected(document: IntegrationDocument) -> None:
    if document.family != "social_media":
        raise Conflict(
            f"{document.provider} ({document.family}) is not a social_media integration.", reason="not_social_media"
        )
    if document.status == LifecycleStatus.decommissioned:
        raise Conflict("The integration is decommissioned.", reason="not_active")
    if not document.credentials.oauth_refresh_token_ref:
        raise Conflict("Connect the account first (POST …:oauth:start).", reason="not_connected")


@router.put("/accounts", response_model=list[AccountOut], responses={**WRITE, **SOCIAL})
async def select_social_accounts(
    ref: Ref, principal: Writer, live: LiveDep, social: SocialDep, audit: AuditDep, body: AccountsIn
) -> Any:
    """Select the pages the hub manages (each page's token stored as a secret of its own)"""

    def select() -> list[AccountOut]:
        document = live.integrations.get(ref).document
        _connected(document)
        chosen = social.select(document, live.adapter_for(document), body.account_ids, actor=principal.actor)  # type: ignore[arg-type]
        target = {"integration_id": ref.integration_id, "accounts": ",".join(a.account_id for a in chosen)}
        audit.record(ref.tenant_id, actor=principal.actor, action="social.accounts", target=target)
        return chosen

    return await anyio.to_thread.run_sync(select)


@router.post(
    "/posts",
    status_code=201,
    response_model=PostOut,
    responses={**WRITE, **SOCIAL, 200: {"description": "The post made for this key before.", "model": PostOut}},
)
async def publish_social_post(
    ref: Ref, principal: Writer, live: LiveDep, social: SocialDep, body: PostIn, response: Response
) -> Any:
    """Publish (once per key) a post on a selected page: text, a link or an image, now or scheduled"""
    post = Post(
        message=body.message,
        link=str(body.link) if body.link else None,
        image_url=str(body.image_url) if body.image_url else None,
        scheduled_at=int(body.scheduled_at.timestamp()) if body.scheduled_at else None,
    )

    def publish() -> tuple[PostOut, bool]:
        document, adapter = _active(live, ref, "publish_posts")
        return social.publish(document, adapter, key=body.key, account_id=body.account_id, post=post)

    out, created = await anyio.to_thread.run_sync(publish)
    if not created:
        response.status_code = 200
    return out


@router.get("/posts/{key}", response_model=PostOut, responses=COMMON)
def get_social_post(ref: Ref, key: PostKey, principal: Reader, live: LiveDep, social: SocialDep) -> Any:
    """The post made for a key"""
    found = social.get(live.integrations.get(ref).document, key)
    if found is None:
        raise NotFound(f"No post for {key}.")
    return found


@router.get("/posts/{key}/comments", response_model=list[CommentOut], responses={**COMMON, **SOCIAL})
async def list_social_comments(ref: Ref, key: PostKey, principal: Reader, live: LiveDep, social: SocialDep) -> Any:
    """The comments on the post made for a key (moderation)"""

    def ask() -> list[CommentOut]:
        document, adapter = _active(live, ref, "moderate_comments")
        return social.comments(document, adapter, key)

    return await anyio.to_thread.run_sync(ask)


@router.post("/posts/{key}/comments/{comment_id}", status_code=204, responses={**WRITE, **SOCIAL})
async def moderate_social_comment(
    ref: Ref,
    key: PostKey,
    comment_id: Annotated[str, Path(pattern=COMMENT)],
    principal: Writer,
    live: LiveDep,
    social: SocialDep,
    audit: AuditDep,
    body: ModerationIn,
) -> Response:
    """Hide, show or delete a comment on the post made for a key (audited)"""

    def act() -> None:
        document, adapter = _active(live, ref, "moderate_comments")
        social.moderate(document, adapter, key, comment_id, body.action)
        target = {"integration_id": ref.integration_id, "post": key, "comment_id": comment_id}
        audit.record(ref.tenant_id, actor=principal.actor, action=f"social.comment.{body.action}", target=target)

    await anyio.to_thread.run_sync(act)
    return Response(status_code=204)


@router.get(
    "/accounts/{account_id}/insights",
    response_model=list[MetricOut],
    responses=problems(COMMON, SOCIAL, own={422: "Invalid date range."}),
)
async def get_social_insights(
    ref: Ref,
    account_id: Annotated[str, Path(pattern=ACCOUNT)],
    principal: Reader,
    live: LiveDep,
    social: SocialDep,
    start: Annotated[date, Query(alias="from")],
    end: Annotated[date, Query(alias="to")],
) -> Any:
    """A selected page's daily insights (impressions, engagements, fans) over a date range"""
    if end < start or (end - start).days >= MAX_INSIGHT_DAYS:
        raise ValidationFailed(
            "Invalid date range.", [FieldError("query:to", f"must be on or after from, within {MAX_INSIGHT_DAYS} days")]
        )

    def ask() -> list[MetricOut]:
        document, adapter = _active(live, ref, "page_insights")
        return social.insights(document, adapter, account_id, start, end)

    return await anyio.to_thread.run_sync(ask)


class QueuedPostIn(Body):
    key: Annotated[str, StringConstraints(pattern=KEY)] = Field(description="The federation event's (or result's) key.")
    account_id: Annotated[str, StringConstraints(pattern=ACCOUNT)] = Field(description="A selected page or account.")
    message: Annotated[str, StringConstraints(min_length=1, max_length=5000)]
    link: AnyHttpUrl | None = None
    image_url: AnyHttpUrl | None = None


class QueuedPosts(Body):
    posts: list[QueuedPostIn] = Field(min_length=1, max_length=100)


@router.post("/outbox", status_code=202, response_model=SyncRun, responses=STATEFUL_WRITE)
def queue_social_posts(
    ref: Ref, principal: Runner, intake: IntakeDep, sync: SyncDep, adapters: AdaptersDep, body: QueuedPosts
) -> Any:
    """Hand posts for federation events to the hub: published once each by an auto_publish_posts run"""
    document = intake.open(SocialMediaIntegration, ref, "social_post", "/posts", "publishes no posts automatically")
    selected = {a.account_id for a in document.config.accounts}
    adapter = adapters(document)
    problems = [
        problem
        for i, p in enumerate(body.posts)
        for problem in (
            [FieldError(f"/posts/{i}/account_id", "not a selected account (PUT …/social/accounts)")]
            if p.account_id not in selected
            else []
        )
        + adapter.check_post(post_of(p.model_dump(mode="json")), f"/posts/{i}")  # type: ignore[attr-defined]
    ]
    if problems:
        raise ValidationFailed("Some posts cannot be published here.", problems[:50])
    intake.store(document, "social_post", body.posts)
    return trigger_sync(sync, ref, "auto_publish_posts", trigger="manual")
