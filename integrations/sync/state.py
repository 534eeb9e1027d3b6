"""Small per-integration sync state: named cursors (where a pull resumes), the ids already taken in (so a
re-read page does not emit twice), and what we know of remote items (a small value per id: the calendar sync
keeps each event's key and content digest there). Rows live in the integration's partition of the `syncstate`
table and are written by the run holding the integration's sync lease.

Every pull's cursor lives here, and a timestamp cursor keeps singer's "signpost": it is never stored beyond
the run's start. A record the provider commits during the run with an earlier timestamp than the newest one
read (clock skew, a slow transaction) would otherwise fall behind the cursor and never be read; re-reading
the records after the signpost is harmless, because every pull skips what it has already taken in."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from pydantic import Field

from integrations.documents.ref import IntegrationRef
from shared.rows import Row, Rows, in_partition
from shared.tables import Table

_OFFSET = re.compile(r"(Z|[+-]\d\d:?\d\d)$")


def signposted(cursor: str | None, started_at: datetime | None) -> str | None:
    """A timestamp cursor no later than `started_at`, in the cursor's own shape ("2026-11-26 10:00",
    "2026-11-26T10:00:00.123Z", …); an opaque cursor (a sync token, a delta link) passes through."""
    if not cursor or started_at is None:
        return cursor
    try:
        at = datetime.fromisoformat(cursor.replace("Z", "+00:00"))
    except ValueError:
        return cursor
    zone = at.tzinfo or UTC
    if at.replace(tzinfo=zone) <= started_at:
        return cursor
    suffix = _OFFSET.search(cursor)
    naive = cursor[: suffix.start()] if suffix else cursor
    start = started_at.astimezone(zone).strftime(f"%Y-%m-%d{naive[10:11] or 'T'}%H:%M:%S.%f")
    return start[: len(naive)] + (suffix.group(0) if suffix else "")  # truncating rounds down: never past the start


class ValueRow(Row):
    """`cursor|<name>` (where a pull resumes) or `known|<kind>|<id>` (what a pull last saw of an item)."""

    value: str = Field(alias="Value")


class SeenRow(Row):
    """`seen|<kind>|<id>`: an item taken in once (its presence is the fact)."""


class SyncState:
    def __init__(self, table: Table) -> None:
        self._table = table
        self._values = Rows(table, ValueRow)
        self._seen = Rows(table, SeenRow)

    def cursor(self, ref: IntegrationRef, name: str) -> str | None:
        found = self._values.find(ref.partition, f"cursor|{name}")
        return found[0].value if found else None

    def set_cursor(self, ref: IntegrationRef, name: str, value: str | None, *, signpost: datetime | None = None) -> None:
        """Where the next pull of `name` resumes; a timestamp is held at `signpost` (the run's start)."""
        if value := signposted(value, signpost):
            self._table.merge_many([ValueRow(partition=ref.partition, row=f"cursor|{name}", value=value).entity()])

    def recall(self, ref: IntegrationRef, kind: str) -> dict[str, str]:
        """Everything known of a kind, id → value: one range read."""
        flt, params = in_partition(ref.partition, row_prefix=f"known|{kind}|")
        rows = self._values.query(flt, parameters=params, select=["Value"])
        return {r.row.split("|", 2)[2]: r.value for r in rows}

    def recall_among(self, ref: IntegrationRef, kind: str, item_ids: list[str]) -> dict[str, str]:
        """What is known of these ids only: a point read each (for the few items an incremental read brings)."""
        out = {}
        for item_id in item_ids:
            if found := self._values.find(ref.partition, f"known|{kind}|{item_id}"):
                out[item_id] = found[0].value
        return out

    def remember(self, ref: IntegrationRef, kind: str, values: dict[str, str]) -> None:
        pk = ref.partition
        self._table.merge_many(
            [ValueRow(partition=pk, row=f"known|{kind}|{i}", value=v).entity() for i, v in values.items()]
        )

    def forget(self, ref: IntegrationRef, kind: str, item_ids: list[str]) -> None:
        self._table.delete_many(ref.partition, [f"known|{kind}|{i}" for i in item_ids])

    @staticmethod
    def _row(kind: str, item_id: str) -> str:
        # Numeric ids are zero-padded so a page of them is one contiguous key range (see seen_among).
        return f"seen|{kind}|{item_id.zfill(20) if item_id.isdigit() else item_id}"

    def seen(self, ref: IntegrationRef, kind: str, item_id: str) -> bool:
        return self._seen.find(ref.partition, self._row(kind, item_id)) is not None

    def seen_among(self, ref: IntegrationRef, kind: str, item_ids: list[str]) -> set[str]:
        """Which of a page's ids were taken in before: one range read when the ids are numeric (Kobo's are,
        and a page of them is close together), else a point read each."""
        if not item_ids:
            return set()
        if not all(i.isdigit() for i in item_ids):
            return {i for i in item_ids if self.seen(ref, kind, i)}
        wanted = {self._row(kind, i): i for i in item_ids}
        rows = self._seen.query(
            "PartitionKey eq @pk and RowKey ge @lo and RowKey le @hi",
            parameters={"pk": ref.partition, "lo": min(wanted), "hi": max(wanted)},
            select=[],
        )
        return {wanted[r.row] for r in rows if r.row in wanted}

    def mark_seen(self, ref: IntegrationRef, kind: str, item_ids: list[str]) -> None:
        self._table.merge_many([SeenRow(partition=ref.partition, row=self._row(kind, i)).entity() for i in item_ids])
