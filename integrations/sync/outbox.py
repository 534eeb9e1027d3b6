"""The outbox: records the platform hands the hub to deliver to a provider (invoices for Fortnox…).

One row per record and integration: PartitionKey `<tenant>|<integration>`, RowKey `<kind>|<key>`.
The row's state is the sync checkpoint: pending → inflight (outcome unknown) → synced (with the
provider's id) or failed (retried next run). A replayed or resumed job therefore never re-creates a
synced record, and looks up an inflight one at the provider before creating it again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from shared.errors import Conflict, NotFound, PreconditionFailed
from shared.tables import Table


class RecordState(StrEnum):
    pending = "pending"
    inflight = "inflight"
    synced = "synced"
    failed = "failed"


CONTENDED_TRIES = 8


@dataclass(frozen=True)
class OutboxRecord:
    kind: str
    key: str
    payload: dict[str, Any]
    state: RecordState
    external_id: str | None
    attempts: int
    last_error: str
    etag: str = ""  # the row's version when read: conditional marks never overwrite a newer payload


def _digest(payload: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


class Outbox:
    def __init__(self, table: Table, *, now: Callable[[], datetime]) -> None:
        self._table = table
        self._now = now

    @staticmethod
    def partition(tenant_id: str, integration_id: str) -> str:
        return f"{tenant_id}|{integration_id}"

    def put(
        self, tenant_id: str, integration_id: str, kind: str, key: str, payload: dict[str, Any], *, updatable: bool = False
    ) -> str:
        """Add a record; the same key again is accepted (idempotent) unless its content changed after sync.
        `updatable` records (members: state, not events) take a new version at any time; it keeps the
        provider's id and is delivered by the next run (a run holding the old version marks it conditionally,
        so the new one stays pending)."""
        pk, rk = self.partition(tenant_id, integration_id), f"{kind}|{key}"
        digest = _digest(payload)
        entity = {
            "PartitionKey": pk,
            "RowKey": rk,
            "Payload": json.dumps(payload),
            "Digest": digest,
            "State": RecordState.pending.value,
            "ExternalId": "",
            "Attempts": 0,
            "LastError": "",
            "UpdatedAt": self._now(),
        }
        # Same-key writers race here (a client retrying while its first POST is still running, two platform
        # workers): a lost ETag race is not the client's precondition, so read again and decide again; only
        # after CONTENDED_TRIES losses is it a 409 the client may retry.
        for _ in range(CONTENDED_TRIES):
            try:
                self._table.insert(entity)
                return "created"
            except Conflict:
                pass
            found = self._table.find(pk, rk)
            if found is None:
                continue  # deleted in between: insert again
            current, etag = found
            if current["Digest"] == digest:
                return "unchanged"
            if not updatable and current["State"] in (RecordState.synced.value, RecordState.inflight.value):
                raise Conflict(
                    f"{kind} {key} was already delivered; changes to delivered records need an update "
                    f"operation, not a new push."
                ) from None
            keep = {"ExternalId": current.get("ExternalId", "")} if updatable else {}
            try:
                self._table.replace({**entity, **keep}, etag=etag)
                return "replaced"
            except (PreconditionFailed, NotFound):
                continue
        raise Conflict(f"{kind} {key} is being written by other requests at the same moment; retry.", reason="contended")

    def due(self, tenant_id: str, integration_id: str, kind: str, *, max_attempts: int) -> Iterator[OutboxRecord]:
        for e, etag in self._table.query_versioned(
            "PartitionKey eq @pk and RowKey ge @lo and RowKey lt @hi and State ne 'synced'",
            parameters={"pk": self.partition(tenant_id, integration_id), "lo": f"{kind}|", "hi": f"{kind}|~"},
        ):
            record = self._record(e, etag)
            if record.attempts < max_attempts:
                yield record

    def _record(self, e: dict[str, Any], etag: str = "") -> OutboxRecord:
        kind, key = e["RowKey"].split("|", 1)
        return OutboxRecord(
            kind,
            key,
            json.loads(e["Payload"]),
            RecordState(e["State"]),
            e["ExternalId"] or None,
            int(e["Attempts"]),
            e["LastError"],
            etag,
        )

    def mark_if_unchanged(
        self,
        tenant_id: str,
        integration_id: str,
        record: OutboxRecord,
        state: RecordState,
        *,
        external_id: str | None = None,
        error: str = "",
        attempt: bool = False,
    ) -> OutboxRecord | None:
        """Conditional mark against the version the job read; None when the platform sent a newer version
        meanwhile (that version stays pending for the next run)."""
        entity = self._outcome(self.partition(tenant_id, integration_id), record, state, external_id, error, attempt)
        try:
            etag = self._table.merge(entity, etag=record.etag)
        except PreconditionFailed:
            return None
        return OutboxRecord(
            record.kind,
            record.key,
            record.payload,
            state,
            external_id or record.external_id,
            entity.get("Attempts", record.attempts),
            error,
            etag,
        )

    def mark_many(
        self,
        tenant_id: str,
        integration_id: str,
        changes: list[tuple[OutboxRecord, RecordState, str | None, str]],
        *,
        attempt: bool = False,
    ) -> None:
        """Record many outcomes in one transaction. Safe without ETags: the sync lease makes the job the only
        writer of its records while it runs."""
        pk = self.partition(tenant_id, integration_id)
        self._table.merge_many(
            [self._outcome(pk, record, state, external_id, error, attempt) for record, state, external_id, error in changes]
        )

    def _outcome(
        self, pk: str, record: OutboxRecord, state: RecordState, external_id: str | None, error: str, attempt: bool
    ) -> dict[str, Any]:
        """The columns a delivery outcome changes (a MERGE leaves payload and digest alone)."""
        entity: dict[str, Any] = {
            "PartitionKey": pk,
            "RowKey": f"{record.kind}|{record.key}",
            "State": state.value,
            "UpdatedAt": self._now(),
            "LastError": error[:1000],
        }
        if external_id:
            entity["ExternalId"] = external_id
        if attempt:
            entity["Attempts"] = record.attempts + 1
        return entity

    def set_external_id(self, tenant_id: str, integration_id: str, kind: str, key: str, external_id: str) -> None:
        """Record the provider's id on whatever version the row now holds (only deliveries write this column)."""
        self._table.merge_many(
            [
                {
                    "PartitionKey": self.partition(tenant_id, integration_id),
                    "RowKey": f"{kind}|{key}",
                    "ExternalId": external_id,
                }
            ]
        )

    def requeue(self, tenant_id: str, integration_id: str, kind: str, key: str) -> bool:
        """Deliver a synced record's last version again (e.g. to restore fields the provider must not own)."""
        found = self._table.find(self.partition(tenant_id, integration_id), f"{kind}|{key}")
        if not found or found[0]["State"] != RecordState.synced.value:
            return False
        entity, etag = found
        try:
            self._table.merge(
                {**{k: entity[k] for k in ("PartitionKey", "RowKey")}, "State": RecordState.pending.value}, etag=etag
            )
        except PreconditionFailed:
            return False  # a newer version arrived: it is pending already
        return True

    def counts(self, tenant_id: str, integration_id: str) -> dict[str, int]:
        out = {s.value: 0 for s in RecordState}
        for e in self._table.query("PartitionKey eq @pk", parameters={"pk": self.partition(tenant_id, integration_id)}):
            out[e["State"]] += 1
        return out

    def get(self, tenant_id: str, integration_id: str, kind: str, key: str) -> OutboxRecord:
        try:
            e, _ = self._table.get(self.partition(tenant_id, integration_id), f"{kind}|{key}")
        except NotFound:
            raise NotFound(f"No {kind} {key} in the outbox.") from None
        return self._record(e)
