"""The outbox: records the platform hands the hub to deliver to a provider (invoices for Fortnox…).

One row per record and integration: PartitionKey `<tenant>|<integration>`, RowKey `<kind>|<key>`.
The row's state is the sync checkpoint: pending → inflight (outcome unknown) → synced (with the
provider's id) or failed (retried next run). A replayed or resumed job therefore never re-creates a
synced record, and looks up an inflight one at the provider before creating it again.

Records by state are counted in SHARDS rows at the end of the same partition (`~counts|<n>`), changed in
the same entity group transaction as the record they count: the counts never drift, even across a crash,
and reading them is one short range query instead of a scan of every record the integration ever had.
Writers pick a shard at random, so concurrent POSTs to one integration rarely race for one counter row.
"""

from __future__ import annotations

import hashlib
import json
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from functools import partial
from typing import Any

from pydantic import Field

from integrations.documents.ref import IntegrationRef
from shared.errors import Conflict, NotFound, PreconditionFailed
from shared.rows import Row, Rows, in_partition
from shared.tables import Table, Write, until_written


class RecordState(StrEnum):
    pending = "pending"
    inflight = "inflight"
    synced = "synced"
    failed = "failed"


CONTENDED_TRIES = 8
SHARDS = 4
RECENT_S = 2.0  # how old the counter shards a POST starts from may be (its write is conditional on its shard)
_COUNTS = "~counts|"  # sorts after every `<kind>|<key>` row, so range reads of records never see it
TRANSACTION_MAX = 100
DROPPED = "{}"  # a delivered record's payload, once dropped (the digest stays: replays are still recognised)


class CounterRow(Row):
    """A counter shard (`RowKey = ~counts|<n>`): the partition's records by state, one column per state."""

    pending: int = 0
    inflight: int = 0
    synced: int = 0
    failed: int = 0

    def values(self) -> dict[str, int]:
        return {s.value: int(getattr(self, s.value)) for s in RecordState}


class RecordRow(Row):
    """A record (`RowKey = <kind>|<key>`). Every column may be left out: a delivery outcome is a MERGE of the
    columns it changes (payload and digest stay as they are), and a column left None is not written."""

    payload: str | None = Field(None, alias="Payload")
    digest: str | None = Field(None, alias="Digest")
    state: RecordState | None = Field(None, alias="State")
    external_id: str | None = Field(None, alias="ExternalId")
    attempts: int | None = Field(None, alias="Attempts")
    last_error: str | None = Field(None, alias="LastError")
    updated_at: datetime | None = Field(None, alias="UpdatedAt")
    provider_status: str | None = Field(None, alias="ProviderStatus")  # the provider's word after delivery
    provider_reference: str | None = Field(None, alias="ProviderReference")  # from a reconciliation file

    def record(self, etag: str = "") -> OutboxRecord:
        kind, key = self.row.split("|", 1)
        return OutboxRecord(
            kind,
            key,
            json.loads(self.payload or DROPPED),
            RecordState(self.state or RecordState.pending),
            self.external_id or None,
            int(self.attempts or 0),
            self.last_error or "",
            etag,
        )


@dataclass(frozen=True)
class Put:
    outcome: str  # created, unchanged or replaced
    counts: dict[str, int]  # records by state right after this write


class _Counts:
    """The counter shards of each partition. A job (the only writer of its records while it holds the lease)
    reuses the shard row it last wrote, so marking a batch costs no extra read; a lost race reads again."""

    def __init__(self, table: Table, clock: Callable[[], float] = time.monotonic) -> None:
        self._rows = Rows(table, CounterRow)
        self._clock = clock
        # partition → shard row → (values, etag) as this instance last read or wrote it; by partition, so a write
        # touches its own partition's few shards, never a scan of every partition this instance has seen.
        self._seen: dict[str, dict[str, tuple[dict[str, int], str]]] = {}
        self._read_at: dict[str, float] = {}  # when each partition's shards were last read whole
        self._lock = threading.Lock()

    def read(self, pk: str) -> dict[str, tuple[dict[str, int], str]]:
        started = self._clock()
        flt, params = in_partition(pk, row_prefix=_COUNTS)
        rows = self._rows.query_versioned(flt, parameters=params)
        shards = {row.row: (row.values(), etag) for row, etag in rows}
        with self._lock:
            self._seen[pk] = dict(shards)
            self._read_at[pk] = started
            if len(self._read_at) > 10_000:  # bounded: forget the oldest reads (they only save a read)
                for old in sorted(self._read_at, key=self._read_at.__getitem__)[:1000]:
                    self._forget(old)
        return shards

    def recent(self, pk: str) -> dict[str, tuple[dict[str, int], str]]:
        """The shards as this instance last read or wrote them, when it read them whole at most RECENT_S ago;
        else a fresh read. A write based on them is conditional on its own shard, so only the other shards'
        share of the counts it reports may be up to RECENT_S old."""
        with self._lock:
            at = self._read_at.get(pk)
            if at is not None and self._clock() - at < RECENT_S:
                return dict(self._seen.get(pk, {}))
        return self.read(pk)

    def _forget(self, pk: str) -> None:
        self._read_at.pop(pk, None)
        self._seen.pop(pk, None)

    @staticmethod
    def total(shards: dict[str, tuple[dict[str, int], str]], delta: dict[str, int] | None = None) -> dict[str, int]:
        out = {s.value: 0 for s in RecordState}
        for values, _ in shards.values():
            for state, n in values.items():
                out[state] += n
        for state, n in (delta or {}).items():
            out[state] += n
        return out

    def change(self, pk: str, delta: dict[str, int], shards: dict[str, tuple[dict[str, int], str]] | None = None) -> Write:
        """The write adding `delta` to one shard: based on `shards` when just read, else on the row this
        instance last wrote (or a fresh read). A stale base loses the transaction's ETag check: read again."""
        rk = f"{_COUNTS}{random.randrange(SHARDS)}"
        if shards is not None:
            base = shards.get(rk)
        else:
            with self._lock:
                base = self._seen.get(pk, {}).get(rk)
            base = base or self.read(pk).get(rk)
        values, etag = base or ({s.value: 0 for s in RecordState}, None)
        row = CounterRow(partition=pk, row=rk, **{k: values.get(k, 0) + delta.get(k, 0) for k in values})
        entity = row.entity()
        return Write("insert", entity) if etag is None else Write("update", entity, etag=etag, replace=True)

    def written(self, write: Write, etag: str | None) -> None:
        pk, rk = write.entity["PartitionKey"], write.entity["RowKey"]
        with self._lock:
            if etag:
                self._seen.setdefault(pk, {})[rk] = ({s.value: int(write.entity[s.value]) for s in RecordState}, etag)
            else:
                self._seen.get(pk, {}).pop(rk, None)

    def lost(self, write: Write) -> None:
        with self._lock:
            self._forget(write.entity["PartitionKey"])  # the next write reads every shard again


def _delta(before: str | None, after: str) -> dict[str, int]:
    if before == after:
        return {}
    return {after: 1, **({before: -1} if before else {})}


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
    def __init__(self, table: Table, *, now: Callable[[], datetime], clock: Callable[[], float] = time.monotonic) -> None:
        self._table = table
        self._records = Rows(table, RecordRow)
        self._now = now
        self._counts = _Counts(table, clock)

    def put(self, ref: IntegrationRef, kind: str, key: str, payload: dict[str, Any], *, updatable: bool = False) -> Put:
        """Add a record; the same key again is accepted (idempotent) unless its content changed after sync.
        `updatable` records (members: state, not events) take a new version at any time; it keeps the
        provider's id and is delivered by the next run (a run holding the old version marks it conditionally,
        so the new one stays pending)."""
        pk, rk = ref.partition, f"{kind}|{key}"
        digest = _digest(payload)
        entity = RecordRow(
            partition=pk,
            row=rk,
            payload=json.dumps(payload),
            digest=digest,
            state=RecordState.pending,
            external_id="",
            attempts=0,
            last_error="",
            updated_at=self._now(),
        ).entity()
        # Same-key writers race here (a client retrying while its first POST is still running, two platform
        # workers), and writers of other keys race for a counter shard: a lost race is not the client's
        # precondition, so read again and decide again; only after CONTENDED_TRIES losses is it a 409 the client
        # may retry.
        for attempt in range(CONTENDED_TRIES):
            shards = self._counts.recent(pk) if attempt == 0 else self._counts.read(pk)
            new = _delta(None, RecordState.pending.value)
            counted = self._counts.change(pk, new, shards)
            try:
                etags = self._table.transact([Write("insert", entity), counted])
                self._counts.written(counted, etags[1])  # a job marking these next starts from this version
                return Put("created", self._counts.total(shards, new))
            except (Conflict, PreconditionFailed):
                self._counts.lost(counted)  # the record exists, or another writer changed or created our shard
            found = self._records.find(pk, rk)
            if found is None:
                continue  # the race was for the counter shard (or the record was deleted in between)
            current, etag = found
            if current.digest == digest:
                return Put("unchanged", self._counts.total(shards))
            if not updatable and current.state in (RecordState.synced, RecordState.inflight):
                raise Conflict(
                    f"{kind} {key} was already delivered; changes to delivered records need an update "
                    f"operation, not a new push."
                ) from None
            keep = {"ExternalId": current.external_id or ""} if updatable else {}
            moved = _delta(current.state.value if current.state else None, RecordState.pending.value)
            writes = [Write("update", {**entity, **keep}, etag=etag, replace=True)]
            if moved:
                writes.append(self._counts.change(pk, moved, shards))
            try:
                etags = self._table.transact(writes)
                if moved:
                    self._counts.written(writes[1], etags[1])
                return Put("replaced", self._counts.total(shards, moved))
            except (PreconditionFailed, NotFound, Conflict):
                continue
        raise Conflict(f"{kind} {key} is being written by other requests at the same moment; retry.", reason="contended")

    def due(self, ref: IntegrationRef, kind: str, *, max_attempts: int) -> Iterator[OutboxRecord]:
        flt, params = in_partition(ref.partition, row_prefix=f"{kind}|")
        for row, etag in self._records.query_versioned(f"{flt} and State ne 'synced'", parameters=params):
            record = row.record(etag)
            if record.attempts < max_attempts:
                yield record

    def delivered(self, ref: IntegrationRef, kind: str) -> Iterator[OutboxRecord]:
        """Every record of `kind` the provider has (synced): one range read of the integration's partition."""
        flt, params = in_partition(ref.partition, row_prefix=f"{kind}|")
        for row, etag in self._records.query_versioned(f"{flt} and State eq 'synced'", parameters=params):
            yield row.record(etag)

    def mark_if_unchanged(
        self,
        ref: IntegrationRef,
        record: OutboxRecord,
        state: RecordState,
        *,
        external_id: str | None = None,
        error: str = "",
        attempt: bool = False,
        drop_payload: bool = False,
    ) -> OutboxRecord | None:
        """Conditional mark against the version the job read; None when the platform sent a newer version
        meanwhile (that version stays pending for the next run)."""
        pk = ref.partition
        entity = self._outcome(pk, record, state, external_id, error, attempt, drop_payload)
        etags = self._transact_counted(
            pk,
            [Write("update", entity, etag=record.etag)],
            _delta(record.state.value, state.value),
            changed=lambda: self._changed(pk, record),
            contended=f"{record.kind} {record.key}: its counter is contended; the run retries.",
        )
        return None if etags is None else self._as_marked(record, state, external_id, error, attempt, etags[0] or "")

    def _transact_counted(
        self, pk: str, writes: list[Write], moved: dict[str, int], *, changed: Callable[[], bool], contended: str
    ) -> list[str | None] | None:
        """`writes` in one transaction with the counter change `moved`, retried while only the counter shard lost
        a race; None when a record itself moved on (`changed()`: its ETag check failed) and nothing was written."""
        for _ in range(CONTENDED_TRIES):
            counted = self._counts.change(pk, moved) if any(moved.values()) else None
            try:
                etags = self._table.transact([*writes, *([counted] if counted else [])])
            except Conflict:
                if counted is None:
                    raise
                self._counts.lost(counted)  # another writer created our counter shard first: retry on it
                continue
            except PreconditionFailed:
                if counted is not None:
                    self._counts.lost(counted)
                if counted is None or changed():
                    return None
                continue  # only the counter shard moved on: the records are as we read them, retry
            if counted:
                self._counts.written(counted, etags[len(writes)])
            return etags
        raise Conflict(contended, reason="contended")

    def _changed(self, pk: str, record: OutboxRecord) -> bool:
        found = self._table.find(pk, f"{record.kind}|{record.key}")
        return found is None or found[1] != record.etag

    def mark_many(
        self,
        ref: IntegrationRef,
        changes: list[tuple[OutboxRecord, RecordState, str | None, str]],
        *,
        attempt: bool = False,
        drop_payload: bool = False,
    ) -> list[OutboxRecord | None]:
        """Record many outcomes, each chunk in one transaction with its counter change. Each mark holds only if
        the record is still the version the job read (its ETag): a POST may replace a pending record between
        the job's read and its mark, and that version must stay pending, not be marked as delivered. When a
        chunk loses that check, its records are marked one by one and the changed ones are left as they are.
        Returns each record as marked (with its new ETag), or None where a newer version was left pending.
        With `drop_payload`, a record marked synced keeps its digest but not its payload (special-category data
        is kept only until the provider has it; a replay of the same content is still recognised)."""
        pk = ref.partition
        marked: list[OutboxRecord | None] = []
        for i in range(0, len(changes), TRANSACTION_MAX - 1):
            chunk = changes[i : i + TRANSACTION_MAX - 1]
            moved: dict[str, int] = {}
            for record, state, _, _ in chunk:
                for k, n in _delta(record.state.value, state.value).items():
                    moved[k] = moved.get(k, 0) + n
            writes = [
                Write("update", self._outcome(pk, r, st, x, e, attempt, drop_payload), etag=r.etag or None)
                for r, st, x, e in chunk
            ]
            etags = self._transact_counted(
                pk,
                writes,
                moved,
                changed=partial(self._any_changed, pk, chunk),
                contended="outbox counters are contended; the run retries.",
            )
            if etags is None:
                marked += self._one_by_one(ref, chunk, attempt, drop_payload)
                continue
            marked += [
                self._as_marked(record, state, external_id, error, attempt, etag or "")
                for (record, state, external_id, error), etag in zip(chunk, etags, strict=False)
            ]
        return marked

    def _any_changed(self, pk: str, chunk: list[tuple[OutboxRecord, RecordState, str | None, str]]) -> bool:
        return any(r.etag and self._changed(pk, r) for r, _, _, _ in chunk)

    def _one_by_one(
        self,
        ref: IntegrationRef,
        chunk: list[tuple[OutboxRecord, RecordState, str | None, str]],
        attempt: bool,
        drop_payload: bool = False,
    ) -> list[OutboxRecord | None]:
        return [
            self.mark_if_unchanged(ref, r, st, external_id=x, error=e, attempt=attempt, drop_payload=drop_payload)
            for r, st, x, e in chunk
        ]

    @staticmethod
    def _as_marked(
        record: OutboxRecord, state: RecordState, external_id: str | None, error: str, attempt: bool, etag: str
    ) -> OutboxRecord:
        attempts = record.attempts + 1 if attempt else record.attempts
        return replace(
            record,
            state=state,
            external_id=external_id or record.external_id,
            attempts=attempts,
            last_error=error[:1000],
            etag=etag,
        )

    def _outcome(
        self,
        pk: str,
        record: OutboxRecord,
        state: RecordState,
        external_id: str | None,
        error: str,
        attempt: bool,
        drop_payload: bool = False,
    ) -> dict[str, Any]:
        """The columns a delivery outcome changes (a MERGE leaves payload and digest alone)."""
        return RecordRow(
            partition=pk,
            row=f"{record.kind}|{record.key}",
            state=state,
            updated_at=self._now(),
            last_error=error[:1000],
            external_id=external_id or None,
            attempts=record.attempts + 1 if attempt else None,
            payload=DROPPED if drop_payload and state == RecordState.synced else None,
        ).entity()

    def set_external_id(self, ref: IntegrationRef, kind: str, key: str, external_id: str) -> None:
        """Record the provider's id on whatever version the row now holds (only deliveries write this column)."""
        self._table.merge_many([RecordRow(partition=ref.partition, row=f"{kind}|{key}", external_id=external_id).entity()])

    def requeue(self, ref: IntegrationRef, kind: str, key: str) -> bool:
        """Deliver a synced record's last version again (e.g. to restore fields the provider must not own)."""
        pk = ref.partition
        found = self._records.find(pk, f"{kind}|{key}")
        if not found or found[0].state != RecordState.synced:
            return False
        row, etag = found
        record = row.record(etag)
        return self.mark_if_unchanged(ref, record, RecordState.pending) is not None

    def counts(self, ref: IntegrationRef) -> dict[str, int]:
        """Records by state: the sum of the counter shards (one range read, whatever the outbox's size)."""
        return self._counts.total(self._counts.read(ref.partition))

    def record_provider_status(
        self, ref: IntegrationRef, kind: str, external_id: str, status: str, *, rank: Callable[[str], int]
    ) -> str | None:
        """The provider's word on a delivered record (Twilio: sent, delivered, failed…) on the record that
        carries `external_id`, unless it already holds a later one (`rank`): callbacks arrive out of order.
        The record's key, or None when no record of this integration has that id."""
        flt, params = in_partition(ref.partition, row_prefix=f"{kind}|")
        flt, params = f"{flt} and ExternalId eq @id", {**params, "id": external_id}

        def record() -> str | None:
            found = next(iter(self._records.query_versioned(flt, parameters=params)), None)
            if found is None:
                return None
            row, etag = found
            key = row.row.split("|", 1)[1]
            if rank(row.provider_status or "") < rank(status):
                self._table.merge(
                    RecordRow(partition=row.partition, row=row.row, provider_status=status).entity(), etag=etag
                )
            return key

        return until_written(f"{kind} {external_id}", record)

    def reconcile(self, ref: IntegrationRef, kind: str, key: str, status: str, reference: str) -> None:
        """A provider's reconciliation file says what became of a record (paid, rejected…): its own columns,
        merged without touching the payload or the delivery state (a concurrent mark sees a new ETag and
        reads again)."""
        row = RecordRow(partition=ref.partition, row=f"{kind}|{key}", provider_status=status, provider_reference=reference)
        self._table.merge_many([row.entity()])

    def provider_status(self, ref: IntegrationRef, kind: str, key: str) -> str | None:
        found = self._records.find(ref.partition, f"{kind}|{key}")
        return (found[0].provider_status or None) if found else None

    def get(self, ref: IntegrationRef, kind: str, key: str) -> OutboxRecord:
        try:
            row, _ = self._records.get(ref.partition, f"{kind}|{key}")
        except NotFound:
            raise NotFound(f"No {kind} {key} in the outbox.") from None
        return row.record()
