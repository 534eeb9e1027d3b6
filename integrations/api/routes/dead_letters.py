"""Dead letters of an integration's sync jobs: list what failed every attempt (with each attempt's error),
replay one as a new run. The same rows hold other queue functions' failures (the webhooks issue adds
deliveries); this router serves the sync jobs'."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Query
from pydantic import BaseModel

from integrations.api.deps import DeadLettersDep, IntegrationsDep, Reader, Ref, Runner, SyncDep
from integrations.api.problems import COMMON, WRITE
from integrations.api.routing import api_router
from integrations.dead_letters import DeadLetter, LetterStatus
from integrations.sync.jobs import trigger_sync

router = api_router(prefix="/api/v1/tenants/{tenant_id}/integrations/{integration_id}", tags=["syncs"])
MessageId = Annotated[str, Path(pattern=r"^[A-Za-z0-9-]{1,64}$", description="The failed queue message's id.")]
KIND = "sync_jobs"


class DeadLetterPage(BaseModel):
    items: list[DeadLetter]


@router.get("/syncs/dead-letters", response_model=DeadLetterPage, responses=COMMON)
def list_sync_dead_letters(
    ref: Ref,
    principal: Reader,
    dead_letters: DeadLettersDep,
    integrations: IntegrationsDep,
    status: Annotated[LetterStatus | None, Query(description="Only letters in this state (default: all).")] = None,
) -> Any:
    """Sync jobs that failed every attempt (or are failing), with each attempt's error"""
    integrations.get(ref)
    return DeadLetterPage(items=dead_letters.list(ref, kind=KIND, status=status))


@router.post("/syncs/dead-letters/{message_id}:replay", response_model=DeadLetter, responses=WRITE)
def replay_sync_dead_letter(
    ref: Ref,
    message_id: MessageId,
    principal: Runner,
    dead_letters: DeadLettersDep,
    integrations: IntegrationsDep,
    sync: SyncDep,
) -> Any:
    """Replay a dead sync job as a new run (once: a second replay is a 409)"""
    integrations.get(ref)

    def new_run(letter: DeadLetter) -> str:
        return trigger_sync(sync, ref, str(letter.message["operation"]), trigger="replay").id

    return dead_letters.replay(ref, kind=KIND, message_id=message_id, action=new_run)
