"""Ownership of secrets is parsed, never a prefix (review finding 1): each test here passed a stolen ref on the
old `startswith(f"{tenant}--")` rule."""

from __future__ import annotations

import pytest

from integrations.auth.principal import Scope
from integrations.documents.ref import IntegrationRef
from integrations.secret_names import integration_secret, may_use, owner_of
from integrations.wiring import Hub
from shared.errors import NotFound, ValidationFailed
from tests.helpers import ApiClient, every_family


def _kobo(tenant: str, api_key_ref: str | None = None) -> dict:
    body = next(b for b in every_family(tenant) if b["provider"] == "kobo")
    if api_key_ref:
        body["credentials"] = {"api_key_ref": api_key_ref}
    return body


def test_a_tenant_id_with_the_separator_or_reserved_cannot_get_a_key(hub: Hub, api: str) -> None:
    for tenant in ("club--jr", "hub", "shared", "-club", "club-", "Club"):
        with pytest.raises(ValidationFailed):
            hub.api_keys.issue(tenant_id=tenant, scopes=[Scope.integrations_read], name="x")
    admin = ApiClient(api, None, "club--jr")
    assert admin.get(admin.integrations).status_code in (401, 422)  # no credential can exist for it


def test_a_prefix_tenant_cannot_name_a_longer_tenants_secret(admin: ApiClient) -> None:
    # `club` once owned `club--jr--…` because the name started with `club--`.
    stolen = f"kv:{admin.tenant}--jr--int-{'a' * 24}--api-key"
    r = admin.post(admin.integrations, json=_kobo(admin.tenant, stolen))
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["pointer"] == "/credentials/api_key_ref"


def test_the_hubs_own_secrets_are_nobodys(admin: ApiClient, hub: Hub) -> None:
    kid, _ = hub.signing_keys.current()
    for ref in (f"kv:hub--jwt-signing--{kid}", f"kv:{admin.tenant}--jwt-signing--{kid}"):
        r = admin.post(admin.integrations, json=_kobo(admin.tenant, ref))
        assert r.status_code == 422, (ref, r.text)
    assert owner_of(f"hub--jwt-signing--{kid}").is_hub  # type: ignore[union-attr]
    assert not may_use(f"hub--jwt-signing--{kid}", tenant_id="hub", integration_id=None)


def test_a_ref_must_belong_to_that_integration(admin: ApiClient, hub: Hub) -> None:
    victim = admin.create(_kobo(admin.tenant))
    assert admin.request(
        "PUT", f"{admin.integrations}/{victim['id']}/credentials/api_key_ref", json={"value": "victim-key-1"}
    ).ok
    thief = admin.create(_kobo(admin.tenant))
    theirs = f"kv:{integration_secret(IntegrationRef(admin.tenant, victim['id']), 'api_key_ref')}"
    r = admin.patch(f"{admin.integrations}/{thief['id']}", {"credentials": {"api_key_ref": theirs}})
    assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "/credentials/api_key_ref", r.text
    # …and at call time, whatever a document says:
    with pytest.raises(NotFound):
        hub.credentials.resolve_ref(admin.tenant, thief["id"], theirs, slot="api_key_ref", operation="probe")
    assert hub.credentials.resolve_ref(admin.tenant, victim["id"], theirs, slot="api_key_ref", operation="probe")
    # An explicitly shared secret may be named by any of the tenant's integrations.
    shared = f"kv:{admin.tenant}--shared--kobo-token"
    r = admin.patch(f"{admin.integrations}/{thief['id']}", {"credentials": {"api_key_ref": shared}})
    assert r.status_code == 200, r.text


def test_every_name_parses_one_way() -> None:
    assert owner_of("club--int-" + "0" * 24 + "--api-key").integration_id == "int_" + "0" * 24  # type: ignore[union-attr]
    assert owner_of("club--jr--int-" + "0" * 24 + "--api-key") is None
    assert owner_of("club--shared--x").integration_id is None  # type: ignore[union-attr]
    assert owner_of("club--whatever--x") is None and owner_of("club---x--y") is None
