"""Messages for a messaging integration (seed 004): queued in the outbox and sent once each by a send_messages
run, on the channels the integration's capabilities allow."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path
from pydantic import BaseModel, Field

from canonical.messages import Message
from integrations.api.body import Body
from integrations.api.deps import IntakeDep, Reader, Ref, Runner, SyncDep
from integrations.api.problems import COMMON, STATEFUL_WRITE
from integrations.api.routing import api_router
from integrations.documents.document import MessagingIntegration
from integrations.sync.jobs import trigger_sync
from integrations.sync.runs import SyncRun
from shared.errors import FieldError, ValidationFailed

router = api_router(prefix="/api/v1/tenants/{tenant_id}/integrations/{integration_id}", tags=["records"])
MessageKey = Annotated[str, Path(pattern=r"^[A-Za-z0-9._:-]{1,80}$", description="The platform's message id.")]


class MessageBatch(Body):
    messages: list[Message] = Field(min_length=1, max_length=500)


@router.post("/messages", status_code=202, response_model=SyncRun, responses=STATEFUL_WRITE)
def send_messages(ref: Ref, principal: Runner, intake: IntakeDep, sync: SyncDep, body: MessageBatch) -> Any:
    """Send SMS/WhatsApp messages (queued; delivered once each by a send_messages run)"""
    document = intake.open(MessagingIntegration, ref, "message", "/messages", "sends no messages")
    off = [
        FieldError(f"/messages/{i}/channel", f"the {m.channel} capability is off for this integration")
        for i, m in enumerate(body.messages)
        if not getattr(document.capabilities, m.channel)
    ]
    if off:
        raise ValidationFailed("Some messages use a channel this integration does not send on.", off[:50])
    for m in body.messages:
        intake.outbox.put(ref, "message", m.key, m.model_dump(mode="json"))
    return trigger_sync(sync, ref, "send_messages", trigger="manual")


class MessageStatus(BaseModel):
    key: str
    state: str = Field(description="The outbox state: pending, synced (sent to Twilio) or failed.")
    provider_message_id: str | None = Field(None, description="Twilio's message SID, once sent.")
    delivery_status: str | None = Field(
        None, description="Twilio's latest word from its status callbacks: sent, delivered, undelivered, failed…"
    )
    attempts: int
    last_error: str = ""


@router.get("/messages/{key}", response_model=MessageStatus, responses=COMMON)
def get_message(ref: Ref, key: MessageKey, principal: Reader, intake: IntakeDep) -> Any:
    """A message: sent yet, and what Twilio's status callbacks said about its delivery"""
    intake.integrations.get(ref)
    record = intake.outbox.get(ref, "message", key)
    return MessageStatus(
        key=record.key,
        state=record.state,
        provider_message_id=record.external_id,
        delivery_status=intake.outbox.provider_status(ref, "message", key),
        attempts=record.attempts,
        last_error=record.last_error,
    )
