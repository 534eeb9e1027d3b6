"""Invoice push to Xero, QuickBooks Online and Visma eAccounting through the same sync engine as Fortnox:
chart-of-accounts mapping, VAT codes, the fiscal-year rule, each provider's duplicate protection (Xero's
Idempotency-Key and Reference lookup, QuickBooks' requestid, Visma's YourReference lookup), and the
provider's per-minute limit."""

from __future__ import annotations

from typing import Any

import pytest

import function_app
from devfakes.launcher import Fakes
from integrations.wiring import Hub
from tests.helpers import (
    FAST_QUEUES,
    ApiClient,
    connect_active,
    fortnox,
    invoices,
    mark_inflight,
    run_sync,
    take_events,
)
from tests.setups import ledger_doc
from tools.runner import LocalRunner

ACCOUNTS = {
    "xero": {"license_fees": "200", "tournament_fees": "210"},
    "quickbooks": {"license_fees": "31", "tournament_fees": "32"},  # Item ids (QuickBooks posts lines via Items)
    "visma": {"license_fees": "3010", "tournament_fees": "3020"},
}
ACCOUNT_FIELD: dict[str, Any] = {
    "xero": lambda inv: {line["AccountCode"] for line in inv["LineItems"]},
    "quickbooks": lambda inv: {line["SalesItemLineDetail"]["ItemRef"]["value"] for line in inv["Line"]},
    "visma": lambda inv: {str(row["AccountNumber"]) for row in inv["Rows"]},
}


def active(admin: ApiClient, fakes: Fakes, provider: str, direction: str = "push") -> str:
    fake = fakes.accounting[provider]
    config: dict[str, Any] = {
        "sync_direction": direction,
        "fiscal_year": {"year": 2026, "start_month": 7},
        "chart_of_accounts": ACCOUNTS[provider],
        "default_vat_code": "OUTPUT2" if provider == "xero" else "TAX",
    }
    return connect_active(admin, fake, ledger_doc(provider, fake, config))


@pytest.mark.parametrize("provider", ["xero", "quickbooks", "visma"])
def test_push_invoices_once_each(admin: ApiClient, fakes: Fakes, hub: Hub, provider: str) -> None:
    fake = fakes.accounting[provider]
    fake.per_minute, fake.window_s = 8, 1.0  # the provider's per-minute limit, scaled down
    hub.settings.provider_rate_limits[provider] = {"requests": 8, "per_seconds": 1.0}
    path = active(admin, fakes, provider)

    # fiscal year 2026 runs July 2026 – June 2027: a January 2026 invoice is refused, by field
    early = invoices(1)
    early[0]["invoice_date"] = "2026-01-15"
    r = admin.post(f"{path}/outbox/invoices", json={"invoices": early})
    assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "/invoices/0/invoice_date", r.text

    assert admin.post(f"{path}/outbox/invoices", json={"invoices": invoices(20)}).json()["created"] == 20
    worker = LocalRunner(function_app.app, queue_settings=FAST_QUEUES).queues["queue_sync_jobs"]
    assert admin.post(f"{path}/syncs", json={"operation": "push_invoices"}).status_code == 202
    worker.drain(timeout=60)

    assert len(fake.invoices) == 20 and fake.throttled == 0
    assert set().union(*(ACCOUNT_FIELD[provider](i) for i in fake.invoices)) == set(ACCOUNTS[provider].values())
    run = admin.get(f"{path}/syncs", params={"limit": 1}).json()["items"][0]
    assert run["status"] == "succeeded" and run["created"] == 20, run

    # A crash after the provider answered but before we recorded it: the records are inflight again.
    # The next run must find (or be deduplicated by) the provider, not create them twice.
    mark_inflight(hub, admin.tenant, path.rsplit("/", 1)[1], "invoice")
    assert admin.post(f"{path}/syncs", json={"operation": "push_invoices"}).status_code == 202
    worker.drain(timeout=60)
    assert len(fake.invoices) == 20
    counts = admin.get(f"{path}/status").json()["outbox"]
    assert counts["synced"] == 20, counts


def test_unmapped_category_fails_the_record_not_the_run(admin: ApiClient, fakes: Fakes, hub: Hub) -> None:
    path = active(admin, fakes, "xero")
    # the mapping changes after the invoices were accepted: the record fails by itself, the rest go through
    assert admin.post(f"{path}/outbox/invoices", json={"invoices": invoices(6)}).json()["created"] == 6
    assert admin.post(f"{path}:pause").status_code == 200
    r = admin.patch(path, {"config": {"chart_of_accounts": {"tournament_fees": None}}})
    assert r.status_code == 200, r.text
    assert admin.post(f"{path}:validate").json()["result"]["passed"]
    assert admin.post(f"{path}:resume").status_code == 200
    admin.post(f"{path}/syncs", json={"operation": "push_invoices"})
    LocalRunner(function_app.app, queue_settings=FAST_QUEUES).queues["queue_sync_jobs"].drain(timeout=60)
    run = admin.get(f"{path}/syncs", params={"limit": 1}).json()["items"][0]
    assert run["status"] == "partial" and run["created"] == 4 and run["failed"] == 2, run
    assert "tournament_fees" in run["errors"][0]["message"]

    # Now every waiting record misses the mapping: nothing goes through, and the run says so.
    admin.post(f"{path}/syncs", json={"operation": "push_invoices"})
    LocalRunner(function_app.app, queue_settings=FAST_QUEUES).queues["queue_sync_jobs"].drain(timeout=60)
    run = admin.get(f"{path}/syncs", params={"limit": 1}).json()["items"][0]
    assert run["status"] == "failed" and run["created"] == 0 and run["failed"] == 2, run
    assert run["reason"].startswith("every record failed (2); the first:") and "tournament_fees" in run["reason"]


LEDGER = {
    "fortnox": {"license_fees": "3010", "tournament_fees": "3020", "bank": "1930", "travel": "5800", "input_vat": "2640"},
    "xero": {"license_fees": "200", "tournament_fees": "210", "bank": "090", "travel": "493", "input_vat": "820"},
    "quickbooks": {"license_fees": "31", "tournament_fees": "32", "bank": "35", "travel": "58", "input_vat": "26"},
    "visma": {"license_fees": "3010", "tournament_fees": "3020", "bank": "1930", "travel": "5800", "input_vat": "2640"},
}


def activeledger_doc(admin: ApiClient, fakes: Fakes, provider: str, **flags: bool) -> tuple[str, Any, Any]:
    """An accounting integration with invoice, payment and expense sync; (path, payments, expenses) at the fake."""
    caps = {"invoice_sync": True, "payment_sync": True, "expense_sync": True, **flags}
    config: dict[str, Any] = {"fiscal_year": {"year": 2026}, "chart_of_accounts": LEDGER[provider]}
    if provider == "fortnox":
        fake: Any = fakes.fortnox
        body = fortnox(admin.tenant, oauth_client_id=fake.client_id, credentials={}, capabilities=caps, config=config)
        where = (lambda: fake.payments, lambda: fake.vouchers)
    else:
        fake = fakes.accounting[provider]
        body = ledger_doc(provider, fake, config, capabilities=caps)
        where = (lambda: fake.payments, lambda: fake.expenses)
    return connect_active(admin, fake, body), where[0], where[1]


@pytest.mark.parametrize("provider", ["fortnox", "xero", "quickbooks", "visma"])
def test_payments_and_expenses(admin: ApiClient, fakes: Fakes, hub: Hub, provider: str) -> None:
    path, payments, expenses = activeledger_doc(admin, fakes, provider)

    def run(operation: str) -> dict[str, Any]:
        return run_sync(admin, path, operation)

    admin.post(f"{path}/outbox/invoices", json={"invoices": invoices(3)})
    paid = [
        {"key": f"PAY-{i}", "invoice_key": f"INV-2026-{i:05d}", "amount": 450.0, "currency": "SEK", "paid_on": "2026-11-26"}
        for i in range(2)
    ]
    unknown = admin.post(f"{path}/outbox/payments", json={"payments": [{**paid[0], "invoice_key": "INV-NOPE"}]})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["pointer"] == "/payments/0/invoice_key"
    assert admin.post(f"{path}/outbox/payments", json={"payments": paid}).json()["created"] == 2
    spent = [
        {"key": "EXP-1", "spent_on": "2026-11-20", "description": "Train to Göteborg", "amount": 1250.0,
         "vat_amount": 75.0, "currency": "SEK", "category": "travel"},
        {"key": "EXP-2", "spent_on": "2026-11-21", "description": "Taxi", "amount": 300.0, "currency": "SEK",
         "category": "travel"},
    ]  # fmt: skip
    bad = admin.post(f"{path}/outbox/expenses", json={"expenses": [{**spent[1], "category": "snacks"}]})
    assert bad.status_code == 422 and bad.json()["errors"][0]["pointer"] == "/expenses/0/category"
    assert admin.post(f"{path}/outbox/expenses", json={"expenses": spent}).json()["created"] == 2

    # payments wait for their invoices: nothing is sent, nothing is spent on attempts
    waiting = run("push_payments")
    assert waiting["skipped"] == 2 and waiting["created"] == 0 and payments() == []
    assert run("push_invoices")["created"] == 3
    done = run("push_payments")
    assert done["created"] == 2 and done["status"] == "succeeded", done
    assert len(payments()) == 2
    assert run("push_expenses")["created"] == 2 and len(expenses()) == 2

    # a crash after the ledger answered: found again (or deduplicated), never booked twice
    mark_inflight(hub, admin.tenant, path.rsplit("/", 1)[1], "payment", "expense")
    run("push_payments")
    run("push_expenses")
    assert len(payments()) == 2 and len(expenses()) == 2
    assert admin.get(f"{path}/status").json()["outbox"]["synced"] == 7


def test_pull_invoice_state_from_fortnox(admin: ApiClient, fakes: Fakes, hub: Hub, monkeypatch: Any) -> None:
    """Accounting pull: invoices paid in the ledger come back as invoice.changed events, once per change,
    with MetaInformation paging; a push-only integration does not offer the pull."""

    path, _, _ = activeledger_doc(admin, fakes, "fortnox")
    r = admin.post(f"{path}/syncs", json={"operation": "pull_invoices"})
    assert r.status_code == 422 and "pull_invoices" not in r.json()["errors"][0]["message"]  # direction is push
    assert admin.post(f"{path}:pause").status_code == 200
    assert admin.patch(path, {"config": {"sync_direction": "bidirectional"}}).status_code == 200
    assert admin.post(f"{path}:validate").json()["result"]["passed"]
    assert admin.post(f"{path}:resume").status_code == 200
    monkeypatch.setitem(hub.settings.provider_page_sizes, "fortnox", 4)  # several pages of MetaInformation

    def run(operation: str) -> dict[str, Any]:
        return run_sync(admin, path, operation)

    admin.post(f"{path}/outbox/invoices", json={"invoices": invoices(10)})
    run("push_invoices")
    first = run("pull_invoices")
    assert first["pulled"] == 10, first  # the first pull reports every invoice's state
    take_events(hub)
    assert run("pull_invoices")["pulled"] == 0 and take_events(hub) == []  # nothing changed
    fakes.fortnox.mark_paid(fakes.fortnox.invoices[3]["DocumentNumber"])
    assert run("pull_invoices")["pulled"] == 1
    events = take_events(hub)
    assert [(e["subject"], e["data"]["paid"]) for e in events] == [("INV-2026-00003", True)], events


@pytest.mark.parametrize("provider", ["xero", "quickbooks", "visma"])
def test_pull_invoice_state_from_everyledger_doc(admin: ApiClient, fakes: Fakes, hub: Hub, provider: str) -> None:
    """`bidirectional` means what it says for Xero, QuickBooks and Visma too: invoices paid in the ledger come
    back as invoice.changed events keyed by our invoice key, once per change, read from where the last pull
    left off (each ledger's own modified-since filter), paged the way the catalog says."""
    fake = fakes.accounting[provider]
    path = active(admin, fakes, provider, direction="bidirectional")
    mine = invoices(3)
    for invoice in mine:
        invoice["invoice_date"] = "2026-09-01"  # inside the fiscal year (July 2026 – June 2027)
    assert admin.post(f"{path}/outbox/invoices", json={"invoices": mine}).json()["created"] == 3
    assert run_sync(admin, path, "push_invoices")["created"] == 3
    take_events(hub)

    first = run_sync(admin, path, "pull_invoices")
    assert first["status"] == "succeeded" and first["pulled"] == 3, first
    reported = take_events(hub, "invoice.changed")
    assert sorted(e["data"]["key"] for e in reported) == sorted(i["key"] for i in mine)
    assert not any(e["data"]["paid"] for e in reported)

    assert run_sync(admin, path, "pull_invoices")["pulled"] == 0 and take_events(hub, "invoice.changed") == []
    fake.settle(1)
    third = run_sync(admin, path, "pull_invoices")
    assert third["pulled"] == 1, third
    (paid,) = take_events(hub, "invoice.changed")
    assert paid["data"]["paid"] and paid["data"]["key"] == mine[1]["key"] and paid["subject"] == mine[1]["key"]


@pytest.mark.parametrize("provider", ["quickbooks", "fortnox"])
def test_vat_report_from_the_ledger_or_computed(admin: ApiClient, fakes: Fakes, hub: Hub, provider: str) -> None:
    """QuickBooks has a VAT report (Tax Summary): the hub answers with it. Fortnox has none through its API: the
    hub computes net sales per VAT code from the invoices it delivered, and says so. Off by default."""
    path, _, _ = activeledger_doc(admin, fakes, provider, vat_reporting=True)
    batch = invoices(4)
    for i, invoice in enumerate(batch):
        invoice["invoice_date"] = "2026-10-0" + str(i + 1)
    assert admin.post(f"{path}/outbox/invoices", json={"invoices": batch}).json()["created"] == 4
    assert run_sync(admin, path, "push_invoices")["created"] == 4
    expected_net = sum(line["amount"] for invoice in batch[:3] for line in invoice["lines"])  # Oct 1–3 only

    r = admin.get(f"{path}/accounting/vat-report", params={"from": "2026-10-01", "to": "2026-10-03"})
    assert r.status_code == 200, r.text
    report = r.json()
    assert round(sum(row["net"] for row in report["rows"]), 2) == round(expected_net, 2), report
    if provider == "quickbooks":
        assert report["source"] == "provider" and all(row["vat"] is not None for row in report["rows"])
    else:
        assert report["source"] == "hub" and report["invoices"] == 3 and "Fortnox offers no VAT report" in report["note"]
        assert all(row["vat"] is None for row in report["rows"])

    backwards = admin.get(f"{path}/accounting/vat-report", params={"from": "2026-10-03", "to": "2026-10-01"})
    assert backwards.status_code == 422
    off, _, _ = activeledger_doc(admin, fakes, provider)
    assert admin.get(f"{off}/accounting/vat-report", params={"from": "2026-10-01", "to": "2026-10-03"}).status_code == 409
