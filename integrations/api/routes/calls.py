"""Outbound calls: a provider call the platform asks for and does not wait for (a relayed message now; social
posts, ADAMS notifications and insurance enrolments as their adapters arrive), run once by the outbound-calls
queue function, its result recorded, a failed one replayable (`integrations/calls/`).

| operationId        | method | path                                                   |
|--------------------|--------|--------------------------------------------------------|
| requestCall        | POST   | …/integrations/{id}/calls                              |
| listCalls          | GET    | …/integrations/{id}/calls?status=failed                |
| getCall            | GET    | …/integrations/{id}/calls/{key}                        |
| replayCall         | POST   | …/integrations/{id}/calls/{key}:replay                 |
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Query, Response
from pydantic import Field, StringConstraints

from integrations.api.body import Body
from integrations.api.deps import CallRunnerDep, Reader, Ref, Runner
from integrations.api.paging import Page
from integrations.api.problems import COMMON, PAGED, WRITE, problems
from integrations.api.routing import api_router
from integrations.calls.operations import CALLS
from integrations.calls.store import CallStatus, OutboundCall

router = api_router(prefix="/api/v1/tenants/{tenant_id}/integrations/{integration_id}", tags=["calls"])
KEY_PATTERN = r"^[A-Za-z0-9._:-]{1,80}$"
CallKey = Annotated[str, Path(pattern=KEY_PATTERN, description="The caller's key for the call.")]


class CallIn(Body):
    key: Annotated[str, StringConstraints(pattern=KEY_PATTERN)] = Field(
        description="Your id for this call: repeating the request with it is safe (the call runs once)."
    )
    operation: str = Field(max_length=80, description=f"One of {sorted(CALLS)} (as the provider and flags allow).")
    args: dict[str, Any] = Field(default_factory=dict, description="The operation's arguments.")


class CallPage(Page[OutboundCall]): ...


@router.post(
    "/calls",
    status_code=202,
    response_model=OutboundCall,
    responses=problems(
        WRITE,
        own={
            200: {"description": "The same key was accepted before: that call, as it stands.", "model": OutboundCall},
            409: "The key was used for another call, or the integration is not active.",
        },
    ),
)
def request_call(ref: Ref, principal: Runner, runner: CallRunnerDep, body: CallIn, response: Response) -> Any:
    """Ask for a provider call without waiting for it (queued, run once, its result kept)"""
    call, new = runner.request(ref, body.key, body.operation, body.args)
    response.headers["Location"] = f"/api/v1/tenants/{ref.tenant_id}/integrations/{ref.integration_id}/calls/{call.key}"
    if not new:
        response.status_code = 200
    return call


@router.get("/calls", response_model=CallPage, responses=PAGED)
def list_calls(
    ref: Ref,
    principal: Reader,
    runner: CallRunnerDep,
    status: Annotated[CallStatus | None, Query(description="Only calls in this state.")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    continuation: Annotated[str | None, Query(max_length=2000)] = None,
) -> Any:
    """Calls made through this integration, with their outcome (status=failed: the dead letters)"""
    runner.integrations.get(ref)
    items, nxt = runner.calls.list(ref, status=status, size=limit, continuation=continuation)
    return CallPage(items=items, next=nxt)


@router.get("/calls/{key}", response_model=OutboundCall, responses=COMMON)
def get_call(ref: Ref, key: CallKey, principal: Reader, runner: CallRunnerDep) -> Any:
    """One call: queued, running, succeeded (with the provider's result) or failed (with why)"""
    runner.integrations.get(ref)
    return runner.calls.get(ref, key)[0]


@router.post(
    "/calls/{key}:replay",
    status_code=202,
    response_model=OutboundCall,
    responses=problems(WRITE, own={409: "The call is not failed, or a replay of it is under way."}),
)
def replay_call(ref: Ref, key: CallKey, principal: Runner, runner: CallRunnerDep) -> Any:
    """Run a failed call again (once: a second replay is a 409)"""
    return runner.replay(ref, key)
