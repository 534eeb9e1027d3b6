"""Outbound calls: one row per provider call the platform asked for off the request path, and its outcome.

The caller names the call (`key`, like an idempotency key): the same key with the same operation and arguments
is the same call (accepted once, run once); with different ones it is a 409. A call moves queued → running
(an attempt started: its outcome is unknown until it ends) → succeeded (with the provider's result) or failed
(with its error: permanent at once, transient after the queue's last attempt). A failed call is a dead letter
the API lists; a replay claims it back to queued (ETag-checked: two replays make one).

Rows: `PartitionKey = <tenant>|<integration>`, `RowKey = <key>`; the call as JSON in `Meta`, its status also in
`Status` (so a status filter is a property filter, not a scan of JSON).
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from integrations.documents.ref import IntegrationRef, OfIntegration
from shared.errors import Conflict, NotFound, PreconditionFailed
from shared.redaction import REDACTOR
from shared.rows import ClockedStore, Row, in_partition
from shared.tables import until_written

ERROR_LIMIT = 500


class CallStatus(StrEnum):
    queued = "queued"
    running = "running"  # an attempt started; if it crashed, the next one looks the call up before repeating it
    succeeded = "succeeded"
    failed = "failed"  # permanent, or the queue's attempts are spent: a dead letter until replayed


class OutboundCall(BaseModel, OfIntegration):
    key: str = Field(description="The caller's name for the call: the same key is the same call.")
    tenant_id: str
    integration_id: str
    operation: str
    args: dict[str, Any] = Field(description="The operation's arguments, as accepted.")
    digest: str = Field(description="Hash of operation and arguments: a reused key must match it.")
    status: CallStatus
    created_at: datetime
    updated_at: datetime
    attempts: int = 0
    result: dict[str, Any] | None = Field(None, description="What the provider answered (its ids), once succeeded.")
    last_error: str | None = Field(None, description="Why the last attempt failed (redacted, bounded).")
    replays: int = 0


class CallRow(Row):
    status: CallStatus = Field(alias="Status")
    meta: str = Field(alias="Meta")

    @classmethod
    def of(cls, call: OutboundCall) -> CallRow:
        return cls(partition=call.ref.partition, row=call.key, status=call.status, meta=call.model_dump_json())

    def call(self) -> OutboundCall:
        return OutboundCall.model_validate_json(self.meta)


def call_digest(operation: str, args: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps([operation, args], sort_keys=True).encode()).hexdigest()[:32]


class OutboundCalls(ClockedStore[CallRow]):
    row_type = CallRow

    def add(self, ref: IntegrationRef, key: str, operation: str, args: dict[str, Any]) -> tuple[OutboundCall, bool]:
        """(the call, whether it is new). A key already used for another operation or other arguments is a 409."""
        now = self._now()
        call = OutboundCall(
            key=key,
            tenant_id=ref.tenant_id,
            integration_id=ref.integration_id,
            operation=operation,
            args=args,
            digest=call_digest(operation, args),
            status=CallStatus.queued,
            created_at=now,
            updated_at=now,
        )
        try:
            self._rows.insert(CallRow.of(call))
            return call, True
        except Conflict:
            existing, _ = self.get(ref, key)
        if existing.digest != call.digest:
            raise Conflict(
                f"Call {key} was already made with another operation or other arguments; use a new key.",
                reason="key_reused",
            )
        return existing, False

    def get(self, ref: IntegrationRef, key: str) -> tuple[OutboundCall, str]:
        found = self._rows.find(ref.partition, key)
        if found is None:
            raise NotFound(f"No call {key} on this integration.")
        row, etag = found
        return row.call(), etag

    def save(self, call: OutboundCall, etag: str) -> str:
        """One writer per transition: a stale ETag is a PreconditionFailed the caller decides about."""
        call.updated_at = self._now()
        return self._rows.replace(CallRow.of(call), etag=etag)

    def attempt_failed(self, ref: IntegrationRef, key: str, error: BaseException, *, final: bool) -> OutboundCall:
        def record() -> OutboundCall:
            call, etag = self.get(ref, key)
            if call.status in (CallStatus.succeeded, CallStatus.failed):
                return call  # another attempt settled it meanwhile
            call.last_error = REDACTOR.error(error, ERROR_LIMIT)
            call.status = CallStatus.failed if final else CallStatus.running
            self.save(call, etag)
            return call

        return until_written(f"call {key}", record)

    def list(
        self, ref: IntegrationRef, *, status: CallStatus | None, size: int, continuation: str | None
    ) -> tuple[list[OutboundCall], str | None]:
        flt, params = in_partition(ref.partition, status=status and status.value)
        rows, continuation = self._rows.page(flt, parameters=params, size=size, continuation=continuation)
        return [row.call() for row in rows], continuation

    def claim_replay(self, ref: IntegrationRef, key: str) -> OutboundCall:
        """A failed call back to `queued`, to be enqueued again. Anything else is a 409."""
        call, etag = self.get(ref, key)
        if call.status != CallStatus.failed:
            raise Conflict(f"Call {key} is {call.status}; only failed calls are replayed.", reason="not_failed")
        call.status, call.attempts, call.replays = CallStatus.queued, 0, call.replays + 1
        try:
            self.save(call, etag)
        except PreconditionFailed:
            raise Conflict(f"Call {key} is being replayed already.", reason="replaying") from None
        return call
