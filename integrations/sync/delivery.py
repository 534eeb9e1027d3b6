"""Delivering outbox records to a provider: the loop every push operation shares (batches, inflight marks,
lookups before a replayed create, per-record failures)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from integrations.documents.document import IntegrationDocument
from integrations.documents.ref import IntegrationRef
from integrations.sync.operation import SyncEnv
from integrations.sync.outbox import Outbox, OutboxRecord, RecordState
from integrations.sync.progress import Heartbeat, Progress
from shared.errors import ProviderError

MAX_RECORD_ATTEMPTS = 5


Outcome = tuple[OutboxRecord, RecordState, str | None, str]


def deliver(
    kind: str,
    outbox: Outbox,
    document: IntegrationDocument,
    *,
    find: Callable[[dict[str, Any]], str | None],
    push: Callable[[dict[str, Any]], str],
    heartbeat: Heartbeat,
    batch: int = 25,
    ready: Callable[[dict[str, Any]], bool] | None = None,
    update: Callable[[dict[str, Any], str], str] | None = None,
    keep_payload: bool = True,
) -> Progress:
    """Deliver every undelivered record of `kind`, a batch at a time: mark the batch inflight (one
    transaction), push each, record the outcomes (one transaction). A record whose earlier outcome is unknown
    (inflight) is looked up at the provider first (`find`, e.g. by our key), so a replay never duplicates it.
    Per-record failures are recorded and retried next run; provider outages (retriable errors, after the
    client's own retries) abort the run and the job comes back.

    With `update` the kind is updatable (calendar events: the platform may send a new version at any time):
    a version delivered before goes to its provider id (updates are idempotent, so no lookup first). Marks
    are conditional on the version read, for every kind: a version arriving mid-run stays pending."""
    progress = Progress()
    marks = _Marks(outbox, document.ref, keep_payload=keep_payload)
    records = list(outbox.due(document.ref, kind, max_attempts=MAX_RECORD_ATTEMPTS))
    if ready is not None:  # records waiting for another (a payment for its invoice) stay pending, unattempted
        waiting = [r for r in records if not ready(r.payload)]
        progress.skipped += len(waiting)
        records = [r for r in records if r not in waiting]
    for start in range(0, len(records), batch):
        heartbeat()  # still ours? (the checkpoint follows each batch's marks below)
        chunk, todo = records[start : start + batch], []
        done: list[Outcome] = []
        for record in chunk:
            updating = update is not None and record.external_id is not None
            if record.state == RecordState.inflight and not updating and (existing := find(record.payload)):
                done.append((record, RecordState.synced, existing, ""))
                progress.skipped += 1
                continue
            todo.append(record)
        todo = marks.begin(todo)
        try:
            for record in todo:
                updating = update is not None and record.external_id is not None
                try:
                    external = update(record.payload, record.external_id) if updating else push(record.payload)  # type: ignore[misc,arg-type]
                except ProviderError as exc:
                    if exc.retriable:
                        raise
                    done.append((record, RecordState.failed, None, exc.detail))
                    progress.fail(record.key, exc.detail)
                    continue
                done.append((record, RecordState.synced, external, ""))
                if updating:
                    progress.updated += 1
                else:
                    progress.created += 1
        finally:
            if done:  # what we know, we keep, even when the run aborts
                marks.finish(done)
                heartbeat(progress)  # and the run record learns it at once (a kill -9 next loses nothing)
    return progress


class _Marks:
    """One transaction per batch, each mark conditional on the version the run read: a record replaced
    meanwhile (a new payload, a member's new version) stays pending for the next run — but still learns the
    provider id, so it updates rather than creates."""

    def __init__(self, outbox: Outbox, ref: IntegrationRef, *, keep_payload: bool = True) -> None:
        self.outbox, self.ref = outbox, ref
        self.drop_payload = not keep_payload

    def begin(self, todo: list[OutboxRecord]) -> list[OutboxRecord]:
        marked = self.outbox.mark_many(self.ref, [(r, RecordState.inflight, None, "") for r in todo], attempt=True)
        return [r for r in marked if r is not None]  # as they now are, with the versions the outcomes hold to

    def finish(self, done: list[Outcome]) -> None:
        marked = self.outbox.mark_many(self.ref, done, drop_payload=self.drop_payload)
        for (record, _, external_id, _), mark in zip(done, marked, strict=True):
            if mark is None and external_id:
                self.outbox.set_external_id(self.ref, record.kind, record.key, external_id)


def by_key(
    kind: str, put: Callable[[Any, dict[str, Any]], str], *, keep_payload: bool = True
) -> Callable[[Any, Outbox, Any, Any], Progress]:
    """The push of a provider that takes each record by PUT to its key (our contracts: registries, insurers,
    ADAMS): sending again updates it, so a replayed record needs no lookup and a new version is the same PUT.
    `keep_payload=False` drops a record's payload once the provider has it (special-category data)."""

    def run(adapter: Any, outbox: Outbox, document: IntegrationDocument, env: SyncEnv) -> Progress:
        return deliver(
            kind,
            outbox,
            document,
            find=lambda payload: None,
            push=lambda payload: put(adapter, payload),
            update=lambda payload, _: put(adapter, payload),
            heartbeat=env.heartbeat,
            keep_payload=keep_payload,
        )

    return run
