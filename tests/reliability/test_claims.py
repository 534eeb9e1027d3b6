"""Claims that can fail visibly: a conditional delete is won by exactly one of several instances, a missing
row is reported (azure-data-tables swallows the 404 of `delete_entity`), and the places that claim by delete
(due schedule slots, OAuth states, rotation overlaps, leases) therefore act once across instances."""

from __future__ import annotations

import secrets
from collections import Counter
from datetime import UTC, datetime, timedelta
from functools import partial

import pytest

from integrations.documents.ref import IntegrationRef
from integrations.sync.schedules import Schedules
from shared.errors import NotFound, PreconditionFailed
from shared.tables import TableStore
from tests.helpers import together


def two_instances(conn: str) -> tuple[TableStore, TableStore]:
    """Two stores with their own service clients (own connections), as two hub instances would have."""
    prefix = "c" + secrets.token_hex(5)
    return TableStore.from_connection_string(conn, prefix=prefix), TableStore.from_connection_string(conn, prefix=prefix)


def test_a_missing_row_is_reported_and_a_conditional_delete_is_won_once(storage_connection: str) -> None:
    one, two = two_instances(storage_connection)
    a, b = one.table("claims"), two.table("claims")
    with pytest.raises(NotFound):
        a.delete("p", "never-was")
    for i in range(20):
        etag = a.insert({"PartitionKey": "p", "RowKey": f"r{i}"})
        outcomes = together(*(partial(t.delete, "p", f"r{i}", etag=etag) for t in (a, b)))
        assert sorted(type(o).__name__ for o in outcomes) in (["NoneType", "NotFound"], ["NoneType", "PreconditionFailed"])
    stale = a.insert({"PartitionKey": "p", "RowKey": "changed"})
    a.merge({"PartitionKey": "p", "RowKey": "changed", "X": 1}, etag=stale)
    with pytest.raises(PreconditionFailed):
        b.delete("p", "changed", etag=stale)
    assert a.find("p", "changed") is not None


def test_two_instances_take_each_due_slot_once(storage_connection: str) -> None:
    """Two timers firing together on one storage account: every due slot runs exactly once."""
    start = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
    clock = {"now": start}
    one, two = two_instances(storage_connection)
    instances = [Schedules(s.table("schedules"), s.table("due"), now=lambda: clock["now"]) for s in (one, two)]
    for i in range(6):
        instances[0].put(IntegrationRef("fed-a", f"int{i}"), "push_invoices", cron="0 * * * * *", time_zone="UTC")
    taken: Counter[str] = Counter()
    for minute in range(1, 4):
        clock["now"] = start + timedelta(minutes=minute, seconds=1)
        for claimed in together(*(s.take_due for s in instances)):
            assert isinstance(claimed, list), claimed
            taken.update(f"{s.integration_id}@{minute}" for s in claimed)
    assert len(taken) == 18 and set(taken.values()) == {1}, taken
