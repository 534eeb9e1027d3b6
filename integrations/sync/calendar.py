"""Calendar sync (push, pull, bidirectional) for Google Calendar and Outlook.

Push: the platform's events (outbox kind `calendar_event`, updatable) are created in the calendar under our
key, updated in place when a new version arrives, deleted when cancelled.

Pull: the calendar's changes since the stored sync token become `calendar_event.changed` / `.deleted`
CloudEvents. An expired token (410) means one full read; events known before but absent from it were
deleted meanwhile.

Conflict rule and loop prevention: an event belongs to the side that created it. The platform's events are
written by the platform — its next version overwrites edits made in the calendar, which are reported (with
our key) so the platform can adopt them; events created in the calendar are only reported. The hub keeps, per
calendar event, the key and a digest of the content both sides last agreed on (SyncState `known|calendar`):
a pulled event whose content matches it is our own write coming back (or nothing new) and is not reported,
so nothing ping-pongs between the two sides.
"""

from __future__ import annotations

import json
from typing import Any

from adapters import capabilities as can
from adapters.base import CursorExpired
from adapters.calendar import CalendarEvent, RemoteEvent, when_text
from integrations.documents.document import CalendarIntegration, IntegrationDocument
from integrations.events import cloud_event
from integrations.sync.delivery import deliver
from integrations.sync.operation import SyncEnv
from integrations.sync.outbox import Outbox
from integrations.sync.progress import Progress

KIND = "calendar"
DELETED = "deleted"  # the digest of an event we deleted ourselves: its deletion coming back is not news


def _known(value: str | None) -> dict[str, Any]:
    return json.loads(value) if value else {}


def push_events(adapter: can.EventWrites, outbox: Outbox, document: IntegrationDocument, env: SyncEnv) -> Progress:
    ref = document.ref

    def agreed(external_id: str, event: CalendarEvent, digest: str) -> str:
        entry = {"key": event.key, "digest": digest, "start": when_text(event.starts_at)}
        env.state.remember(ref, KIND, {external_id: json.dumps(entry)})
        return external_id

    def find(payload: dict[str, Any]) -> str | None:
        event = CalendarEvent.from_payload(payload)
        if event.cancelled:
            return None  # a cancellation is confirmed by deleting, below
        found = adapter.find_event(payload["key"])
        return agreed(found, event, event.digest()) if found else None

    def create(payload: dict[str, Any]) -> str:
        event = CalendarEvent.from_payload(payload)
        if event.cancelled:  # cancelled before it was ever delivered (or while its delivery was unknown)
            if found := adapter.find_event(payload["key"]):
                adapter.delete_event(found)
                return agreed(found, event, DELETED)
            return ""
        return agreed(adapter.create_event(event), event, event.digest())

    def update(payload: dict[str, Any], external_id: str) -> str:
        event = CalendarEvent.from_payload(payload)
        if event.cancelled:
            adapter.delete_event(external_id)
            return agreed(external_id, event, DELETED)
        try:
            return agreed(adapter.update_event(external_id, event), event, event.digest())
        except LookupError:  # deleted in the calendar: the platform still has it, so it comes back
            return agreed(adapter.create_event(event), event, event.digest())

    return deliver("calendar_event", outbox, document, find=find, push=create, update=update, heartbeat=env.heartbeat)


def _event(document: IntegrationDocument, external_id: str, kind: str, digest: str, data: dict[str, Any]) -> dict[str, Any]:
    return cloud_event(
        f"calendar_event.{kind}",
        id=f"{document.id}:calendar:{external_id}:{digest}",
        ref=document.ref,
        subject=data.get("key") or f"{document.provider}:{external_id}",
        data=data,
    )


def pull_events(adapter: can.EventChanges, outbox: Outbox, document: CalendarIntegration, env: SyncEnv) -> Progress:
    progress = Progress()
    ref = document.ref
    wanted = set(document.config.event_type_filter)
    known: dict[str, dict[str, Any]] = {}  # what the hub knows of the events this walk has met (or of all)

    def recall(ids: list[str] | None) -> None:
        """All of it for a full read (deletions are found by absence); else only a page's events."""
        if ids is None:
            known.clear()
            found = env.state.recall(ref, KIND)
        else:
            found = env.state.recall_among(ref, KIND, [i for i in ids if i not in known])
        known.update({k: _known(v) for k, v in found.items()})

    def take(remote: RemoteEvent, changes: dict[str, str], gone: list[str]) -> None:
        entry = known.get(remote.external_id, {})
        if remote.event is None:
            if entry:
                if entry["digest"] != DELETED:
                    data = {"key": entry.get("key"), "external_id": remote.external_id}
                    env.emit(_event(document, remote.external_id, "deleted", DELETED, data))
                    progress.pulled += 1
                gone.append(remote.external_id)
                known.pop(remote.external_id)
            return
        event, digest = remote.event, remote.event.digest()
        if entry.get("digest") == digest:
            progress.skipped += 1  # our own write coming back, or unchanged
            return
        if wanted and event.event_type and event.event_type not in wanted:
            progress.skipped += 1
            return
        key = event.key or entry.get("key")
        data = {
            "key": key,
            "external_id": remote.external_id,
            "owner": "platform" if key else "calendar",
            **event.content(),  # title, starts_at/ends_at (UTC or dates), all_day, location, description
        }
        env.emit(_event(document, remote.external_id, "changed", digest, data))
        progress.pulled += 1
        known[remote.external_id] = {"key": key, "digest": digest, "start": data["starts_at"]}
        changes[remote.external_id] = json.dumps(known[remote.external_id])

    complete = False

    def walk(token: str | None) -> tuple[set[str], str | None]:
        nonlocal complete
        listed: set[str] = set()
        new_token = None
        if token is None:
            recall(None)
        for page in adapter.changes(token):
            env.heartbeat()
            if page.complete and not complete and token is not None:
                recall(None)  # the answer lists everything: compare it with all the hub knows
            complete = complete or page.complete
            if token is not None and not complete:
                recall([remote.external_id for remote in page.events])
            changes: dict[str, str] = {}
            gone: list[str] = []
            for remote in page.events:
                listed.add(remote.external_id)
                take(remote, changes, gone)
            env.state.remember(ref, KIND, changes)
            env.state.forget(ref, KIND, gone)
            new_token = page.sync_token or new_token
        return listed, new_token

    token = env.state.cursor(ref, KIND)
    full = token is None
    try:
        listed, new_token = walk(token)
    except CursorExpired:
        full = True
        listed, new_token = walk(None)
        progress.reason = "the sync token had expired: read the whole calendar once"
    if full or complete:  # a full read lists what exists: what we knew and it lacks was deleted meanwhile
        missing = [i for i, e in known.items() if i not in listed and adapter.full_read_covers(e.get("start", ""))]
        changes: dict[str, str] = {}
        for external_id in missing:
            take(RemoteEvent(external_id, None), changes, [])
        env.state.forget(ref, KIND, missing)
    env.state.set_cursor(ref, KIND, new_token, signpost=env.started_at)  # opaque: kept as is
    return progress
