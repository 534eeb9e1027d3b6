"""Outbound calls, end to end: accepted by the API (`request`), run once by the outbound-calls queue function
(`process`), replayed after a failure (`replay`).

At least once, like every queue: the same message may arrive twice (a caller repeating its POST while the call
is queued re-sends it, which also heals a crash between the row and the message), so each call runs under a
lease and a settled call is a duplicate. An attempt marks the call `running` before it calls the provider; the
next attempt of a call left `running` (a crash, a lost answer) looks it up first when the provider has no
idempotency key (the operation's `find`). A permanent failure (the provider refused: bad number, revoked
credentials) fails the call at once; a transient one is retried with the queue's semantics and fails the call
on the last attempt. Every settled call is a CloudEvent (`call.succeeded` / `call.failed`) to the platform's
feed and the tenant's endpoints.

Provider validation and payment creation stay synchronous on purpose: a person is waiting for their answer
(a checkout URL, whether the credentials work), and both are single bounded calls.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from adapters.base import Adapter
from adapters.catalog import Catalog
from integrations.calls.operations import CALLS, CallOperation
from integrations.calls.store import CallStatus, OutboundCall, OutboundCalls
from integrations.documents.common import LifecycleStatus
from integrations.documents.document import IntegrationDocument
from integrations.documents.ref import IntegrationRef
from integrations.events import cloud_event
from integrations.repository import IntegrationRepository
from integrations.service import field_errors
from shared.errors import Conflict, FieldError, HubError, NotFound, ProviderError, ValidationFailed
from shared.leases import Leases
from shared.queues import Queues

log = logging.getLogger("hub.calls")
EXCLUSIVE_S = 120.0  # one call's attempt: a single provider request with the outbound client's retries


class CallMessage(BaseModel):
    """The outbound-calls queue contract."""

    model_config = ConfigDict(extra="ignore")  # traceparent rides along
    tenant_id: str = Field(min_length=1, max_length=64)
    integration_id: str = Field(min_length=1, max_length=64)
    key: str = Field(min_length=1, max_length=80)


def permanent(error: BaseException) -> bool:
    """A failure no retry can fix (the provider refused the request, or our own check did)."""
    if isinstance(error, ProviderError):
        return not error.retriable
    return isinstance(error, HubError) and 400 <= error.status < 500


@dataclass(frozen=True)
class CallRunner:
    calls: OutboundCalls
    integrations: IntegrationRepository
    catalog: Catalog
    leases: Leases
    queues: Queues
    queue: str
    adapter_for: Callable[[Any], Adapter[Any]]
    publish: Callable[[dict[str, Any]], None]
    max_attempts: int

    # --- the API's side -------------------------------------------------------------------------------------
    def request(self, ref: IntegrationRef, key: str, operation: str, args: dict[str, Any]) -> tuple[OutboundCall, bool]:
        """Accept a call (checked now, so the caller hears about a bad one) and queue it; the same key again is
        the same call."""
        document = self.integrations.get(ref).document
        op = self._offered(document, operation)
        try:
            accepted = op.args.model_validate(args)
        except ValidationError as exc:
            errors = [FieldError("/args" + e.pointer, e.message) for e in field_errors(exc)]
            raise ValidationFailed(f"The arguments of {operation} are invalid.", errors) from None
        if document.status != LifecycleStatus.active:
            raise Conflict(
                f"The integration is {document.status}; calls run only on active integrations.", reason="not_active"
            )
        call, new = self.calls.add(ref, key, operation, accepted.model_dump(mode="json"))
        if new or call.status == CallStatus.queued:
            self._enqueue(call)
        return call, new

    def _offered(self, document: IntegrationDocument, operation: str) -> CallOperation:
        capabilities = self.catalog.get(document.provider).capabilities
        op = CALLS.get(operation)
        if op is None or not op.offered_to(document, capabilities):
            here = [name for name, o in CALLS.items() if o.offered_to(document, capabilities)]
            raise ValidationFailed(
                "This integration does not make that call.",
                [FieldError("/operation", f"{document.provider} makes {here or 'no calls'} here (capability flags apply)")],
            )
        return op

    def replay(self, ref: IntegrationRef, key: str) -> OutboundCall:
        self.integrations.get(ref)
        call = self.calls.claim_replay(ref, key)
        self._enqueue(call)
        return call

    def _enqueue(self, call: OutboundCall) -> None:
        message = CallMessage(tenant_id=call.tenant_id, integration_id=call.integration_id, key=call.key)
        self.queues.send(self.queue, message.model_dump())

    # --- the queue function's side --------------------------------------------------------------------------
    def process(self, body: bytes, *, dequeue_count: int) -> str:
        message = CallMessage.model_validate_json(body)
        ref, key = IntegrationRef(message.tenant_id, message.integration_id), message.key
        with self.leases.held(ref.lease("call", key), ttl_s=EXCLUSIVE_S, wait_s=EXCLUSIVE_S):
            call, etag = self.calls.get(ref, key)
            if call.status in (CallStatus.succeeded, CallStatus.failed):
                return f"duplicate: already {call.status}"
            try:
                return self._attempt(call, etag)
            except Exception as exc:
                final = permanent(exc) or dequeue_count >= self.max_attempts
                failed = self.calls.attempt_failed(ref, key, exc, final=final)
                if failed.status == CallStatus.failed:
                    self._settled(failed)
                if final:
                    log.warning("call %s on %s failed: %s", key, ref.integration_id, failed.last_error)
                    return f"failed: {failed.last_error}"
                raise  # transient: the queue tries again

    def _attempt(self, call: OutboundCall, etag: str) -> str:
        try:
            document = self.integrations.get(call.ref).document
        except NotFound:
            raise Conflict("The integration is gone.", reason="gone") from None
        if document.status != LifecycleStatus.active:
            raise Conflict(f"The integration is {document.status}; replay the call once it is active.", reason="not_active")
        op = self._offered(document, call.operation)
        args = op.args.model_validate(call.args)
        adapter = self.adapter_for(document)
        result = None
        if call.status == CallStatus.running and op.find is not None:
            result = op.find(adapter, args, call.key)  # an earlier attempt's outcome is unknown: did it happen?
        if result is None:
            call.status, call.attempts = CallStatus.running, call.attempts + 1
            etag = self.calls.save(call, etag)
            result = op.run(adapter, args, call.key)
        call.status, call.result, call.last_error = CallStatus.succeeded, result, None
        self.calls.save(call, etag)
        self._settled(call)
        return "succeeded"

    def _settled(self, call: OutboundCall) -> None:
        self.publish(
            cloud_event(
                f"call.{call.status}",
                id=f"call-{call.integration_id}-{call.key}-{call.replays}-{call.status}",
                ref=call.ref,
                subject=f"calls/{call.key}",
                data={
                    "key": call.key,
                    "operation": call.operation,
                    "status": call.status.value,
                    "result": call.result,
                    "error": call.last_error,
                    "attempts": call.attempts,
                },
            )
        )
