"""WADA/ADAMS on our signed contract (adapters/contracts/adams.openapi.yaml) against a loopback ADAMS that verifies
every signature: validation green and precisely red; whereabouts filed once per athlete and quarter (a new
version updates the filing); TUE applications submitted once, their status read back; test results reported
once each as events with only the fields a federation acts on; notifications relayed through the outbound call
queue; every ADAMS read and write in the audit trail, and no health data in any log."""

from __future__ import annotations

import logging
from typing import Any

import pytest

import function_app
from devfakes.adams import AdamsFake
from devfakes.launcher import Fakes
from integrations.documents.ref import IntegrationRef
from integrations.wiring import Hub
from shared.errors import ProviderError
from tests.helpers import FAST_QUEUES, ApiClient, run_sync, take_events
from tools.runner import LocalRunner

ORG = "SWE-NADO"


def connect(admin: ApiClient, fakes: Fakes, *, known: bool = True) -> str:
    pem, public = AdamsFake.new_key()
    if known:
        fakes.adams.register(ORG, public)
    body = {
        "family": "wada_adams",
        "provider": "adams",
        "display_name": "ADAMS (Antidoping Sverige)",
        "capabilities": {"whereabouts_sync": True, "tue_management": True, "test_result_tracking": True,
                         "notification_relay": True},
        "config": {"organization_code": ORG, "sport_codes": ["BOU"], "athlete_pool_ids": ["RTP-2027"]},
    }  # fmt: skip
    path = f"{admin.integrations}/{admin.create(body)['id']}"
    assert admin.request("PUT", f"{path}/credentials/signing_key_ref", json={"value": pem}).status_code == 200
    return path


def filing(athlete: str, location: str = "Boulehallen, Solna") -> dict[str, Any]:
    return {"athlete_id": athlete, "quarter": "2027-Q1", "sport_code": "BOU",
            "slots": [{"date": "2027-01-04", "start": "06:00", "end": "07:00", "location": location}]}  # fmt: skip


def test_validation_is_green_or_precisely_red(admin: ApiClient, fakes: Fakes) -> None:
    green = admin.post(f"{connect(admin, fakes)}:validate").json()["result"]
    assert green["passed"], green
    stranger = admin.post(f"{connect(admin, fakes, known=False)}:validate").json()["result"]
    detail = next(c["detail"] for c in stranger["checks"] if c["name"] == "adams.organization")
    assert not stranger["passed"] and "401" in detail, stranger


def test_a_filing_adams_refuses_is_a_provider_error_naming_it(admin: ApiClient, fakes: Fakes, hub: Hub) -> None:
    """A 422 from ADAMS is a refusal of that record (the run counts it failed), named without ADAMS' own text; the
    payload a run hands the adapter carries no `key`, so the name must not need one."""
    path = connect(admin, fakes)
    document = hub.integrations.get(IntegrationRef(admin.tenant, path.rsplit("/", 1)[1])).document
    adapter: Any = hub.adapter_for(document)
    with pytest.raises(ProviderError) as refused:
        adapter.put_whereabouts({"athlete_id": "A-9", "quarter": "2027-Q1", "sport_code": "BOU", "slots": []})
    assert refused.value.detail == "whereabouts of A-9 for 2027-Q1: ADAMS refused it (422)"


def test_adams_exchange_end_to_end(admin: ApiClient, fakes: Fakes, hub: Hub, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    adams = fakes.adams
    path = connect(admin, fakes)
    assert admin.post(f"{path}:validate").json()["result"]["passed"] and admin.post(f"{path}:activate").status_code == 200

    secret_place = "Gömstället 7, Vaxholm"  # health-adjacent data: it must reach ADAMS and no log
    r = admin.post(f"{path}/outbox/adams-whereabouts", json={"filings": [filing("A-1001", secret_place), filing("A-1002")]})
    assert r.status_code == 202 and r.json()["created"] == 2, r.text
    bad = admin.post(f"{path}/outbox/adams-whereabouts", json={"filings": [{**filing("A-1"), "diagnosis": "x"}]})
    assert bad.status_code == 422 and bad.json()["errors"][0]["pointer"] == "/filings/0/diagnosis"
    twice = filing("A-1")
    twice["slots"] = twice["slots"] * 2  # two slots on one day
    r = admin.post(f"{path}/outbox/adams-whereabouts", json={"filings": [twice]})
    assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "/filings/0/slots", r.text
    assert run_sync(admin, path, "sync_whereabouts")["created"] == 2
    assert adams.filings[(ORG, "A-1001", "2027-Q1")]["slots"][0]["location"] == secret_place
    moved = filing("A-1001", "Boulebanan, Kungsholmen")
    assert admin.post(f"{path}/outbox/adams-whereabouts", json={"filings": [moved]}).json()["replaced"] == 1
    assert run_sync(admin, path, "sync_whereabouts")["updated"] == 1
    assert len(adams.filings) == 2 and adams.rejected == []  # an update of the filing, not a second one
    # Kept only until ADAMS has it: the delivered rows keep key, state and digest, not the whereabouts.
    integration = path.rsplit("/", 1)[1]
    rows = hub.outbox._table.query(
        "PartitionKey eq @pk", parameters={"pk": IntegrationRef(admin.tenant, integration).partition}
    )  # noqa: SLF001
    stored = [r for r in rows if r["RowKey"].startswith("whereabouts|")]
    assert len(stored) == 2 and all(r["State"] == "synced" and r["Payload"] == "{}" for r in stored), stored
    assert "Boulebanan" not in str(stored) and secret_place not in str(stored)
    again = admin.post(f"{path}/outbox/adams-whereabouts", json={"filings": [moved]}).json()
    assert again["unchanged"] == 1  # the same filing again is still recognised (by its digest)

    tue = {"key": "TUE-2027-01", "athlete_id": "A-1001", "sport_code": "BOU", "substance_class": "S3",
           "submitted_on": "2026-12-01"}  # fmt: skip
    assert admin.post(f"{path}/outbox/adams-tues", json={"tues": [tue]}).json()["created"] == 1
    assert run_sync(admin, path, "submit_tues")["created"] == 1
    assert admin.get(f"{path}/adams/tues/TUE-2027-01").json() == {"key": "TUE-2027-01", "status": "submitted"}
    assert admin.get(f"{path}/adams/tues/TUE-NOPE").status_code == 404

    take_events(hub)
    adams.record_result("S-1", "A-1001")
    adams.record_result("S-2", "A-1002", "adverse")
    assert run_sync(admin, path, "pull_test_results")["pulled"] == 2
    results = take_events(hub, "adams.test_result")
    assert sorted((e["data"]["sample_id"], e["data"]["outcome"]) for e in results) == [
        ("S-1", "negative"),
        ("S-2", "adverse"),
    ]
    assert all("lab" not in e["data"] for e in results)  # only the fields a federation acts on
    assert run_sync(admin, path, "pull_test_results")["pulled"] == 0

    call = {"operation": "relay_adams_notification", "key": "N-1",
            "args": {"athlete_id": "A-1002", "kind": "retirement", "effective_on": "2027-01-01"}}  # fmt: skip
    assert admin.post(f"{path}/calls", json=call).status_code == 202
    LocalRunner(function_app.app, queue_settings=FAST_QUEUES).queues["queue_outbound_calls"].drain(timeout=30)
    assert admin.get(f"{path}/calls/N-1").json()["status"] == "succeeded"
    assert adams.notifications[(ORG, "N-1")]["kind"] == "retirement"

    audit = admin.get(f"/api/v1/tenants/{admin.tenant}/audit", params={"action": "adams.access", "limit": 100}).json()
    operations = {a["target"]["operation"] for a in audit["items"]}
    assert {"sync.sync_whereabouts", "sync.submit_tues", "adams.tue_status", "sync.pull_test_results",
            "calls.relay_adams_notification"} <= operations, operations  # fmt: skip
    assert secret_place not in str(audit)
    logged = "\n".join(rec.getMessage() for rec in caplog.records)
    assert secret_place not in logged and "S3" not in logged
