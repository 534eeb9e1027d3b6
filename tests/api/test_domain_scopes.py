"""Seed 001's domain scopes: a client that only moves members holds members:write (and members:read to read
member data back); integrations:write still implies the domain writes it always allowed; the spec lists each
operation's scopes, alternatives included."""

from __future__ import annotations

from pathlib import Path

from devfakes.launcher import Fakes
from integrations.auth.principal import Scope
from integrations.wiring import Hub
from tests.helpers import ApiClient
from tests.setups import active_espo
from tools.openapi import current_spec

SAMPLES = Path(__file__).parents[2] / "canonical" / "recipes" / "samples"


def client(hub: Hub, admin: ApiClient, *scopes: Scope) -> ApiClient:
    issued = hub.api_keys.issue(tenant_id=admin.tenant, scopes=list(scopes), name="narrow")
    return ApiClient(admin.base_url, issued.secret, admin.tenant)


def test_a_member_only_client_moves_members_and_nothing_else(admin: ApiClient, hub: Hub, fakes: Fakes) -> None:
    _, path = active_espo(admin)
    sync = client(hub, admin, Scope.members_write)
    ffpjp = (SAMPLES / "ffpjp_members.csv").read_bytes()
    bad_row = (
        ffpjp
        + "99999999;X;Y;Z;01/01/2000;FRA;Sénior;1;c;c;a;13000;v;06 00 00 00 00;a@b.fr;bad;2026;Active;;Non\r\n".encode(
            "cp1252"
        )
    )

    imported = sync.post(
        f"{path}/imports", params={"recipe": "ffpjp_members"}, files={"file": ("f.csv", bad_row, "text/csv")}
    )
    assert imported.status_code == 201, imported.text
    assert imported.json()["rejected"] == 1, imported.text
    body = (SAMPLES / "fortnox_invoices.json").read_bytes()
    params = {"recipe": "fortnox_invoices", "dry_run": "true"}
    invoices = sync.post(f"{path}/imports", params=params, data=body, headers={"Content-Type": "application/json"})
    assert invoices.status_code == 403 and invoices.json()["required_scope"] == "integrations:write"
    assert sync.get(path).status_code == 403  # not even the document: integrations:read is not in a member key

    # the error report holds members' data: integrations:read alone does not open it, members:read does
    job = imported.json()["id"]
    reader = client(hub, admin, Scope.integrations_read)
    denied = reader.get(f"{path}/imports/{job}/errors.csv")
    assert denied.status_code == 403 and denied.json()["required_scope"] == "members:read"
    assert reader.get(f"{path}/imports/{job}").status_code == 200  # the job itself holds no member data
    members_reader = client(hub, admin, Scope.members_read)
    assert members_reader.get(f"{path}/imports/{job}/errors").json()["total_shown"] == 2  # the row's two bad cells
    assert reader.get(f"{path}/records/member.csv").status_code == 403
    assert members_reader.get(f"{path}/records/member.csv").status_code == 200
    assert admin.get(f"{path}/records/member.csv").status_code == 200  # admin implies every scope


def test_the_spec_lists_domain_scopes_and_alternatives() -> None:
    spec = current_spec()
    members = spec["paths"]["/api/v1/tenants/{tenant_id}/integrations/{integration_id}/outbox/members"]["post"]
    assert {"ApiKey": ["members:write"]} in members["security"]
    imports = spec["paths"]["/api/v1/tenants/{tenant_id}/integrations/{integration_id}/imports"]["post"]
    assert {"ApiKey": ["integrations:write"]} in imports["security"] and {"ApiKey": ["members:write"]} in imports["security"]
    scopes = spec["components"]["securitySchemes"]["OAuth2"]["flows"]["clientCredentials"]["scopes"]
    assert {"members:read", "members:write", "licences:write"} <= set(scopes)
