"""Broadcasts for federation events on a streaming integration (YouTube Live): created once per key, bound to
the integration's reusable live stream; the answer carries the RTMP ingestion address and a masked stream key —
the key itself stays a secret (credentials/stream_key_ref), never in a response or a log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import anyio
from fastapi import Path, Response
from pydantic import Field, StringConstraints, field_validator

from integrations.api.body import Body
from integrations.api.deps import BroadcastsDep, IntegrationsDep, LiveDep, Reader, Ref, Writer
from integrations.api.problems import COMMON, WRITE, problems
from integrations.api.routing import api_router
from integrations.streaming import SERVICES, BroadcastOut
from shared.errors import NotFound

router = api_router(prefix="/api/v1/tenants/{tenant_id}/integrations/{integration_id}/streaming", tags=["streaming"])
KEY = r"^[A-Za-z0-9._:-]{1,64}$"


class BroadcastIn(Body):
    key: Annotated[str, StringConstraints(pattern=KEY)] = Field(
        description="The federation event's key: one broadcast per key."
    )
    title: Annotated[str, StringConstraints(min_length=1, max_length=100)] = Field(examples=["SM i boule 2027 — final"])
    scheduled_start: datetime = Field(description="When the stream starts (with a time zone).")
    privacy: Literal["public", "unlisted", "private"] = "public"

    @field_validator("scheduled_start")
    @classmethod
    def _aware(cls, v: datetime) -> datetime:
        if v.tzinfo is None:
            raise ValueError("needs a time zone (…Z or …+02:00)")
        return v


@router.post(
    "/broadcasts",
    status_code=201,
    response_model=BroadcastOut,
    responses=problems(
        WRITE,
        own={
            200: {"description": "The broadcast made for this key before.", "model": BroadcastOut},
            409: "Not an active streaming integration with channel_management on.",
            502: "The provider refused or failed (quota included).",
        },
    ),
)
async def create_broadcast(
    ref: Ref, principal: Writer, broadcasts: BroadcastsDep, live: LiveDep, body: BroadcastIn, response: Response
) -> Any:
    """Create (once per key) a broadcast for a federation event, bound to the integration's live stream"""
    _, flag = SERVICES["create_broadcast"]

    def create() -> tuple[BroadcastOut, bool]:
        document, adapter = live.active(ref, family="streaming", flag=flag)
        start = body.scheduled_start.isoformat().replace("+00:00", "Z")
        return broadcasts.create(
            document, adapter, key=body.key, title=body.title, scheduled_start=start, privacy=body.privacy
        )

    out, created = await anyio.to_thread.run_sync(create)
    if not created:
        response.status_code = 200
    return out


@router.get("/broadcasts/{key}", response_model=BroadcastOut, responses=COMMON)
def get_broadcast(
    ref: Ref,
    principal: Reader,
    broadcasts: BroadcastsDep,
    integrations: IntegrationsDep,
    key: Annotated[str, Path(pattern=KEY)],
) -> Any:
    """The broadcast made for a federation event"""
    document = integrations.get(ref).document
    found = broadcasts.get(document, key)
    if found is None:
        raise NotFound(f"No broadcast for {key}.")
    return found
