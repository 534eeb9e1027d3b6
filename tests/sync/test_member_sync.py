"""Seed 002's bidirectional member sync with Dynamics 365 (Dataverse): paging by @odata.nextLink, If-Match
on updates, the conflict rule (field ownership, then the later change wins) and loop prevention (nothing
the hub wrote comes back as a change, nothing it emitted is written back)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import function_app
from devfakes.launcher import Fakes
from integrations.documents.ref import IntegrationRef
from integrations.sync.operation import SyncEnv
from integrations.wiring import Hub
from tests.helpers import FAST_QUEUES, ApiClient, mark_inflight, take_events
from tests.setups import active_dynamics, active_espo, crm_doc
from tools.runner import LocalRunner


def members(n: int, *, at: datetime, **over: Any) -> list[dict[str, Any]]:
    return [
        {
            "key": f"M-{i:04d}",
            "updated_at": at.isoformat(),
            "fields": {
                "first_name": f"Anna{i}",
                "last_name": "Lindqvist",
                "email": f"anna{i}@example.se",
                "phone": "+4670000000",
                "membership_status": "active",
                **over,
            },
        }
        for i in range(n)
    ]


def take_member_events(hub: Hub) -> list[dict[str, Any]]:
    return take_events(hub, ".member.")


class Dynamics:
    def __init__(self, admin: ApiClient, fakes: Fakes, hub: Hub) -> None:
        self.admin, self.fake, self.hub = admin, fakes.dynamics, hub
        doc = admin.create(crm_doc("dynamics365", self.fake))
        self.path = f"{admin.integrations}/{doc['id']}"
        admin.request("PUT", f"{self.path}/credentials/oauth_client_secret_ref", json={"value": self.fake.client_secret})
        assert admin.post(f"{self.path}:validate").json()["result"]["passed"]
        assert admin.post(f"{self.path}:activate").status_code == 200
        self.worker = LocalRunner(function_app.app, queue_settings=FAST_QUEUES).queues["queue_sync_jobs"]

    def put(self, batch: list[dict[str, Any]]) -> dict[str, Any]:
        r = self.admin.post(f"{self.path}/outbox/members", json={"members": batch})
        assert r.status_code == 202, r.text
        return r.json()

    def sync(self) -> dict[str, Any]:
        assert self.admin.post(f"{self.path}/syncs", json={"operation": "sync_members"}).status_code == 202
        self.worker.drain(timeout=60)
        return self.admin.get(f"{self.path}/syncs", params={"limit": 1}).json()["items"][0]


def _run_env(hub: Hub, events: list[dict[str, Any]]) -> SyncEnv:
    """What a run hands the member sync, for calling it directly (no queue, no lease)."""
    return SyncEnv(
        heartbeat=lambda progress=None: None,
        mirror=hub.member_mirror,
        emit=events.append,
        state=hub.sync_state,
        started_at=hub.now(),
    )


def test_bidirectional_member_sync_with_dynamics(admin: ApiClient, fakes: Fakes, hub: Hub) -> None:
    d = Dynamics(admin, fakes, hub)
    fake = d.fake
    fake.max_page = 7  # Dataverse pages by @odata.nextLink: force several pages
    now = datetime.now(UTC)

    # unmapped fields are refused by name
    r = admin.post(f"{d.path}/outbox/members", json={"members": members(1, at=now, shoe_size=42)})
    assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "/members/0/fields/shoe_size"

    # 1. first push: 30 contacts, keyed by our member key; the CRM-owned field is never pushed
    d.put(members(30, at=now, segment="ignored-by-rule"))
    run = d.sync()
    assert run["status"] == "succeeded" and run["created"] == 30, run
    assert len(fake.contacts) == 30 and fake.writes == 30
    contact = fake.by_key("M-0003")
    assert contact["firstname"] == "Anna3" and "hlf_segment" not in contact
    take_member_events(hub)  # our own creates coming back on the pull are not news

    # 2. nothing changed anywhere: the next run reads (all pages) and writes nothing, emits nothing
    calls, writes = fake.list_calls, fake.writes
    run = d.sync()
    assert fake.writes == writes and run["pulled"] == 0 and take_member_events(hub) == []
    assert fake.list_calls - calls >= 5  # 30 records / 7 per page, followed by nextLink

    # 3. CRM edits: a shared field and the CRM-owned one flow to the platform; a platform-owned one does not
    fake.clock_offset_s = 5
    fake.crm_edit(fake.by_key("M-0003")["contactid"], {"telephone1": "+4671111111", "hlf_segment": "elite"})
    fake.crm_edit(fake.by_key("M-0004")["contactid"], {"hlf_membershipstatus": "lapsed"})
    run = d.sync()
    events = take_member_events(hub)
    assert [(e["subject"], e["data"]["fields"]) for e in events] == [
        ("M-0003", {"phone": "+4671111111", "segment": "elite"})
    ], events
    assert events[0]["type"] == "dev.integration-hub.member.changed"
    # the platform-owned field was restored in the same run (and only that contact was written)
    assert fake.by_key("M-0004")["hlf_membershipstatus"] == "active" and fake.writes == writes + 1
    writes = fake.writes

    # 4. the platform echoes what it was told: no write back to the CRM (loop prevention)
    echo = members(30, at=datetime.now(UTC) + timedelta(seconds=10))[3]
    echo["fields"]["phone"] = "+4671111111"
    d.put([echo])
    d.sync()
    assert fake.writes == writes and take_member_events(hub) == []

    # 5. a concurrent edit: platform later than the CRM → platform wins; CRM later → CRM wins
    fake.clock_offset_s = 60
    fake.crm_edit(fake.by_key("M-0005")["contactid"], {"emailaddress1": "crm5@example.se"})
    fake.crm_edit(fake.by_key("M-0006")["contactid"], {"emailaddress1": "crm6@example.se"})
    later, earlier = datetime.now(UTC) + timedelta(seconds=120), datetime.now(UTC)
    m5 = members(30, at=later, email="platform5@example.se")[5]
    m6 = members(30, at=earlier, email="platform6@example.se")[6]
    d.put([m5, m6])
    run = d.sync()
    assert fake.by_key("M-0005")["emailaddress1"] == "platform5@example.se"
    assert fake.by_key("M-0006")["emailaddress1"] == "crm6@example.se"
    events = take_member_events(hub)
    assert [(e["subject"], e["data"]["fields"]) for e in events] == [("M-0006", {"email": "crm6@example.se"})]


def test_if_match_conflict_is_merged_not_overwritten(admin: ApiClient, fakes: Fakes, hub: Hub) -> None:
    d = Dynamics(admin, fakes, hub)
    fake = d.fake
    now = datetime.now(UTC)
    d.put(members(3, at=now))
    d.sync()
    take_member_events(hub)
    contact_id = fake.by_key("M-0001")["contactid"]
    # someone saves the contact in Dynamics between our read and our PATCH
    fake.edit_before_patch[contact_id] = {"telephone1": "+4673333333"}
    d.put([members(3, at=now + timedelta(seconds=30), email="new1@example.se")[1]])
    run = d.sync()
    assert run["status"] == "succeeded" and run["updated"] == 1, run
    contact = fake.contacts[contact_id]
    assert contact["emailaddress1"] == "new1@example.se" and contact["telephone1"] == "+4673333333"
    events = take_member_events(hub)
    assert [e["data"]["fields"] for e in events] == [{"phone": "+4673333333"}]


def test_crm_created_contact_is_emitted_as_a_new_member(admin: ApiClient, fakes: Fakes, hub: Hub) -> None:
    d = Dynamics(admin, fakes, hub)
    with fakes.dynamics.lock:
        row = {"contactid": "0000aaaa-0000-4000-8000-000000000001", "firstname": "Nils", "lastname": "Berg"}
        fakes.dynamics._stamp(row)
        fakes.dynamics.contacts[row["contactid"]] = row
    d.sync()
    events = take_member_events(hub)
    assert events[0]["type"] == "dev.integration-hub.member.created"
    assert events[0]["subject"] == f"crm-{row['contactid']}" and events[0]["data"]["fields"]["first_name"] == "Nils"


def test_espocrm_member_sync_resumes_after_an_outage_mid_pull(
    admin: ApiClient, fakes: Fakes, hub: Hub, monkeypatch: Any
) -> None:
    """EspoCRM (seed 004): offset paging, versionNumber concurrency; a pull that dies on page 3 resumes from
    its checkpoint and emits each change once."""
    from integrations.sync.operations import sync_members
    from shared.errors import ProviderError

    monkeypatch.setitem(hub.settings.provider_page_sizes, "espocrm", 4)
    espo = fakes.keyed
    doc, path = active_espo(admin)
    now = datetime.now(UTC)
    assert admin.post(f"{path}/outbox/members", json={"members": members(12, at=now)}).status_code == 202

    document = hub.integrations.get(IntegrationRef(admin.tenant, doc["id"])).document
    events: list[dict[str, Any]] = []
    env = _run_env(hub, events)
    progress = sync_members(hub.adapter_for(document), hub.outbox, document, env)
    assert progress.created == 12 and len(espo.espo_contacts) == 12
    assert {c["cHubMemberKey"] for c in espo.espo_contacts.values()} == {f"M-{i:04d}" for i in range(12)}

    # nothing new: a full read, no writes, no events
    writes = espo.espo_writes
    assert sync_members(hub.adapter_for(document), hub.outbox, document, env).pulled == 0
    assert espo.espo_writes == writes and events == []

    # ten CRM edits, then the CRM goes down after two pages of four
    espo.espo_clock_offset_s = 5
    for i in range(10):
        contact = next(c for c in espo.espo_contacts.values() if c["cHubMemberKey"] == f"M-{i:04d}")
        espo.espo_edit(contact["id"], {"lastname": f"Edited{i}"})
    espo.espo_list_calls, espo.espo_fail_list_after = 0, 2
    with pytest.raises(ProviderError):
        sync_members(hub.adapter_for(document), hub.outbox, document, env)
    first = len(events)
    assert 0 < first < 10
    espo.espo_fail_list_after = None
    sync_members(hub.adapter_for(document), hub.outbox, document, env)
    changed = sorted(e["subject"] for e in events)
    assert changed == [f"M-{i:04d}" for i in range(10)], changed  # each once, none lost
    assert espo.espo_writes == writes  # and nothing written back


def test_change_tracking_deletes_and_an_expired_delta_link(admin: ApiClient, fakes: Fakes, hub: Hub) -> None:
    """Dataverse change tracking: a contact deleted in the CRM is emitted as member.deleted and created again
    when the platform next sends the member; an expired delta link costs one full read and no false events."""
    d = Dynamics(admin, fakes, hub)
    fake = d.fake
    now = datetime.now(UTC)
    d.put(members(6, at=now))
    d.sync()
    d.sync()  # the walk that sees our own creates
    take_member_events(hub)

    gone = fake.by_key("M-0002")["contactid"]
    fake.crm_delete(gone)
    run = d.sync()
    events = take_member_events(hub)
    assert [(e["type"], e["subject"]) for e in events] == [("dev.integration-hub.member.deleted", "M-0002")], events
    assert run["pulled"] == 1
    d.put([members(6, at=now + timedelta(seconds=30), phone="+4679999999")[2]])
    d.sync()
    assert fake.by_key("M-0002")["contactid"] != gone and fake.by_key("M-0002")["telephone1"] == "+4679999999"

    # the CRM forgets our delta link: one full read, events only for what really changed meanwhile
    fake.clock_offset_s = 30
    fake.crm_edit(fake.by_key("M-0004")["contactid"], {"lastname": "Holm"})
    fake.expired_before = fake.seq  # every link issued before now
    take_member_events(hub)
    run = d.sync()
    assert "expired" in run["reason"] and run["status"] == "succeeded", run
    assert [(e["subject"], e["data"]["fields"]) for e in take_member_events(hub)] == [("M-0004", {"last_name": "Holm"})]
    assert "expired" not in d.sync()["reason"]  # the new delta link works


def test_a_new_member_version_during_a_run_is_not_lost(admin: ApiClient, fakes: Fakes, hub: Hub) -> None:
    """The platform sends version 2 while a run is pushing version 1: the run's conditional marks leave
    version 2 pending, and the next run delivers it."""
    from integrations.sync.outbox import RecordState

    d = Dynamics(admin, fakes, hub)
    tenant, integration = admin.tenant, d.path.rsplit("/", 1)[1]
    now = datetime.now(UTC)
    d.put(members(1, at=now))
    (v1,) = list(hub.outbox.due(IntegrationRef(tenant, integration), "member", max_attempts=5))
    d.put(members(1, at=now + timedelta(seconds=5), email="v2@example.se"))  # arrives mid-run
    assert hub.outbox.mark_if_unchanged(IntegrationRef(tenant, integration), v1, RecordState.synced) is None
    assert hub.outbox.get(IntegrationRef(tenant, integration), "member", "M-0000").state == RecordState.pending
    d.sync()
    assert fakes.dynamics.by_key("M-0000")["emailaddress1"] == "v2@example.se"
    assert hub.outbox.get(IntegrationRef(tenant, integration), "member", "M-0000").state == RecordState.synced


def test_espocrm_version_conflict_is_merged(admin: ApiClient, fakes: Fakes, hub: Hub) -> None:
    """EspoCRM's optimistic concurrency: a PUT with a stale versionNumber answers 409; the hub re-reads,
    applies the rule and writes what still wins, and the CRM user's edit reaches the platform."""
    from integrations.sync.operations import sync_members

    espo = fakes.keyed
    doc, path = active_espo(admin)
    now = datetime.now(UTC)
    admin.post(f"{path}/outbox/members", json={"members": members(2, at=now)})
    document = hub.integrations.get(IntegrationRef(admin.tenant, doc["id"])).document
    events: list[dict[str, Any]] = []
    env = _run_env(hub, events)
    sync_members(hub.adapter_for(document), hub.outbox, document, env)
    contact = next(c for c in espo.espo_contacts.values() if c["cHubMemberKey"] == "M-0001")
    espo.espo_edit_before_put[contact["id"]] = {"telephone1": "+4674444444"}
    admin.post(f"{path}/outbox/members", json={"members": [members(2, at=now + timedelta(seconds=30), email="e@x.se")[1]]})
    progress = sync_members(hub.adapter_for(document), hub.outbox, document, env)
    assert progress.updated == 1 and progress.failed == 0, progress
    assert contact["emailaddress1"] == "e@x.se" and contact["telephone1"] == "+4674444444"
    assert [e["data"]["fields"] for e in events] == [{"phone": "+4674444444"}]


def test_event_attendance_lands_in_the_event_tag_field(admin: ApiClient, fakes: Fakes, hub: Hub) -> None:
    """Seed 003's event tag: attendance is appended to the member's tag field (once, whatever the replays),
    waits for members not yet in the CRM, and survives a concurrent edit (412 → read again)."""
    from tests.helpers import run_sync

    d = Dynamics(admin, fakes, hub)
    fake = d.fake
    d.put(members(2, at=datetime.now(UTC)))
    d.sync()
    attendance = [
        {"key": "A1", "member_key": "M-0000", "label": "SM i boule 2026"},
        {"key": "A2", "member_key": "M-0000", "label": "Klubbkväll november"},
        {"key": "A3", "member_key": "M-0001", "label": "SM i boule 2026"},
        {"key": "A4", "member_key": "M-0002", "label": "SM i boule 2026"},  # not in the CRM yet
    ]
    r = admin.post(f"{d.path}/outbox/attendance", json={"items": attendance})
    assert r.status_code == 202 and r.json()["created"] == 4, r.text
    no_course = admin.post(f"{d.path}/outbox/course-completions", json={"items": attendance[:1]})
    assert no_course.status_code == 422  # course_completion is off and no course tag field is set
    fake.edit_before_patch[fake.by_key("M-0001")["contactid"]] = {"telephone1": "+4675555555"}
    run = run_sync(admin, d.path, "push_tags")
    assert run["created"] == 3 and run["skipped"] == 1 and run["status"] == "succeeded", run
    assert fake.by_key("M-0000")["hlf_events"] == "SM i boule 2026; Klubbkväll november"
    assert fake.by_key("M-0001")["hlf_events"] == "SM i boule 2026"
    assert fake.by_key("M-0001")["telephone1"] == "+4675555555"  # the concurrent edit survived
    # the member arrives; the waiting record goes; replays add nothing
    d.put([members(3, at=datetime.now(UTC))[2]])
    d.sync()
    mark_inflight(hub, admin.tenant, d.path.rsplit("/", 1)[1], "tag")
    run_sync(admin, d.path, "push_tags")
    assert fake.by_key("M-0002")["hlf_events"] == "SM i boule 2026"
    assert fake.by_key("M-0000")["hlf_events"] == "SM i boule 2026; Klubbkväll november"


def test_orders_become_records_of_the_order_object(admin: ApiClient, fakes: Fakes, hub: Hub) -> None:
    """Seed 003's order object: orders land as salesorder records with mapped fields, once each."""
    from tests.helpers import run_sync

    fake = fakes.dynamics
    body = crm_doc(
        "dynamics365",
        fake,
        order_object="salesorder",
        order_field_map={"title": "name", "total": "totalamount"},
        order_key_field="hub_orderkey",
    )
    body["capabilities"] = {"member_sync": True, "order_sync": True}
    doc, path = active_dynamics(admin, fake, body)
    orders = [{"key": f"ORD-{i}", "fields": {"title": f"Licens 2026 #{i}", "total": 450.0}} for i in range(3)]
    bad = admin.post(f"{path}/outbox/orders", json={"orders": [{"key": "X", "fields": {"colour": "red"}}]})
    assert bad.status_code == 422 and bad.json()["errors"][0]["pointer"] == "/orders/0/fields/colour"
    assert admin.post(f"{path}/outbox/orders", json={"orders": orders}).json()["created"] == 3
    run = run_sync(admin, path, "push_orders")
    assert run["created"] == 3 and run["status"] == "succeeded", run
    assert sorted(o["hub_orderkey"] for o in fake.orders.values()) == ["ORD-0", "ORD-1", "ORD-2"]
    assert {o["totalamount"] for o in fake.orders.values()} == {450.0}
    mark_inflight(hub, admin.tenant, doc["id"], "order")
    assert run_sync(admin, path, "push_orders")["skipped"] == 3 and len(fake.orders) == 3


def test_espocrm_orders_and_event_tags(admin: ApiClient, fakes: Fakes, hub: Hub) -> None:
    """The same seed 003 capabilities on EspoCRM: orders as records of another entity type, keyed for replays;
    event tags appended to the member's field under versionNumber concurrency."""
    from devfakes.keyed import GOOD
    from tests.helpers import run_sync

    espo = fakes.keyed
    body = crm_doc(
        "espocrm",
        None,
        instance_url="https://crm.121.example",
        member_object="Contact",
        order_object="Opportunity",
        order_field_map={"title": "name", "total": "amount"},
    )
    body["capabilities"] = {"member_sync": True, "order_sync": True, "event_attendance": True}
    doc = admin.create(body)
    path = f"{admin.integrations}/{doc['id']}"
    admin.request("PUT", f"{path}/credentials/api_key_ref", json={"value": GOOD["espocrm"]})
    assert admin.post(f"{path}:validate").json()["result"]["passed"]
    assert admin.post(f"{path}:activate").status_code == 200
    admin.post(f"{path}/outbox/members", json={"members": members(1, at=datetime.now(UTC))})
    run_sync(admin, path, "sync_members")
    admin.post(f"{path}/outbox/orders", json={"orders": [{"key": "ORD-1", "fields": {"title": "Licens", "total": 450}}]})
    admin.post(f"{path}/outbox/attendance", json={"items": [{"key": "A1", "member_key": "M-0000", "label": "SM 2026"}]})
    assert run_sync(admin, path, "push_orders")["created"] == 1
    assert run_sync(admin, path, "push_tags")["created"] == 1
    (order,) = espo.espo_records["Opportunity"].values()
    assert order["name"] == "Licens" and order["amount"] == 450 and order["cHubMemberKey"] == "ORD-1"
    contact = next(c for c in espo.espo_contacts.values() if c["cHubMemberKey"] == "M-0000")
    assert contact["hlf_events"] == "SM 2026"
    mark_inflight(hub, admin.tenant, doc["id"], "order", "tag")
    assert run_sync(admin, path, "push_orders")["skipped"] == 1 and len(espo.espo_records["Opportunity"]) == 1
    run_sync(admin, path, "push_tags")
    assert contact["hlf_events"] == "SM 2026"


def test_an_operation_whose_capability_flag_is_off_is_not_offered(admin: ApiClient, fakes: Fakes, hub: Hub) -> None:
    """The declaration's flag gates the operation everywhere: intake, manual trigger and schedule (before,
    the intake route read the flag itself, and push_orders could still be run or scheduled with it off)."""
    fake = fakes.dynamics
    body = crm_doc("dynamics365", fake, order_object="salesorder", order_field_map={"title": "name"})
    body["capabilities"] = {"member_sync": True, "order_sync": False}
    doc, path = active_dynamics(admin, fake, body)
    refused = admin.post(f"{path}/outbox/orders", json={"orders": [{"key": "O-1", "fields": {"title": "Licens"}}]})
    assert refused.status_code == 422 and refused.json()["errors"][0]["pointer"] == "/orders", refused.text
    trigger = admin.post(f"{path}/syncs", json={"operation": "push_orders"})
    assert trigger.status_code == 422 and "sync_members" in trigger.json()["errors"][0]["message"], trigger.text
    schedule = admin.request("PUT", f"{path}/syncs/schedules/push_orders", json={"cron": "0 0 2 * * *"})
    assert schedule.status_code == 422, schedule.text
    assert fake.orders == {}
