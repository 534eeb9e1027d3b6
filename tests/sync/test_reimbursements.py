"""Seed 002's exportReimbursements to Xledger: approved reimbursements become ledger entries, once each,
with record-level errors reported and retried next run."""

from __future__ import annotations

import function_app
from devfakes.keyed import GOOD
from devfakes.launcher import Fakes
from integrations.documents.ref import IntegrationRef
from integrations.wiring import Hub
from tests.helpers import FAST_QUEUES, ApiClient
from tests.setups import XLEDGER, active_xledger
from tools.runner import LocalRunner


def reimbursements(n: int, *, bad: int | None = None) -> list[dict]:
    return [
        {
            "key": f"RB-{i:04d}",
            "member_id": f"M{i}",
            "description": "Travel to the national final",
            "amount": 0 if i == bad else 320.0 + i,
            "currency": "NOK",
            "category": "travel",
            "approved_on": "2026-11-20",
        }
        for i in range(n)
    ]


def test_export_reimbursements_once_each(admin: ApiClient, fakes: Fakes, hub: Hub) -> None:
    doc, path = active_xledger(admin)
    # Xledger only exports reimbursements: invoices handed to it would wait forever, so they are refused.
    invoice = {"key": "INV-1", "customer_number": "1", "invoice_date": "2026-11-20", "currency": "SEK"}
    invoice["lines"] = [{"category": "travel", "description": "Licens", "amount": 100}]
    refused = admin.post(f"{path}/outbox/invoices", json={"invoices": [invoice]})
    assert refused.status_code == 422 and refused.json()["errors"][0]["pointer"] == "/invoices", refused.text
    bad = reimbursements(1)
    bad[0]["category"] = "snacks"
    r = admin.post(f"{path}/reimbursements:export", json={"reimbursements": bad})
    assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "/reimbursements/0/category"

    run = admin.post(f"{path}/reimbursements:export", json={"reimbursements": reimbursements(30)})
    assert run.status_code == 202, run.text
    worker = LocalRunner(function_app.app, queue_settings=FAST_QUEUES).queues["queue_sync_jobs"]
    worker.drain(timeout=60)
    entries = fakes.keyed.xledger_entries
    assert len(entries) == 30 and {e["account"] for e in entries} == {"7140"}
    # the same export again (a retry from the platform): nothing new at the ledger
    admin.post(f"{path}/reimbursements:export", json={"reimbursements": reimbursements(30)})
    worker.drain(timeout=60)
    assert len(entries) == 30
    result = admin.get(f"{path}/syncs", params={"limit": 2}).json()["items"]
    assert [r["status"] for r in result] == ["succeeded", "succeeded"] and result[1]["created"] == 30


def test_inflight_records_are_looked_up_not_duplicated(admin: ApiClient, fakes: Fakes, hub: Hub) -> None:
    from integrations.sync.operation import SyncEnv
    from integrations.sync.operations import export_reimbursements
    from integrations.sync.outbox import RecordState

    doc = admin.create(XLEDGER)
    admin.request("PUT", f"{admin.integrations}/{doc['id']}/credentials/api_key_ref", json={"value": GOOD["xledger"]})
    document = hub.integrations.get(IntegrationRef(admin.tenant, doc["id"])).document
    items = reimbursements(5, bad=4)
    for item in items:
        hub.outbox.put(document.ref, "reimbursement", item["key"], item)
    adapter = hub.adapter_for(document)
    # a crash after the ledger accepted RB-0000 but before we recorded it: the row stays inflight
    adapter.export_reimbursement(items[0])
    record = hub.outbox.get(document.ref, "reimbursement", "RB-0000")
    hub.outbox.mark_many(document.ref, [(record, RecordState.inflight, None, "")])
    progress = export_reimbursements(
        adapter,
        hub.outbox,
        document,
        SyncEnv(heartbeat=lambda progress=None: None, state=hub.sync_state, emit=lambda e: None, started_at=hub.now()),
    )
    assert (progress.created, progress.skipped, progress.failed) == (3, 1, 1)
    assert len(fakes.keyed.xledger_entries) == 4  # RB-0000 once; RB-0004 rejected (record error, not a crash)
    assert "positive amount" in progress.errors[0]["message"]
