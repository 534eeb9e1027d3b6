"""The pull every "report what changed" operation shares (ledger invoices, ADAMS test results, a registry's
compliance obligations): read from the stored cursor, skip what was reported before (a seen key per item and
state), emit one event per new fact, remember it, and resume next time at or before this run's start (the
signpost: a change committed during the run is read again, and its seen key keeps it from being reported
twice)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, TypeVar

from integrations.documents.document import IntegrationDocument
from integrations.sync.operation import SyncEnv
from integrations.sync.progress import Progress

T = TypeVar("T")


def report_news(
    read: Callable[[str | None], Iterable[list[T]]],
    resume: Callable[[datetime], str],
    *,
    env: SyncEnv,
    document: IntegrationDocument,
    cursor: str,
    kind: str,
    seen_key: Callable[[T], str],
    event: Callable[[T, str], dict[str, Any]],
) -> Progress:
    progress = Progress()
    ref = document.ref
    for page in read(env.state.cursor(ref, cursor)):
        env.heartbeat()
        fresh = []
        for item in page:
            seen = seen_key(item)
            if env.state.seen(ref, kind, seen):
                progress.skipped += 1
                continue
            env.emit(event(item, seen))
            fresh.append(seen)
        env.state.mark_seen(ref, kind, fresh)
        progress.pulled += len(fresh)
    if env.started_at is not None:
        env.state.set_cursor(ref, cursor, resume(env.started_at), signpost=env.started_at)
    return progress
