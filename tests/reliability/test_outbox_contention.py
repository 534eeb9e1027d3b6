"""Same-key outbox writes under contention: each writer gets an answer of its own (created, replaced,
unchanged or a 409 to retry), never the 412 of a precondition the client did not send."""

from __future__ import annotations

from functools import partial

from integrations.wiring import Hub
from shared.errors import Conflict
from tests.helpers import together


def test_concurrent_same_key_puts_with_different_payloads_never_412(hub: Hub) -> None:
    for round_ in range(5):
        key = f"INV-{round_}"
        writes = [partial(hub.outbox.put, "fed-a", "int_x", "invoice", key, {"key": key, "amount": i}) for i in range(8)]
        outcomes = together(*writes)
        assert all(o in ("created", "replaced", "unchanged") or isinstance(o, Conflict) for o in outcomes), outcomes
        assert outcomes.count("created") == 1, outcomes
