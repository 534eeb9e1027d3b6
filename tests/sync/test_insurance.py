"""Insurance on the signed-REST contract (adapters/contracts/insurance.openapi.yaml) against a loopback insurer
that verifies every signature: validation green, precisely red for an unconfigured broker, an unknown policy
group and a key the insurer does not know; licence holders enrolled once each (a replay or a change revises
the enrolment); claims submitted once and their status read back; a premium quote; a certificate PDF kept in
Blob Storage; each service refused while its flag is off; no field beyond the contract's minimum."""

from __future__ import annotations

from typing import Any

from devfakes.insurer import InsurerFake
from devfakes.launcher import INSURER_BROKER, Fakes
from integrations.wiring import Hub
from tests.helpers import ApiClient, mark_inflight, run_sync

GROUP = "G-LIC-2026"


def insurance_doc(broker: str = INSURER_BROKER, *, off: tuple[str, ...] = ()) -> dict[str, Any]:
    flags = ("auto_enrollment", "claims_submission", "premium_calculation", "certificate_generation")
    return {
        "family": "insurance",
        "provider": "signed_rest",
        "display_name": "Gruppförsäkring licensierade",
        "capabilities": {f: f not in off for f in flags},
        "config": {"broker_id": broker, "policy_group_ids": [GROUP], "coverage_types": ["accident", "liability"]},
    }


def connect(admin: ApiClient, fakes: Fakes, *, broker: str = INSURER_BROKER, known: bool = True, **kw: Any) -> str:
    pem, public = InsurerFake.new_key()
    if known:
        fakes.insurer.open_group(broker, GROUP, public)
    path = f"{admin.integrations}/{admin.create(insurance_doc(broker, **kw))['id']}"
    assert admin.request("PUT", f"{path}/credentials/signing_key_ref", json={"value": pem}).status_code == 200
    return path


def active(admin: ApiClient, fakes: Fakes, **kw: Any) -> str:
    path = connect(admin, fakes, **kw)
    result = admin.post(f"{path}:validate").json()["result"]
    assert result["passed"], result
    assert admin.post(f"{path}:activate").status_code == 200
    return path


def holder(n: int, **over: Any) -> dict[str, Any]:
    return {
        "key": f"LIC-2026-{n:06d}",
        "first_name": "Ingrid",
        "last_name": f"Boulesson {n}",
        "birth_date": "1958-04-12",
        "licence_category": "senior",
        "coverage_types": ["accident"],
        **over,
    }


def test_validation_is_green_or_precisely_red(admin: ApiClient, fakes: Fakes) -> None:
    def checks(path: str) -> dict[str, Any]:
        result = admin.post(f"{path}:validate").json()["result"]
        return {"passed": result["passed"], **{c["name"]: c["detail"] for c in result["checks"]}}

    assert checks(connect(admin, fakes))["passed"]
    unknown_broker = checks(connect(admin, fakes, broker="BRK-NOWHERE"))
    assert not unknown_broker["passed"] and "insurer.BRK-NOWHERE" in unknown_broker["insurer.endpoint"]
    stranger = checks(connect(admin, fakes, known=False))  # a key the insurer was never given
    assert not stranger["passed"] and "401" in stranger[f"insurer.group.{GROUP}"], stranger


def test_enrolments_and_claims_are_delivered_once_each(admin: ApiClient, fakes: Fakes, hub: Hub) -> None:
    insurer = fakes.insurer
    path = active(admin, fakes)
    extra = admin.post(f"{path}/outbox/insurance-enrolments", json={"enrolments": [holder(1, address="Storgatan 1")]})
    assert extra.status_code == 422 and extra.json()["errors"][0]["pointer"] == "/enrolments/0/address"  # minimised
    wrong_group = admin.post(f"{path}/outbox/insurance-enrolments", json={"enrolments": [holder(1, policy_group_id="X")]})
    assert wrong_group.status_code == 422 and wrong_group.json()["errors"][0]["pointer"] == "/enrolments/0/policy_group_id"

    r = admin.post(f"{path}/outbox/insurance-enrolments", json={"enrolments": [holder(1), holder(2)]})
    assert r.status_code == 202 and r.json()["created"] == 2, r.text
    run = run_sync(admin, path, "enrol_licence_holders")
    assert run["status"] == "succeeded" and run["created"] == 2, run
    assert len(insurer.enrolments) == 2 and insurer.rejected == []
    first_id = insurer.enrolments[(INSURER_BROKER, GROUP, "LIC-2026-000001")]["enrolment_id"]

    mark_inflight(hub, admin.tenant, path.rsplit("/", 1)[1], "insurance_enrolment")  # a crash after the insurer answered
    run_sync(admin, path, "enrol_licence_holders")
    assert len(insurer.enrolments) == 2  # PUT by licence: the replay revised, never added
    r = admin.post(
        f"{path}/outbox/insurance-enrolments", json={"enrolments": [holder(1, coverage_types=["accident", "liability"])]}
    )
    assert r.json()["replaced"] == 1
    assert run_sync(admin, path, "enrol_licence_holders")["updated"] == 1
    revised = insurer.enrolments[(INSURER_BROKER, GROUP, "LIC-2026-000001")]
    assert revised["enrolment_id"] == first_id and revised["coverage_types"] == ["accident", "liability"]

    claim = {
        "key": "CLM-2026-0042",
        "licence_key": "LIC-2026-000001",
        "occurred_on": "2026-08-14",
        "coverage_type": "accident",
        "description": "Stukad fotled vid kast",
        "amount_minor": 120000,
        "currency": "SEK",
    }
    assert admin.post(f"{path}/outbox/insurance-claims", json={"claims": [claim]}).json()["created"] == 1
    assert run_sync(admin, path, "submit_claims")["created"] == 1
    status = admin.get(f"{path}/insurance/claims/CLM-2026-0042")
    assert status.status_code == 200 and status.json()["status"] == "received", status.text
    insurer.decide(INSURER_BROKER, "CLM-2026-0042", "approved")
    assert admin.get(f"{path}/insurance/claims/CLM-2026-0042").json()["status"] == "approved"
    assert admin.get(f"{path}/insurance/claims/CLM-NOPE").status_code == 404

    pdf = admin.get(f"{path}/insurance/certificates/LIC-2026-000002")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    kept = hub.exports.get(f"{admin.tenant}/{path.rsplit('/', 1)[1]}/certificates/LIC-2026-000002.pdf")
    assert kept == pdf.content
    assert admin.get(f"{path}/insurance/certificates/LIC-2026-999999").status_code == 404


def test_premium_quotes_and_switched_off_services(admin: ApiClient, fakes: Fakes) -> None:
    path = active(admin, fakes)
    body = {"licence_category": "senior", "age_band": "18-64", "coverage_types": ["accident", "liability"]}
    quote = admin.post(f"{path}/insurance/quotes", json=body)
    assert quote.status_code == 200 and quote.json() == {
        "premium_minor": 33_500,
        "currency": "SEK",
        "coverage_types": ["accident", "liability"],
    }, quote.text
    refused = admin.post(f"{path}/insurance/quotes", json={**body, "licence_category": "toddler"})
    assert refused.status_code == 502 and "not insurable" in refused.json()["detail"]

    off = active(admin, fakes, off=("premium_calculation", "auto_enrollment"))
    r = admin.post(f"{off}/insurance/quotes", json=body)
    assert r.status_code == 409 and "capabilities.premium_calculation" in r.json()["detail"]
    r = admin.post(f"{off}/outbox/insurance-enrolments", json={"enrolments": [holder(3)]})
    assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "/enrolments"
