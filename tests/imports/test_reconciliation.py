"""Seed 004's FSP pattern: records go out as a CSV export for a provider without an API, and the provider's
reconciliation file comes back; every row is reported exactly: matched, unmatched, duplicate, mismatched."""

from __future__ import annotations

import csv
import io

from devfakes.launcher import Fakes
from integrations.documents.ref import IntegrationRef
from integrations.wiring import Hub
from tests.helpers import ApiClient
from tests.setups import active_xledger


def reimbursements(n: int) -> list[dict]:
    return [
        {"key": f"RB-{i:04d}", "member_id": f"M{i}", "description": "=HYPERLINK(\"http://evil\")" if i == 2 else "Travel",
         "amount": 320.0 + i, "currency": "NOK", "category": "travel", "approved_on": "2026-11-20"}
        for i in range(n)
    ]  # fmt: skip


def test_export_then_reconcile_reports_every_row_exactly(admin: ApiClient, fakes: Fakes, hub: Hub) -> None:
    doc, path = active_xledger(admin)
    for r in reimbursements(4):  # into the outbox, as the export operation's intake puts them
        hub.outbox.put(IntegrationRef(admin.tenant, doc["id"]), "reimbursement", r["key"], r)

    exported = admin.get(f"{path}/records/reimbursement.csv")
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert [r["key"] for r in rows] == ["RB-0000", "RB-0001", "RB-0002", "RB-0003"]
    assert rows[0]["state"] == "pending" and rows[0]["amount"] == "320.0"
    assert rows[2]["description"].startswith("'=")  # a formula is text in the spreadsheet
    assert admin.get(f"{path}/records/invoice.csv").status_code == 422  # not a kind this integration delivers

    reconciliation = "\r\n".join([
        "reference;status;amount;currency;provider_reference",
        "RB-0000;paid;320,00;NOK;BANK-1",   # matched
        "RB-0001;paid;999,00;NOK;BANK-2",   # mismatched amount: not applied
        "RB-0009;paid;100,00;NOK;BANK-3",   # unmatched
        "RB-0000;paid;320,00;NOK;BANK-1",   # duplicate of line 2
        "RB-0003;rejected;323,00;NOK;",     # matched (a rejection is a status too)
        ";paid;1,00;NOK;",                  # invalid
    ]).encode("cp1252")  # fmt: skip
    r = admin.post(f"{path}/reconciliations", params={"record": "reimbursement"}, data=reconciliation,
                   headers={"Content-Type": "text/csv"})  # fmt: skip
    assert r.status_code == 200, r.text
    report = r.json()
    assert (report["rows"], report["matched"], report["unmatched"], report["duplicate"], report["mismatched"],
            report["invalid"]) == (6, 2, 1, 1, 1, 1)  # fmt: skip
    by_line = {row["line"]: (row["reference"], row["outcome"]) for row in report["report"]}
    assert by_line == {3: ("RB-0001", "mismatched"), 4: ("RB-0009", "unmatched"), 5: ("RB-0000", "duplicate"),
                       7: ("", "invalid")}  # fmt: skip
    outbox = hub.outbox
    assert outbox.provider_status(IntegrationRef(admin.tenant, doc["id"]), "reimbursement", "RB-0000") == "paid"
    assert outbox.provider_status(IntegrationRef(admin.tenant, doc["id"]), "reimbursement", "RB-0003") == "rejected"
    assert outbox.provider_status(IntegrationRef(admin.tenant, doc["id"]), "reimbursement", "RB-0001") is None

    no_header = admin.post(f"{path}/reconciliations", params={"record": "reimbursement"}, data=b"ref,state\r\nx,y\r\n",
                           headers={"Content-Type": "text/csv"})  # fmt: skip
    assert no_header.status_code == 422 and no_header.json()["errors"][0]["pointer"] == "body:file/header"
