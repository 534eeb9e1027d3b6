"""Member sync between the platform and a CRM (seed 002: Dynamics 365 for HLF; seed 004: EspoCRM), in the
directions the integration's config names: push, pull or bidirectional.

The conflict rule, per mapped field:
1. Ownership first (config.field_ownership). A `platform` field flows platform → CRM only: CRM edits are
   ignored and overwritten by the next push of that member. A `crm` field flows CRM → platform only: it is
   never pushed.
2. Shared fields (unlisted): only a field a side actually changed competes — for the platform, a value that
   differs from its previous version of the member; for the CRM, a value that differs from the agreed base.
   When both changed the same field, the later change wins: the platform record's `updated_at` against the
   CRM's modified time (`modifiedon` / `modifiedAt`). Clocks are the two systems' own; a tie goes to the CRM.
3. Loop prevention: the mirror keeps, per member, the values both sides last agreed on (the base). A pulled
   record equal to the base is our own write coming back (or nothing new): no event. A platform update
   equal to the base (e.g. the platform echoing a change the hub emitted) is no write.

Pull runs first, so a push knows of the latest CRM changes and holds the record's current version for
If-Match. A CRM change accepted by the rule is emitted as a CloudEvent (`…member.changed`) on the
integration-events queue with a stable id (CRM id + modified time): delivery is at least once.
Resumable: the pull cursor is saved where the adapter says resuming is safe (EspoCRM: after each page ordered
by modified time; Dataverse: the delta link at the end of a walk); re-reading records is harmless because of
the base. An expired cursor means one full read. Records deleted in the CRM are emitted as member.deleted.
Pushes are checkpointed in the outbox like every other record.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import Field

from adapters.capabilities import MemberRecords
from adapters.crm import CursorExpired, RemoteMember, StaleMember
from integrations.documents.common import SyncDirection
from integrations.documents.document import CrmIntegration, IntegrationDocument
from integrations.documents.ref import IntegrationRef
from integrations.events import cloud_event
from integrations.sync.outbox import Outbox, OutboxRecord, RecordState
from integrations.sync.progress import Heartbeat, Progress
from integrations.sync.state import SyncState
from shared.errors import ProviderError
from shared.rows import Row, Rows
from shared.tables import Table

MAX_RECORD_ATTEMPTS = 5
_MISSING = object()


@dataclass
class MirrorEntry:
    key: str
    external_id: str | None = None
    base: dict[str, Any] = field(default_factory=dict)  # platform field → last agreed value
    version: str | None = None
    changed_at: dict[str, str] = field(default_factory=dict)  # platform field → when the CRM's value was taken
    sent: dict[str, Any] = field(default_factory=dict)  # the platform's previous version: which fields it changed

    def changed_locally(self, name: str, value: Any) -> bool:
        return bool(self.sent.get(name, self.base.get(name, _MISSING)) != value)


class MemberRow(Row):
    """`m|<key>`: the member's agreed state, one JSON column (a full load deserialises far less than one
    property per field)."""

    state: str = Field(alias="State")

    def entry(self) -> MirrorEntry:
        state = json.loads(self.state)
        return MirrorEntry(
            key=self.row[2:],
            external_id=state.get("external_id"),
            base=state.get("base", {}),
            version=state.get("version"),
            changed_at=state.get("changed_at", {}),
            sent=state.get("sent", {}),
        )


class IndexRow(Row):
    """`x|<CRM id>`: which member a CRM record is."""

    key: str = Field(alias="Key")


class MemberMirror:
    """One row per member (`m|<key>`) and an index by CRM id (`x|<id>`), in the integration's partition.
    Written only by the run holding the integration's sync lease. (The pull cursor lives in SyncState like
    every pull's; `~cursor` here is where earlier versions kept it, read once when SyncState has none.)"""

    def __init__(self, table: Table) -> None:
        self._table = table
        self._members = Rows(table, MemberRow)
        self._index = Rows(table, IndexRow)

    def get(self, ref: IntegrationRef, key: str) -> MirrorEntry | None:
        found = self._members.find(ref.partition, f"m|{key}")
        return found[0].entry() if found else None

    def key_for(self, ref: IntegrationRef, external_id: str) -> str | None:
        found = self._index.find(ref.partition, f"x|{external_id}")
        return found[0].key if found else None

    def load(self, ref: IntegrationRef) -> tuple[dict[str, MirrorEntry], dict[str, str]]:
        """The whole mirror of one integration in one range read: (entries by key, key by CRM id). A full
        walk of the CRM uses it instead of two point reads per record (the index rows are not needed then)."""
        rows = self._members.query(
            "PartitionKey eq @pk and RowKey ge 'm|' and RowKey lt 'm|~'", parameters={"pk": ref.partition}
        )
        entries = {entry.key: entry for entry in (row.entry() for row in rows)}
        return entries, {e.external_id: e.key for e in entries.values() if e.external_id}

    def save(self, ref: IntegrationRef, entry: MirrorEntry) -> None:
        self.save_many(ref, [entry])

    def save_many(self, ref: IntegrationRef, entries: list[MirrorEntry]) -> None:
        """50 members (≤ 100 rows) per transaction: a member and its index row always move together."""
        for i in range(0, len(entries), 50):
            self._table.merge_many([row for e in entries[i : i + 50] for row in self._rows(ref, e)])

    def _rows(self, ref: IntegrationRef, entry: MirrorEntry) -> list[dict[str, Any]]:
        pk = ref.partition
        state = {
            "external_id": entry.external_id,
            "base": entry.base,
            "version": entry.version,
            "changed_at": entry.changed_at,
            "sent": entry.sent,
        }
        rows = [MemberRow(partition=pk, row=f"m|{entry.key}", state=json.dumps(state, sort_keys=True, default=str)).entity()]
        if entry.external_id:
            rows.append(IndexRow(partition=pk, row=f"x|{entry.external_id}", key=entry.key).entity())
        return rows

    def legacy_cursor(self, ref: IntegrationRef) -> str | None:
        found = self._table.find(ref.partition, "~cursor")
        return found[0]["Cursor"] if found else None


CURSOR = "members"  # the pull cursor's name in SyncState


def member_event(
    document: IntegrationDocument, entry: MirrorEntry, changed: dict[str, Any], remote: RemoteMember, *, new: bool
) -> dict[str, Any]:
    return cloud_event(
        "member.created" if new else "member.changed",
        id=f"{document.id}:{remote.external_id}:{remote.modified_at.isoformat()}",
        ref=document.ref,
        subject=entry.key,
        time=remote.modified_at.isoformat(),
        data={"key": entry.key, "external_id": remote.external_id, "fields": changed, "origin": document.provider},
    )


@dataclass
class MemberSync:
    adapter: MemberRecords
    outbox: Outbox
    mirror: MemberMirror
    document: CrmIntegration
    emit: Callable[[dict[str, Any]], None]
    heartbeat: Heartbeat
    state: SyncState
    started_at: datetime | None = None  # the run's start: the cursor's signpost
    progress: Progress = field(default_factory=Progress)

    def __post_init__(self) -> None:
        config = self.document.config
        self.to_crm: dict[str, str] = dict(config.member_field_map)
        self.to_platform = {crm: platform for platform, crm in self.to_crm.items()}
        self.owner: dict[str, str] = dict(config.field_ownership)
        self.ref = self.document.ref
        self.overridden: set[str] = set()  # members whose platform-owned fields the CRM changed
        # A full walk loads the mirror once (then `cache`/`index` answer); delta walks read point by point.
        self.cache: dict[str, MirrorEntry] | None = None
        self.index: dict[str, str] = {}

    # --- the mirror, through the cache when a full walk loaded it --------------------------------------------
    def entry(self, key: str) -> MirrorEntry | None:
        if self.cache is not None:
            return self.cache.get(key)
        return self.mirror.get(self.ref, key)

    def key_for(self, external_id: str) -> str | None:
        if self.cache is not None:
            return self.index.get(external_id)
        return self.mirror.key_for(self.ref, external_id)

    def save(self, *entries: MirrorEntry) -> None:
        self.mirror.save_many(self.ref, list(entries))
        if self.cache is not None:
            for e in entries:
                self.cache[e.key] = e
                if e.external_id:
                    self.index[e.external_id] = e.key

    # --- the rule --------------------------------------------------------------------------------------------
    def accept_remote(self, entry: MirrorEntry, remote: RemoteMember, local: OutboxRecord | None) -> dict[str, Any]:
        """Platform fields of `remote` that win over what the hub knows (base) and the pending local change."""
        local_fields = local.payload["fields"] if local else {}
        local_at = datetime.fromisoformat(local.payload["updated_at"]) if local else None
        accepted = {}
        for crm_field, value in remote.fields.items():
            name = self.to_platform[crm_field]
            if entry.base.get(name, _MISSING) == value:
                continue
            if self.owner.get(name) == "platform":
                entry.base[name] = value  # what the CRM holds now: the next push differs, so it restores ours
                self.overridden.add(entry.key)
                continue
            newer_local = (
                self.owner.get(name) != "crm"
                and name in local_fields
                and entry.changed_locally(name, local_fields[name])
                and local_fields[name] != value
                and local_at is not None
                and local_at > remote.modified_at
            )
            if not newer_local:
                accepted[name] = value
        return accepted

    def local_changes(self, entry: MirrorEntry, record: OutboxRecord) -> dict[str, Any]:
        """Platform fields of `record` to write to the CRM."""
        local_at = datetime.fromisoformat(record.payload["updated_at"])
        out = {}
        for name, value in record.payload["fields"].items():
            owner = self.owner.get(name)
            if owner == "crm" or entry.base.get(name, _MISSING) == value:
                continue
            if owner != "platform":
                if not entry.changed_locally(name, value):
                    continue  # a stale copy of a field the CRM changed since: not a platform change
                taken = entry.changed_at.get(name)
                if taken and datetime.fromisoformat(taken) >= local_at:
                    continue  # the CRM changed this field later: its value stands (and was emitted)
            out[name] = value
        return out

    def take_values(self, entry: MirrorEntry, accepted: dict[str, Any], remote: RemoteMember) -> None:
        entry.base.update(accepted)
        entry.changed_at.update({name: remote.modified_at.isoformat() for name in accepted})

    def platform_values(self, remote: RemoteMember) -> dict[str, Any]:
        return {self.to_platform[f]: v for f, v in remote.fields.items()}

    def crm_values(self, fields: dict[str, Any]) -> dict[str, Any]:
        return {self.to_crm[name]: value for name, value in fields.items()}

    # --- the run ---------------------------------------------------------------------------------------------
    def run(self) -> Progress:
        direction = self.document.config.sync_direction
        if direction in (SyncDirection.pull, SyncDirection.bidirectional):
            self.pull()
        if direction in (SyncDirection.push, SyncDirection.bidirectional):
            self.push()
        return self.progress

    def pull(self) -> None:
        pending = {r.key: r for r in self.outbox.due(self.ref, "member", max_attempts=MAX_RECORD_ATTEMPTS)}
        cursor = self.state.cursor(self.ref, CURSOR) or self.mirror.legacy_cursor(self.ref)
        try:
            self.walk(cursor, pending)
        except CursorExpired:
            if cursor is None:
                raise
            # The CRM forgot our cursor: read everything again. The base makes this cheap in events: only
            # records that really differ are emitted.
            self.progress.reason = "change cursor expired: read everything again"
            self.walk(None, pending)

    def walk(self, cursor: str | None, pending: dict[str, OutboxRecord]) -> None:
        if cursor is None:
            self.cache, self.index = self.mirror.load(self.ref)
        for page in self.adapter.changed_members(cursor):
            self.heartbeat(self.progress)
            changed = [entry for remote in page.members if (entry := self.take(remote, pending)) is not None]
            self.save(*changed)  # one transaction per 50 members, before the cursor moves past them
            for external_id in page.deleted:
                self.forget(external_id)
            for key in self.overridden - set(pending):
                self.outbox.requeue(self.ref, "member", key)  # the push below restores it
            self.overridden.clear()
            self.state.set_cursor(self.ref, CURSOR, page.cursor, signpost=self.started_at)

    def forget(self, external_id: str) -> None:
        """Deleted in the CRM: tell the platform; the platform owns membership, so a later push of this member
        creates it again."""
        key = self.key_for(external_id)
        entry = self.entry(key) if key else None
        if entry is None or entry.external_id != external_id:
            return  # never ours, or already forgotten
        self.emit(
            cloud_event(
                "member.deleted",
                id=f"{self.document.id}:{external_id}:deleted",
                ref=self.ref,
                subject=entry.key,
                data={"key": entry.key, "external_id": external_id, "origin": self.document.provider},
            )
        )
        self.progress.pulled += 1
        self.save(MirrorEntry(key=entry.key, sent=entry.sent))

    def take(self, remote: RemoteMember, pending: dict[str, OutboxRecord]) -> MirrorEntry | None:
        """Apply the rule to one CRM record; the entry to save, or None when the mirror already says it all."""
        key = (
            self.key_for(remote.external_id)
            or remote.key
            or f"crm-{remote.external_id}"  # created in the CRM: the platform adopts it under this key
        )
        entry = self.entry(key)
        new = entry is None
        entry = entry or MirrorEntry(key=key)
        before = (entry.external_id, entry.version, dict(entry.base))
        accepted = self.accept_remote(entry, remote, pending.get(key))
        entry.external_id, entry.version = remote.external_id, remote.version
        if accepted:
            self.take_values(entry, accepted, remote)
            self.emit(member_event(self.document, entry, accepted, remote, new=new and not remote.key))
            self.progress.pulled += 1
        if not new and before == (entry.external_id, entry.version, entry.base):
            return None
        return entry

    def push(self) -> None:
        for record in self.outbox.due(self.ref, "member", max_attempts=MAX_RECORD_ATTEMPTS):
            self.heartbeat(self.progress)
            entry = self.entry(record.key) or MirrorEntry(key=record.key)
            changes = self.local_changes(entry, record)
            if not changes and entry.external_id:
                entry.sent = dict(record.payload["fields"])
                self.save(entry)
                self.outbox.mark_if_unchanged(self.ref, record, RecordState.synced)
                self.progress.skipped += 1
                continue
            marked = self.outbox.mark_if_unchanged(self.ref, record, RecordState.inflight, attempt=True)
            if marked is None:
                continue  # a newer version arrived: the next run takes it
            try:
                remote = self.write(entry, record, changes)
            except ProviderError as exc:
                if exc.retriable:
                    raise
                self.outbox.mark_if_unchanged(self.ref, marked, RecordState.failed, error=exc.detail)
                self.progress.fail(record.key, exc.detail)
                continue
            entry.external_id, entry.version = remote.external_id, remote.version
            # what the CRM holds after our write is what both sides now agree on (its echo is no news)
            entry.base.update(self.platform_values(remote))
            entry.sent = dict(record.payload["fields"])
            self.save(entry)
            self.outbox.mark_if_unchanged(self.ref, marked, RecordState.synced, external_id=remote.external_id)

    def write(self, entry: MirrorEntry, record: OutboxRecord, changes: dict[str, Any]) -> RemoteMember:
        if entry.external_id is None:
            # outcome of an earlier create unknown (inflight): look before creating again
            found = self.adapter.find_member(record.key) if record.state == RecordState.inflight else None
            fields = {n: v for n, v in record.payload["fields"].items() if self.owner.get(n) != "crm"}
            remote = found or self.adapter.create_member(record.key, self.crm_values(fields))
            entry.base.update(fields)
            if found:
                self.progress.skipped += 1
            else:
                self.progress.created += 1
            return remote
        try:
            remote = self.adapter.update_member(entry.external_id, self.crm_values(changes), entry.version)
        except StaleMember:
            # Changed in the CRM since we last saw it: apply the rule to the current record, then write
            # what still wins with its version.
            current = self.adapter.get_member(entry.external_id)
            accepted = self.accept_remote(entry, current, record)
            if accepted:
                self.take_values(entry, accepted, current)
                self.emit(member_event(self.document, entry, accepted, current, new=False))
                self.progress.pulled += 1
            entry.version = current.version
            changes = self.local_changes(entry, record)
            if not changes:
                self.progress.skipped += 1
                return current
            remote = self.adapter.update_member(entry.external_id, self.crm_values(changes), current.version)
        entry.base.update(changes)
        self.progress.updated += 1
        return remote
