"""Client credentials for machine providers: Dynamics 365 through msal against (fake) Entra ID."""

from __future__ import annotations

from devfakes.launcher import Fakes
from integrations.wiring import Hub
from tests.helpers import ApiClient


def dynamics_doc(tenant: str, fake) -> dict:  # type: ignore[no-untyped-def]
    return {
        "family": "crm",
        "provider": "dynamics365",
        "display_name": "HLF portal",
        "oauth_client_id": fake.client_id,
        "config": {
            "instance_url": "https://hlf.crm4.dynamics.com",
            "directory_id": fake.directory_id,
            "member_object": "contact",
            "member_field_map": {"first_name": "firstname"},
            "event_tag_field": "hlf_events",
        },
    }


def test_dynamics_validates_green_via_msal(admin: ApiClient, fakes: Fakes, hub: Hub) -> None:
    fake = fakes.dynamics
    doc = admin.create(dynamics_doc(admin.tenant, fake))
    path = f"{admin.integrations}/{doc['id']}"
    admin.request("PUT", f"{path}/credentials/oauth_client_secret_ref", json={"value": fake.client_secret})
    result = admin.post(f"{path}:validate").json()["result"]
    assert result["passed"] is True, result
    assert fake.token_calls == 1
    audience = next(iter(fake.tokens.values()))[0]
    assert audience == "https://hlf.crm4.dynamics.com"  # scope {instance_url}/.default
    admin.post(f"{path}:validate")
    assert fake.token_calls == 1  # cached until shortly before expiry
    usage = admin.get(f"{path}/usage").json()
    assert usage["by_operation"]["validate"]["requests"] == 2
    summary = admin.get(f"/api/v1/tenants/{admin.tenant}/usage").json()
    assert summary["requests"] == 2 and summary["integrations"][0]["provider"] == "dynamics365"


def test_dynamics_wrong_secret_is_a_precise_red(admin: ApiClient, fakes: Fakes) -> None:
    fake = fakes.dynamics
    doc = admin.create(dynamics_doc(admin.tenant, fake))
    path = f"{admin.integrations}/{doc['id']}"
    admin.request("PUT", f"{path}/credentials/oauth_client_secret_ref", json={"value": "not-the-secret-123"})
    result = admin.post(f"{path}:validate").json()["result"]
    assert result["passed"] is False
    failed = [c for c in result["checks"] if not c["passed"]]
    assert "invalid_client" in failed[0]["detail"] and "not-the-secret-123" not in str(result)
