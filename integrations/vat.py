"""The VAT report of a period for an accounting integration (`capabilities.vat_reporting`): the ledger's own
report where its API has one (QuickBooks' Tax Summary), else computed from what the hub delivered to it —
invoices' lines by VAT code (net of VAT) and expenses' input VAT — and said to be so. The providers without a
VAT report API, and why, are named in the answer (`source`, `note`) and in their catalog entries.

Computed figures cover only the hub's own deliveries, not what the ledger holds from elsewhere, and carry no
output VAT amounts: the ledger's VAT codes, not the hub, know their rates."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from adapters import capabilities as can
from integrations.documents.document import AccountingIntegration
from integrations.sync.outbox import Outbox

NO_VAT_API = {
    "fortnox": "Fortnox offers no VAT report through its API (its VAT return is made in the Fortnox app)",
    "xero": "Xero's API has no VAT return for every region (UK returns go through MTD, not the accounting API)",
    "visma": "Visma eAccounting's API lists VAT codes but no VAT report",
}
CAPABILITY = "vat_report"
# The catalog capability → (the adapter Protocol, the document flag switching it on).
SERVICES: dict[str, tuple[type, str]] = {CAPABILITY: (can.VatReports, "vat_reporting")}


def vat_report(
    document: AccountingIntegration, adapter: Any, outbox: Outbox, capabilities: list[str], start: str, end: str
) -> dict[str, Any]:
    period = {"from": start, "to": end}
    if CAPABILITY in capabilities:
        reports: can.VatReports = adapter
        return {"source": "provider", "period": period, **reports.vat_report(start, end)}
    by_code: dict[str, float] = defaultdict(float)
    invoices = 0
    for record in outbox.delivered(document.ref, "invoice"):
        if start <= record.payload["invoice_date"] <= end:
            invoices += 1
            for line in record.payload["lines"]:
                code = line.get("vat_code") or document.config.default_vat_code or "none"
                by_code[code] += float(line["amount"]) * float(line.get("quantity", 1))
    input_vat, expenses = 0.0, 0
    for record in outbox.delivered(document.ref, "expense"):
        if start <= record.payload["spent_on"] <= end:
            expenses += 1
            input_vat += float(record.payload.get("vat_amount") or 0)
    return {
        "source": "hub",
        "period": period,
        "note": NO_VAT_API.get(document.provider, f"{document.provider} offers no VAT report through its API")
        + ": computed from the invoices and expenses the hub delivered.",
        "rows": [{"code": code, "net": round(net, 2), "vat": None} for code, net in sorted(by_code.items())],
        "input_vat": round(input_vat, 2),
        "invoices": invoices,
        "expenses": expenses,
    }
