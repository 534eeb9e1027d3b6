"""Member sync: what the hub's bookkeeping (the mirror that prevents loops and decides conflicts) costs on a
full read of the CRM, against reading the same records through the same adapter and nothing else.

A full read happens on the first sync and whenever the CRM forgets the delta link, so it is the expensive
case; a delta read carries only changes. The bare read is a loopback fake (≈ 0.04 ms a record, far below a
real Dataverse page), so the ratio is an upper bound. Target ≤ 4×: one range read of the mirror per walk and
one transaction per 50 changed members — the per-record point reads it replaced measured ≈ 290×."""

from __future__ import annotations

import uuid
from typing import Any, cast

from adapters.capabilities import MemberRecords
from bench.common import alternating_medians, fresh_hub, integration_with, row
from devfakes.launcher import start_fakes
from integrations.documents.document import CrmIntegration, of_family
from integrations.sync.members import MemberSync

N = 600


def _alive(progress: object = None) -> None:
    pass


def run(conn: str) -> dict[str, object]:
    fakes = start_fakes()
    try:
        hub = fresh_hub(conn, **fakes.hub_settings())
        fake, tenant = fakes.dynamics, "bench-crm"
        body = {
            "family": "crm",
            "provider": "dynamics365",
            "display_name": "HLF",
            "oauth_client_id": fake.client_id,
            "config": {
                "instance_url": "https://hlf.crm4.dynamics.com",
                "directory_id": fake.directory_id,
                "member_object": "contact",
                "member_field_map": {"first_name": "firstname", "last_name": "lastname", "email": "emailaddress1"},
                "event_tag_field": "hlf_events",
                "sync_direction": "pull",
            },
        }
        doc = of_family(integration_with(hub, tenant, body, {"oauth_client_secret_ref": fake.client_secret}), CrmIntegration)
        for i in range(N):
            contact = {"contactid": str(uuid.uuid4()), "firstname": f"A{i}", "lastname": "B", "emailaddress1": f"{i}@x.se"}
            fake._stamp(contact)  # noqa: SLF001 - seeding the fake CRM
            fake.contacts[contact["contactid"]] = contact
        adapter = cast(MemberRecords, hub.adapter_for(doc))

        def bare() -> None:
            assert sum(len(page.members) for page in adapter.changed_members(None)) == N

        def full_read() -> None:
            events: list[dict[str, Any]] = []
            sync = MemberSync(
                adapter, hub.outbox, hub.member_mirror, doc, emit=events.append, heartbeat=_alive, state=hub.sync_state
            )
            sync.walk(None, {})
            assert events == []  # nothing changed since the mirror was filled

        MemberSync(
            adapter, hub.outbox, hub.member_mirror, doc, emit=lambda e: None, heartbeat=_alive, state=hub.sync_state
        ).run()
        b, m = alternating_medians(bare, full_read, rounds=3)
        return row(
            f"member sync: full read of {N} unchanged contacts vs reading them bare",
            f"{b * 1000:.0f} ms",
            f"{m * 1000:.0f} ms",
            f"{m / b:.2f}",
            "≤ 4.0",
            "mirror of the agreed values on Azurite",
        )
    finally:
        fakes.stop()
