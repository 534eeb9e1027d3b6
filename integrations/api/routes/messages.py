"""Messages for a messaging integration (seed 004): queued in the outbox and sent once each by a send_messages
run, on the channels the integration's capabilities allow."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from integrations.api.deps import IntakeDep, IntegrationId, Runner, SyncDep, TenantId
from integrations.api.problems import CONDITIONAL, WRITE
from integrations.sync.jobs import trigger_sync
from integrations.sync.runs import SyncRun
from shared.errors import FieldError, ValidationFailed

router = APIRouter(prefix="/api/v1/tenants/{tenant_id}/integrations/{integration_id}", tags=["records"])


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._:-]{1,80}$")] = Field(
        description="The platform's message id: a repeat is not sent twice."
    )
    to: Annotated[str, StringConstraints(pattern=r"^\+[1-9][0-9]{6,14}$")] = Field(description="E.164 number.")
    body: Annotated[str, StringConstraints(min_length=1, max_length=1600)]
    channel: Literal["sms", "whatsapp"] = "sms"


class MessageBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    messages: list[MessageIn] = Field(min_length=1, max_length=500)


@router.post(
    "/messages",
    status_code=202,
    operation_id="sendMessages",
    summary="Send SMS/WhatsApp messages (queued; delivered once each by a send_messages run)",
    response_model=SyncRun,
    responses={**WRITE, 409: CONDITIONAL[409]},
)
def send_messages(
    tenant_id: TenantId,
    integration_id: IntegrationId,
    principal: Runner,
    intake: IntakeDep,
    sync: SyncDep,
    body: MessageBatch,
) -> Any:
    document = intake.open(tenant_id, integration_id, "message", "/messages", "sends no messages")
    off = [
        FieldError(f"/messages/{i}/channel", f"the {m.channel} capability is off for this integration")
        for i, m in enumerate(body.messages)
        if not getattr(document.capabilities, m.channel)
    ]
    if off:
        raise ValidationFailed("Some messages use a channel this integration does not send on.", off[:50])
    for m in body.messages:
        intake.outbox.put(tenant_id, integration_id, "message", m.key, m.model_dump(mode="json"))
    return trigger_sync(sync, tenant_id, integration_id, "send_messages", trigger="manual")
