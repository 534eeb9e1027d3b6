"""Calendar pull: what the hub's bookkeeping (the per-event key and agreed digest that keep our own writes
from echoing back) costs on a full read of the calendar, against walking the same pages through the same
adapter and nothing else.

A full read happens on the first pull and whenever the provider forgets the sync token, so it is the
expensive case: one range read of what the hub knows, a digest per event, no writes when nothing changed.
The bare walk is a loopback fake (≈ 0.03 ms an event; a real Google page of 250 takes 100 ms or more), so the
ratio is an upper bound. Target ≤ 5×.

The common case is an incremental read (a notification, a schedule): it must cost what the changes cost, not
what the calendar holds. The second row counts the hub's own state rows read by an incremental pull of the
same 5 changes with 10× as many events known (rows, not time: Azurite's point reads themselves slow down as a
partition grows, which Table Storage's do not). Target = 1."""

from __future__ import annotations

import time
from typing import Any, cast

from adapters.capabilities import EventChanges
from bench.common import alternating_medians, fresh_hub, integration_with, row
from devfakes.calendars import GoogleCalendarFake
from devfakes.launcher import start_fakes
from integrations.documents.document import CalendarIntegration, of_family
from integrations.sync.calendar import pull_events
from integrations.sync.operation import SyncEnv
from integrations.sync.state import SyncState

N = 600


def run(conn: str) -> list[dict[str, object]]:
    fakes = start_fakes()
    try:
        hub = fresh_hub(conn, **fakes.hub_settings())
        fake, tenant = cast(GoogleCalendarFake, fakes.calendars["google_calendar"]), "bench-cal"
        body = {
            "family": "calendar",
            "provider": "google_calendar",
            "display_name": "Tävlingar",
            "oauth_client_id": fake.client_id,
            "capabilities": {"push_events": True, "pull_events": True},
            "config": {"sync_direction": "bidirectional"},
        }
        refresh = fake._issue(["https://www.googleapis.com/auth/calendar.events"])["refresh_token"]  # noqa: SLF001 - a consent
        secrets = {"oauth_client_secret_ref": fake.client_secret, "oauth_refresh_token_ref": refresh}
        doc = of_family(integration_with(hub, tenant, body, secrets), CalendarIntegration)
        for i in range(N):
            fake.user_add(f"Tävling {i}", f"2027-05-{1 + i % 28:02d}T09:00:00Z", f"2027-05-{1 + i % 28:02d}T17:00:00Z")
        adapter = cast(EventChanges, hub.adapter_for(doc))
        emitted: list[dict[str, Any]] = []
        env = SyncEnv(heartbeat=lambda progress=None: None, state=hub.sync_state, emit=emitted.append, started_at=hub.now())

        def bare() -> None:
            assert sum(len(page.events) for page in adapter.changes(None)) == N

        def full_read() -> None:
            hub.sync_state._table.delete(f"{tenant}|{doc.id}", "cursor|calendar")  # noqa: SLF001 - force a full read
            progress = pull_events(adapter, hub.outbox, doc, env)
            assert progress.skipped == N and progress.pulled == 0

        pull_events(adapter, hub.outbox, doc, env)  # the first read takes every event in
        assert len(emitted) == N
        b, m = alternating_medians(bare, full_read, rounds=3)
        full: dict[str, object] = row(
            f"calendar pull: full read of {N} unchanged events vs walking them bare",
            f"{b * 1000:.0f} ms",
            f"{m * 1000:.0f} ms",
            f"{m / b:.2f}",
            "≤ 5.0",
            "known keys and digests on Azurite",
        )
        ids = list(fake.live())

        counting = _CountingTable(hub.sync_state._table)  # noqa: SLF001 - count what the pull reads
        counting_state = SyncState(counting)  # type: ignore[arg-type]  # a Table stand-in that counts reads
        counted = SyncEnv(
            heartbeat=lambda progress=None: None, state=counting_state, emit=emitted.append, started_at=hub.now()
        )

        def incremental() -> int:
            for event_id in ids[:5]:
                fake.user_edit(event_id, summary=f"Flyttad {time.perf_counter()}")
            counting.rows = 0
            assert pull_events(adapter, hub.outbox, doc, counted).pulled == 5
            return counting.rows

        small = incremental()
        others = {f"elsewhere{i:06d}": '{"key": null, "digest": "0", "start": ""}' for i in range(N * 9)}
        hub.sync_state.remember(doc.ref, "calendar", others)  # 10x the events known, none of them changed
        large = incremental()
        scale: dict[str, object] = row(
            f"calendar pull: state rows read for 5 changes, {N * 10} events known vs {N}",
            f"{small} rows",
            f"{large} rows",
            f"{large / small:.2f}",
            "= 1",
            "point reads of the changed events and the cursor",
        )
        return [full, scale]

    finally:
        fakes.stop()


class _CountingTable:
    """A Table that counts the rows its reads return (everything else passes through)."""

    def __init__(self, table: Any) -> None:
        self._table, self.rows = table, 0

    def find(self, partition: str, row: str) -> Any:
        found = self._table.find(partition, row)
        self.rows += found is not None
        return found

    def query(self, *args: Any, **kwargs: Any) -> Any:
        for entity in self._table.query(*args, **kwargs):
            self.rows += 1
            yield entity

    def __getattr__(self, name: str) -> Any:
        return getattr(self._table, name)
