"""Seed 002's CSV fallback: Cornerstone enrollments exported as one CSV per run to Blob Storage (Azurite),
downloadable through the API; records are delivered once."""

from __future__ import annotations

import csv
import io

import function_app
from devfakes.keyed import GOOD
from devfakes.launcher import Fakes
from integrations.wiring import Hub
from tests.helpers import FAST_QUEUES, ApiClient
from tools.runner import LocalRunner


def test_enrollments_csv_export(admin: ApiClient, hub: Hub) -> None:
    doc = admin.create({"family": "lms", "provider": "cornerstone", "display_name": "Cornerstone"})
    path = f"{admin.integrations}/{doc['id']}"
    assert admin.post(f"{path}:validate").json()["result"]["passed"]
    assert admin.post(f"{path}:activate").status_code == 200
    rows = [
        {
            "key": f"EN-{i}",
            "member_id": f"M{i}",
            "course_id": "REF-1",
            "course_title": 'Referee, "level 1"',
            "status": "completed" if i % 2 else "enrolled",
            "enrolled_on": "2026-10-01",
            **({"completed_on": "2026-11-01"} if i % 2 else {}),
        }
        for i in range(3)
    ]
    assert admin.post(f"{path}/outbox/enrollments", json={"enrollments": rows}).json()["created"] == 3
    run = admin.post(f"{path}/syncs", json={"operation": "export_enrollments_csv"}).json()
    worker = LocalRunner(function_app.app, queue_settings=FAST_QUEUES).queues["queue_sync_jobs"]
    worker.drain(timeout=60)
    done = admin.get(f"{path}/syncs/{run['id']}").json()
    assert done["status"] == "succeeded" and done["created"] == 3
    r = admin.get(f"{path}/exports/enrollments-{run['id']}.csv")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")
    parsed = list(csv.DictReader(io.StringIO(r.text)))
    assert [p["member_id"] for p in parsed] == ["M0", "M1", "M2"] and parsed[0]["course_title"] == 'Referee, "level 1"'
    assert parsed[1]["completed_on"] == "2026-11-01" and parsed[0]["completed_on"] == ""
    again = admin.post(f"{path}/syncs", json={"operation": "export_enrollments_csv"}).json()
    worker.drain(timeout=60)
    assert admin.get(f"{path}/syncs/{again['id']}").json()["created"] == 0  # nothing delivered twice
    assert admin.get(f"{path}/exports/enrollments-{again['id']}.csv").status_code == 404


def test_partner_api_first_csv_when_it_is_down(admin: ApiClient, hub: Hub, fakes: Fakes) -> None:
    """With a partner API configured, enrollments go over HTTP (PUT by key); when the API stays down during a
    run, the rest of the run is delivered as CSV and the run says so."""
    partner = fakes.keyed
    doc = admin.create({"family": "lms", "provider": "cornerstone", "display_name": "Cornerstone"})
    path = f"{admin.integrations}/{doc['id']}"
    admin.request("PUT", f"{path}/credentials/api_key_ref", json={"value": GOOD["partner"]})
    result = admin.post(f"{path}:validate").json()["result"]
    assert result["passed"] and "partner.api" in [c["name"] for c in result["checks"]], result
    assert admin.post(f"{path}:activate").status_code == 200
    worker = LocalRunner(function_app.app, queue_settings=FAST_QUEUES).queues["queue_sync_jobs"]

    def sync(rows: list[dict]) -> dict:
        admin.post(f"{path}/outbox/enrollments", json={"enrollments": rows})
        run = admin.post(f"{path}/syncs", json={"operation": "sync_enrollments"}).json()
        worker.drain(timeout=60)
        return admin.get(f"{path}/syncs/{run['id']}").json()

    first = sync(enrollments(0, 5))
    assert first["status"] == "succeeded" and first["created"] == 5 and len(partner.partner_enrollments) == 5
    assert first["reason"] == ""

    partner.partner_down = True
    second = sync(enrollments(5, 9))
    assert second["status"] == "succeeded" and second["created"] == 4, second
    assert "partner API unavailable" in second["reason"] and f"enrollments-{second['id']}.csv" in second["reason"]
    exported = list(csv.DictReader(io.StringIO(admin.get(f"{path}/exports/enrollments-{second['id']}.csv").text)))
    assert [r["member_id"] for r in exported] == ["M5", "M6", "M7", "M8"]
    assert len(partner.partner_enrollments) == 5  # the API saw none of them

    partner.partner_down = False
    third = sync(enrollments(9, 10))
    assert third["created"] == 1 and len(partner.partner_enrollments) == 6  # back on the API, nothing re-sent


def enrollments(start: int, stop: int) -> list[dict]:
    return [
        {
            "key": f"EN-{i}",
            "member_id": f"M{i}",
            "course_id": "REF-1",
            "course_title": "Referee level 1",
            "status": "enrolled",
            "enrolled_on": "2026-10-01",
        }
        for i in range(start, stop)
    ]


def test_consio_is_an_lms_partner_with_nothing_of_a_crm_to_fill_in(admin: ApiClient, hub: Hub, fakes: Fakes) -> None:
    """Seed 002's Consio adapter exchanges enrollments (API when a contract provides one, else CSV): it is an LMS
    family provider, created with no CRM settings (member object, field map) it would never use."""
    crm = admin.post(admin.integrations, json={"family": "crm", "provider": "consio", "display_name": "Consio"})
    assert crm.status_code == 422 and crm.json()["errors"][0]["pointer"].startswith("/provider"), crm.text
    doc = admin.create({"family": "lms", "provider": "consio", "display_name": "Consio"})
    path = f"{admin.integrations}/{doc['id']}"
    assert admin.post(f"{path}:validate").json()["result"]["passed"]
    assert admin.post(f"{path}:activate").status_code == 200
    row = {
        "key": "EN-1",
        "member_id": "M1",
        "course_id": "DOM-1",
        "course_title": "Domare",
        "status": "enrolled",
        "enrolled_on": "2026-10-01",
    }
    assert admin.post(f"{path}/outbox/enrollments", json={"enrollments": [row]}).json()["created"] == 1
    run = admin.post(f"{path}/syncs", json={"operation": "export_enrollments_csv"}).json()
    LocalRunner(function_app.app, queue_settings=FAST_QUEUES).queues["queue_sync_jobs"].drain(timeout=60)
    assert admin.get(f"{path}/syncs/{run['id']}").json()["created"] == 1
    exported = admin.get(f"{path}/exports/enrollments-{run['id']}.csv")
    assert exported.status_code == 200 and "DOM-1" in exported.text
