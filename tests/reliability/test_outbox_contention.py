"""Outbox writes under contention: each same-key writer gets an answer of its own (created, replaced,
unchanged or a 409 to retry), never the 412 of a precondition the client did not send; and the counts by
state, kept in counter rows beside the records, always equal what the records say."""

from __future__ import annotations

from functools import partial

import pytest

from integrations.documents.ref import IntegrationRef
from integrations.sync.outbox import Outbox, Put, RecordState
from integrations.wiring import Hub
from shared.errors import Conflict
from tests.helpers import together


def test_concurrent_same_key_puts_with_different_payloads_never_412(hub: Hub) -> None:
    for round_ in range(5):
        key = f"INV-{round_}"
        writes = [
            partial(hub.outbox.put, IntegrationRef("fed-a", "int_x"), "invoice", key, {"key": key, "amount": i})
            for i in range(8)
        ]
        outcomes = [o.outcome if isinstance(o, Put) else o for o in together(*writes)]
        assert all(o in ("created", "replaced", "unchanged") or isinstance(o, Conflict) for o in outcomes), outcomes
        assert outcomes.count("created") == 1, outcomes
    assert hub.outbox.counts(IntegrationRef("fed-a", "int_x")) == _by_state(hub, "fed-a", "int_x")


def _by_state(hub: Hub, tenant: str, integration: str) -> dict[str, int]:
    """The truth the counters must match: every record row of the partition, by state."""
    out = {s.value: 0 for s in RecordState}
    rows = hub.outbox._table.query(  # noqa: SLF001 - the test reads the rows themselves
        "PartitionKey eq @pk and RowKey lt '~'", parameters={"pk": IntegrationRef(tenant, integration).partition}
    )
    for row in rows:
        out[row["State"]] += 1
    return out


def test_counts_match_the_records_through_concurrent_writes_and_marks(hub: Hub) -> None:
    tenant, integration = "fed-c", "int_c"
    puts = [
        partial(hub.outbox.put, IntegrationRef(tenant, integration), "invoice", f"INV-{i}", {"key": f"INV-{i}"})
        for i in range(40)
    ]
    together(*puts[:20])
    together(*puts[20:], *puts[:10])  # new keys and replays at once
    ref = IntegrationRef(tenant, integration)
    assert hub.outbox.counts(ref) == _by_state(hub, tenant, integration) == {**_zero(), "pending": 40}
    due = list(hub.outbox.due(IntegrationRef(tenant, integration), "invoice", max_attempts=5))
    hub.outbox.mark_many(
        IntegrationRef(tenant, integration), [(r, RecordState.inflight, None, "") for r in due[:25]], attempt=True
    )
    for r in due[25:30]:
        assert (
            hub.outbox.mark_if_unchanged(IntegrationRef(tenant, integration), r, RecordState.failed, error="no") is not None
        )
    together(*puts[30:])  # unchanged replays while marks happen
    assert hub.outbox.counts(IntegrationRef(tenant, integration)) == _by_state(hub, tenant, integration)
    assert hub.outbox.counts(IntegrationRef(tenant, integration)) == {
        "pending": 10,
        "inflight": 25,
        "synced": 0,
        "failed": 5,
    }


def test_writers_racing_to_create_a_counter_shard_all_land(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two instances marking different records of one integration, both creating the same counter shard: the
    loser's insert conflicts and it retries on the winner's row (it used to fail the run)."""
    tenant = "fed-d"
    for round_ in range(10):
        integration = f"int_{round_}"
        monkeypatch.setattr("integrations.sync.outbox.random.randrange", lambda n: 0)
        for key in ("A", "B"):
            hub.outbox.put(IntegrationRef(tenant, integration), "invoice", key, {"key": key})
        monkeypatch.setattr("integrations.sync.outbox.random.randrange", lambda n: n - 1)  # a shard nobody made
        first, second = hub.outbox, Outbox(hub.outbox._table, now=hub.clock)  # noqa: SLF001 - a second instance
        a, b = list(first.due(IntegrationRef(tenant, integration), "invoice", max_attempts=5))
        outcomes = together(
            partial(first.mark_many, IntegrationRef(tenant, integration), [(a, RecordState.synced, "x", "")]),
            partial(second.mark_many, IntegrationRef(tenant, integration), [(b, RecordState.synced, "y", "")]),
        )
        assert [[m.state if m else None for m in marked] for marked in outcomes] == [["synced"], ["synced"]], outcomes
        assert first.counts(IntegrationRef(tenant, integration)) == {"pending": 0, "inflight": 0, "synced": 2, "failed": 0}


class _Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_two_instances_report_counts_at_most_recent_s_old_and_never_drift(hub: Hub) -> None:
    """Each instance starts a POST from the counter shards it read at most RECENT_S ago (one storage call per
    POST instead of two); its write is conditional on the shard it changes, so the rows never drift, and what
    it reports catches up with the other instance's writes once its read is RECENT_S old."""
    from integrations.sync.outbox import RECENT_S

    tenant, integration = "fed-d", "int_d"
    clock_a, clock_b = _Clock(), _Clock()
    a = Outbox(hub.outbox._table, now=hub.now, clock=clock_a)  # noqa: SLF001 - two instances on one table
    b = Outbox(hub.outbox._table, now=hub.now, clock=clock_b)  # noqa: SLF001
    put_a = [partial(a.put, IntegrationRef(tenant, integration), "invoice", f"A-{i}", {"i": i}) for i in range(20)]
    put_b = [partial(b.put, IntegrationRef(tenant, integration), "invoice", f"B-{i}", {"i": i}) for i in range(20)]
    together(*put_a[:10], *put_b[:10])
    assert a.counts(IntegrationRef(tenant, integration)) == _by_state(hub, tenant, integration) == {**_zero(), "pending": 20}
    b.put(IntegrationRef(tenant, integration), "invoice", "B-x", {})  # b's shards are fresh now
    together(*put_a[10:])  # ten records b has not read
    clock_b.t += RECENT_S + 0.1
    reported = b.put(IntegrationRef(tenant, integration), "invoice", "B-y", {}).counts
    assert reported == _by_state(hub, tenant, integration) == {**_zero(), "pending": 32}
    together(*put_b[10:], *put_a[:5])  # new keys on b, replays on a
    assert a.counts(IntegrationRef(tenant, integration)) == _by_state(hub, tenant, integration) == {**_zero(), "pending": 42}


def _zero() -> dict[str, int]:
    return {s.value: 0 for s in RecordState}


def test_a_batch_mark_leaves_a_version_replaced_after_the_run_read_it_pending(hub: Hub) -> None:
    """A run reads three pending invoices; the platform replaces one with a corrected payload before the run
    marks them. The batch mark must not carry the corrected version to `synced` (it was never delivered): that
    one stays pending with its new payload, the two others are marked (before, the batch wrote without ETags)."""
    tenant, integration = "fed-m", "int_m"
    for key in ("A", "B", "C"):
        hub.outbox.put(IntegrationRef(tenant, integration), "invoice", key, {"key": key, "amount": 1})
    read = list(hub.outbox.due(IntegrationRef(tenant, integration), "invoice", max_attempts=5))
    assert (
        hub.outbox.put(IntegrationRef(tenant, integration), "invoice", "B", {"key": "B", "amount": 2}).outcome == "replaced"
    )
    marked = hub.outbox.mark_many(
        IntegrationRef(tenant, integration), [(r, RecordState.synced, f"x-{r.key}", "") for r in read]
    )
    assert [m.key if m else None for m in marked] == ["A", None, "C"]
    b = hub.outbox.get(IntegrationRef(tenant, integration), "invoice", "B")
    assert (b.state, b.payload["amount"]) == (RecordState.pending, 2)
    ref = IntegrationRef(tenant, integration)
    assert hub.outbox.counts(ref) == _by_state(hub, tenant, integration) == {**_zero(), "pending": 1, "synced": 2}
