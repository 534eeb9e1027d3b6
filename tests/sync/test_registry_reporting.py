"""Government registry membership reporting: signed requests (RFC 9421) the registry verifies, reports
delivered on the registry's reporting schedule (which follows the document's config), one report per period
at the registry however often it is sent, and precise reds for a wrong key or an unconfigured country."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import requests

import function_app
from adapters.signing import signature_headers
from devfakes.launcher import Fakes
from devfakes.registry import RegistryFake
from integrations.wiring import Hub
from tests.helpers import FAST_QUEUES, ApiClient, run_sync, take_events
from tools.runner import LocalRunner


def registry_doc(country: str = "se", **config: Any) -> dict[str, Any]:
    return {
        "family": "gov_sports_registry",
        "provider": "signed_rest",
        "display_name": "Riksidrottsförbundet (medlemsrapportering)",
        "capabilities": {"membership_reporting": True},
        "config": {
            "country_code": country,
            "federation_code": "sbf",
            "reporting_schedule": "0 0 3 1 * *",
            "reporting_time_zone": "Europe/Stockholm",
            **config,
        },
    }


def connect(admin: ApiClient, fakes: Fakes, *, enrol: bool = True, country: str = "se") -> tuple[str, str]:
    pem, public = RegistryFake.new_key()
    if enrol:
        fakes.registry.enrol("SBF", "SE", public)
    doc = admin.create(registry_doc(country))
    path = f"{admin.integrations}/{doc['id']}"
    assert admin.request("PUT", f"{path}/credentials/signing_key_ref", json={"value": pem}).status_code == 200
    return path, pem


def report(period: str = "2026", **over: Any) -> dict[str, Any]:
    return {
        "period": period,
        "as_of": "2026-11-01",
        "clubs": [
            {
                "club_id": "C-001",
                "name": "Boule Kungsholmen",
                "members": 120,
                "by_gender": {"female": 70, "male": 50},
                "by_age_band": {"0-20": 10, "21-64": 60, "65+": 50},
            },
            {"club_id": "C-002", "name": "Malmö Petanque", "members": 45},
        ],
        **over,
    }


def test_reports_go_out_signed_on_the_reporting_schedule(admin: ApiClient, fakes: Fakes, hub: Hub) -> None:
    path, _ = connect(admin, fakes)
    assert admin.post(f"{path}:validate").json()["result"]["passed"]
    assert admin.get(f"{path}/status").json()["schedules"] == []  # a draft does not report
    assert admin.post(f"{path}:activate").status_code == 200
    (schedule,) = admin.get(f"{path}/status").json()["schedules"]
    assert schedule["operation"] == "report_memberships" and schedule["time_zone"] == "Europe/Stockholm"
    next_run = datetime.fromisoformat(schedule["next_run_at"])
    assert next_run.day == 1 or (next_run + timedelta(hours=2)).day == 1  # 03:00 Stockholm on the 1st

    r = admin.post(f"{path}/outbox/membership-reports", json={"reports": [report()]})
    assert r.status_code == 202 and r.json()["created"] == 1, r.text

    # the 1st of next month comes: the registered timer and queue functions deliver the report
    real = hub.now
    hub.now = lambda: next_run + timedelta(minutes=1)
    try:
        runner = LocalRunner(function_app.app, queue_settings=FAST_QUEUES)
        runner.timers["timer_due_syncs"].fire()
        runner.queues["queue_sync_jobs"].drain(timeout=60)
    finally:
        hub.now = real
    run = admin.get(f"{path}/syncs", params={"limit": 1}).json()["items"][0]
    assert run["trigger"] == "schedule" and run["status"] == "succeeded" and run["created"] == 1, run
    stored = fakes.registry.reports[("SBF", "2026")]
    assert stored["revision"] == 1 and stored["body"]["total_members"] == 165
    assert stored["body"]["country_code"] == "SE" and fakes.registry.rejected == []

    # a correction of the same period is a revision of the same report; a replay changes nothing
    corrected = report(clubs=[{"club_id": "C-001", "name": "Boule Kungsholmen", "members": 121}])
    assert admin.post(f"{path}/outbox/membership-reports", json={"reports": [corrected]}).json()["replaced"] == 1
    fakes.registry.fail_next = 2  # the registry is down for maintenance at first: retried, still one revision
    run = run_sync(admin, path, "report_memberships")
    assert run["updated"] == 1 and run["created"] == 0, run
    after = fakes.registry.reports[("SBF", "2026")]
    assert after["report_id"] == stored["report_id"] and after["revision"] == 2
    run = run_sync(admin, path, "report_memberships")
    assert run["status"] == "succeeded" and "no membership report pending" in run["reason"]
    assert fakes.registry.puts == 2 and fakes.registry.reports[("SBF", "2026")]["body"]["total_members"] == 121


def test_the_registry_refuses_unsigned_and_tampered_requests(fakes: Fakes, hub: Hub) -> None:
    pem, public = RegistryFake.new_key()
    fakes.registry.enrol("SBF", "SE", public)
    base = fakes.provider_urls["signed_rest"]["base_url.SE"]
    url = f"{base}/federations/SBF/membership-reports/2026"
    body = b'{"period":"2026"}'
    signed = signature_headers(
        "PUT",
        url,
        body=body,
        headers={"Content-Type": "application/json"},
        key_pem=pem,
        key_id="SBF",
        created=datetime.now(UTC),
    )
    assert requests.put(url, data=body, headers={"Content-Type": "application/json"}, timeout=5).status_code == 401
    tampered = requests.put(
        url, data=b'{"period":"2027"}', headers={"Content-Type": "application/json", **signed}, timeout=5
    )
    assert tampered.status_code == 401
    other = requests.put(
        url.replace("2026", "2025"), data=body, headers={"Content-Type": "application/json", **signed}, timeout=5
    )
    assert other.status_code == 401
    stale = signature_headers(
        "GET", f"{base}/federations/SBF", body=None, headers={}, key_pem=pem, key_id="SBF",
        created=datetime.now(UTC) - timedelta(minutes=10),
    )  # fmt: skip
    assert requests.get(f"{base}/federations/SBF", headers=stale, timeout=5).status_code == 401
    assert len(fakes.registry.rejected) == 4 and fakes.registry.reports == {}


def test_precise_reds_and_intake_errors(admin: ApiClient, fakes: Fakes, hub: Hub) -> None:
    # a key the registry does not know
    path, _ = connect(admin, fakes, enrol=False)
    result = admin.post(f"{path}:validate").json()["result"]
    (red,) = [c for c in result["checks"] if not c["passed"]]
    assert result["passed"] is False and red["name"] == "registry.federation" and "401" in red["detail"], result
    # a signing key that is no key
    admin.request("PUT", f"{path}/credentials/signing_key_ref", json={"value": "not a pem"})
    checks = admin.post(f"{path}:validate").json()["result"]["checks"]
    assert [c["detail"] for c in checks if not c["passed"]] == ["the signing key is not a PEM private key"]
    # a country whose registry the operator has not configured
    pem, _ = RegistryFake.new_key()
    doc = admin.create(registry_doc("no"))
    admin.request("PUT", f"{admin.integrations}/{doc['id']}/credentials/signing_key_ref", json={"value": pem})
    checks = admin.post(f"{admin.integrations}/{doc['id']}:validate").json()["result"]["checks"]
    (red,) = [c for c in checks if not c["passed"]]
    assert red["name"] == "registry.endpoint" and "base_url.NO" in red["detail"]
    # reporting needs a schedule
    body = registry_doc()
    del body["config"]["reporting_schedule"]
    r = admin.post(admin.integrations, json=body)
    assert r.status_code == 422 and "reporting_schedule" in r.text
    # breakdowns must add up, field by field
    bad = report()
    bad["clubs"][0]["by_gender"] = {"female": 70, "male": 49}
    r = admin.post(f"{path}/outbox/membership-reports", json={"reports": [bad]})
    assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "/reports/0/clubs/0/by_gender", r.text
    twice = report()
    twice["clubs"] = twice["clubs"] * 2  # a club counted twice
    r = admin.post(f"{path}/outbox/membership-reports", json={"reports": [twice]})
    assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "/reports/0/clubs", r.text
    r = admin.post(f"{path}/outbox/membership-reports", json={"reports": [report(period="2026-13")]})
    assert r.status_code == 422 and r.json()["errors"][0]["pointer"].startswith("/reports/0/period"), r.text


def test_the_schedule_follows_the_document(admin: ApiClient, fakes: Fakes, hub: Hub) -> None:
    path, _ = connect(admin, fakes)
    assert admin.post(f"{path}:validate").json()["result"]["passed"]
    assert admin.post(f"{path}:activate").status_code == 200
    r = admin.request("PUT", f"{path}/syncs/schedules/report_memberships", json={"cron": "0 0 1 * * *"})
    assert r.status_code == 422 and "reporting_schedule" in r.text  # one place to change it: the config

    # changing it means pausing (no reports while paused), editing, validating, resuming
    assert admin.post(f"{path}:pause").status_code == 200
    assert admin.get(f"{path}/status").json()["schedules"] == []
    assert admin.patch(path, {"config": {"reporting_schedule": "0 0 4 15 * *"}}).status_code == 200
    assert admin.get(f"{path}/status").json()["schedules"] == []
    assert admin.post(f"{path}:validate").json()["result"]["passed"]
    assert admin.post(f"{path}:resume").status_code == 200
    (schedule,) = admin.get(f"{path}/status").json()["schedules"]
    assert schedule["cron"] == "0 0 4 15 * *" and datetime.fromisoformat(schedule["next_run_at"]).day in (14, 15)
    assert admin.delete(path).status_code == 200  # decommissioned: no more reports
    assert admin.get(f"{path}/status").json()["schedules"] == []


def test_insurers_on_signed_rest_do_not_report_memberships(admin: ApiClient) -> None:
    from tests.helpers import every_family

    (insurer,) = [d for d in every_family(admin.tenant) if d["family"] == "insurance"]
    doc = admin.create(insurer)
    r = admin.post(f"{admin.integrations}/{doc['id']}/syncs", json={"operation": "report_memberships"})
    assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "/operation", r.text


def test_grants_facilities_events_and_compliance(admin: ApiClient, fakes: Fakes, hub: Hub) -> None:
    """The registry's other reports: grant applications, facility registrations and event reports delivered once
    each (a second PUT amends), a grant's status read back, compliance obligations reported once per change;
    each behind its own flag."""
    registry = fakes.registry
    pem, public = RegistryFake.new_key()
    registry.enrol("SBF", "SE", public)
    flags = {"membership_reporting": False, "grant_applications": True, "facility_registration": True,
             "event_reporting": True, "compliance_tracking": True}  # fmt: skip
    doc = admin.create({**registry_doc(), "capabilities": flags})
    path = f"{admin.integrations}/{doc['id']}"
    assert admin.request("PUT", f"{path}/credentials/signing_key_ref", json={"value": pem}).status_code == 200
    assert admin.post(f"{path}:validate").json()["result"]["passed"] and admin.post(f"{path}:activate").status_code == 200

    grant = {"key": "GR-2027-1", "programme": "Idrottslyftet 2027", "purpose": "Nya banor för ungdomar",
             "amount_minor": 5_000_000, "currency": "SEK", "year": 2027}  # fmt: skip
    facility = {"key": "F-SOLNA", "name": "Boulehallen Solna", "kind": "indoor_hall", "address": "Arenavägen 1",
                "pistes": 24, "accessible": True}  # fmt: skip
    event = {"key": "SM-2027", "title": "SM i boule", "starts_on": "2027-06-12", "ends_on": "2027-06-13",
             "level": "national", "participants": 412, "clubs": 61}  # fmt: skip
    for route, field, item in (("grant-applications", "applications", grant), ("facilities", "facilities", facility),
                               ("event-reports", "events", event)):  # fmt: skip
        r = admin.post(f"{path}/outbox/registry-{route}", json={field: [item]})
        assert r.status_code == 202 and r.json()["created"] == 1, r.text
    backwards = admin.post(f"{path}/outbox/registry-event-reports", json={"events": [{**event, "ends_on": "2027-06-01"}]})
    assert backwards.status_code == 422
    for operation in ("submit_grant_applications", "register_facilities", "report_events"):
        assert run_sync(admin, path, operation)["created"] == 1, operation
    assert {k[1] for k in registry.filings} == {"grant-applications", "facilities", "event-reports"}
    assert registry.rejected == []

    corrected = {**event, "participants": 420}  # a correction revises the report at the registry
    assert admin.post(f"{path}/outbox/registry-event-reports", json={"events": [corrected]}).json()["replaced"] == 1
    assert run_sync(admin, path, "report_events")["updated"] == 1
    assert registry.filings[("SBF", "event-reports", "SM-2027")]["participants"] == 420

    status = admin.get(f"{path}/registry/grant-applications/GR-2027-1")
    assert status.status_code == 200 and status.json()["status"] == "submitted", status.text
    assert admin.get(f"{path}/registry/grant-applications/GR-NOPE").status_code == 404

    take_events(hub)
    registry.oblige("SBF", "OB-1", "Årsredovisning 2026", "2027-03-31")
    registry.oblige("SBF", "OB-2", "Antidopingplan", "2027-02-15")
    assert run_sync(admin, path, "track_compliance")["pulled"] == 2
    assert sorted(e["data"]["obligation_id"] for e in take_events(hub, "compliance_obligation")) == ["OB-1", "OB-2"]
    registry.oblige("SBF", "OB-2", "Antidopingplan", "2027-02-15", status="fulfilled")
    assert run_sync(admin, path, "track_compliance")["pulled"] == 1
    assert [e["data"]["status"] for e in take_events(hub, "compliance_obligation")] == ["fulfilled"]

    r = admin.post(f"{path}/syncs", json={"operation": "report_memberships"})
    assert r.status_code == 422  # membership reporting is off here
