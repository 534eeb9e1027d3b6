"""The operation declarations: what an integration is offered follows catalog, family, flags and direction,
and a timestamp cursor is held at the run's start in the cursor's own shape (the signpost)."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from integrations.documents.families import FAMILY_CREATES
from integrations.sync.operations import OPERATIONS, offered
from integrations.sync.state import signposted

START = datetime(2026, 11, 26, 10, 30, 15, 250000, tzinfo=UTC)


@pytest.mark.parametrize(
    ("cursor", "held"),
    [
        ("2026-11-26 11:00", "2026-11-26 10:30"),  # Fortnox's minutes
        ("2026-11-26 11:00:00", "2026-11-26 10:30:15"),  # EspoCRM's seconds
        ("2026-11-26T11:00:00", "2026-11-26T10:30:15"),  # Kobo's ISO time
        ("2026-11-26T11:00:00.123", "2026-11-26T10:30:15.250"),
        ("2026-11-26T11:00:00Z", "2026-11-26T10:30:15Z"),
        ("2026-11-26T12:00:00+01:00", "2026-11-26T11:30:15+01:00"),
        ("2026-11-26T10:00:00", "2026-11-26T10:00:00"),  # before the start: kept
        ("CPDAlvWDx70CEPDAlvWDx70CGAU=", "CPDAlvWDx70CEPDAlvWDx70CGAU="),  # a sync token: opaque
        ("https://org.crm4.dynamics.com/api/data/v9.2/contacts?$deltatoken=9", None),  # a delta link
    ],
)
def test_a_timestamp_cursor_is_held_at_the_run_start(cursor: str, held: str | None) -> None:
    assert signposted(cursor, START) == (held or cursor)
    assert signposted(cursor, None) == cursor


def doc(family: str, direction: str = "bidirectional", **flags: bool) -> SimpleNamespace:
    return SimpleNamespace(
        family=family, config=SimpleNamespace(sync_direction=direction), capabilities=SimpleNamespace(**flags)
    )


def names(document: SimpleNamespace, capabilities: list[str]) -> list[str]:
    return [op.name for op in offered(document, capabilities)]


def test_what_an_integration_is_offered_follows_catalog_flags_direction_and_family() -> None:
    fortnox = ["validate", "push_invoices", "push_payments", "push_expenses", "pull_invoices"]
    assert names(doc("accounting", invoice_sync=True), fortnox) == ["push_invoices", "pull_invoices"]
    assert names(doc("accounting", "push", invoice_sync=True, payment_sync=True), fortnox) == [
        "push_invoices",
        "push_payments",
    ]
    assert names(doc("accounting", "pull", invoice_sync=True), fortnox) == ["pull_invoices"]
    assert names(doc("accounting", invoice_sync=False), ["push_invoices"]) == []  # its flag is off
    # A multi-family provider (signed REST) offers report_memberships to the registry only.
    assert names(doc("gov_sports_registry", membership_reporting=True), ["report_memberships"]) == ["report_memberships"]
    assert names(doc("insurance", membership_reporting=True), ["report_memberships"]) == []
    # Any one of several flags switches an operation on (tags: events or courses).
    assert names(doc("crm", event_attendance=False, course_completion=True), ["push_tags"]) == ["push_tags"]


def test_every_declaration_is_complete() -> None:
    """A misspelt flag would switch its operation off for good: every flag is some family's capability."""
    flags = {name for create in FAMILY_CREATES for name in create.model_fields["capabilities"].annotation.model_fields}
    for name, op in OPERATIONS.items():
        assert op.name == name and op.description and op.record and callable(op.run)
        assert op.requires.__module__ == "adapters.capabilities", name
        assert set(op.flags) <= flags, (name, set(op.flags) - flags)
