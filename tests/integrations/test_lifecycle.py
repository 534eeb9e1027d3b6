"""Lifecycle matrix, the validation gate, ETag concurrency, pagination and tenant isolation."""

from __future__ import annotations

from functools import partial

import pytest

from integrations.wiring import Hub
from tests.helpers import ApiClient, fortnox, together


@pytest.fixture(autouse=True)
def structural_validation(hub: Hub) -> None:
    """The lifecycle gate is independent of how validation checks: these tests use the structural checks
    (the provider checks against the Fortnox fake are tested in tests/adapters and tests/sync)."""
    from integrations.structural import StructuralValidator

    hub._lazy["validator"] = StructuralValidator(hub.catalog)


ACTIONS = ["activate", "pause", "resume", "decommission"]
# (from status, action) → resulting status; anything absent is a 409 (decommission of decommissioned is idempotent)
LEGAL = {
    ("draft", "activate"): "active",
    ("active", "pause"): "paused",
    ("paused", "resume"): "active",
    ("draft", "decommission"): "decommissioned",
    ("active", "decommission"): "decommissioned",
    ("paused", "decommission"): "decommissioned",
    ("decommissioned", "decommission"): "decommissioned",
}


def _act(client: ApiClient, doc_id: str, action: str):  # type: ignore[no-untyped-def]
    path = f"{client.integrations}/{doc_id}"
    return client.delete(path) if action == "decommission" else client.post(f"{path}:{action}")


def _in_status(client: ApiClient, status: str) -> str:
    doc = client.create(fortnox(client.tenant))
    path = f"{client.integrations}/{doc['id']}"
    assert client.post(f"{path}:validate").status_code == 200
    steps = {"draft": [], "active": ["activate"], "paused": ["activate", "pause"], "decommissioned": ["decommission"]}[
        status
    ]
    for step in steps:
        assert _act(client, doc["id"], step).status_code == 200
    return doc["id"]


@pytest.mark.parametrize("status", ["draft", "active", "paused", "decommissioned"])
@pytest.mark.parametrize("action", ACTIONS)
def test_lifecycle_matrix(admin: ApiClient, status: str, action: str) -> None:
    doc_id = _in_status(admin, status)
    r = _act(admin, doc_id, action)
    expected = LEGAL.get((status, action))
    if expected:
        assert r.status_code == 200, r.text
        assert r.json()["status"] == expected
    else:
        assert r.status_code == 409, r.text
        problem = r.json()
        assert (
            problem["allowed_transitions"]
            == {
                "draft": ["activate", "decommission"],
                "active": ["pause", "decommission"],
                "paused": ["resume", "decommission"],
                "decommissioned": [],
            }[status]
        )


def test_activation_needs_a_passing_validation_of_the_current_config(admin: ApiClient) -> None:
    doc = admin.create(fortnox(admin.tenant))
    path = f"{admin.integrations}/{doc['id']}"
    r = admin.post(f"{path}:activate")
    assert r.status_code == 409 and r.json()["reason"] == "not_validated"

    v = admin.post(f"{path}:validate")
    assert v.status_code == 200 and v.json()["result"]["passed"] is True
    assert admin.patch(path, {"config": {"chart_of_accounts": {"tournament_fees": "3021"}}}).status_code == 200
    r = admin.post(f"{path}:activate")
    assert r.status_code == 409 and r.json()["reason"] == "validation_stale"

    assert admin.post(f"{path}:validate").json()["result"]["passed"] is True
    assert admin.post(f"{path}:activate").json()["status"] == "active"


def test_failed_validation_blocks_activation(admin: ApiClient) -> None:
    body = fortnox(admin.tenant)
    body["credentials"] = {}
    doc = admin.create(body)
    path = f"{admin.integrations}/{doc['id']}"
    result = admin.post(f"{path}:validate").json()["result"]
    assert result["passed"] is False
    failed = [c for c in result["checks"] if not c["passed"]]
    assert "oauth_refresh_token_ref" in failed[0]["detail"]
    r = admin.post(f"{path}:activate")
    assert r.status_code == 409 and r.json()["reason"] == "validation_failed"


def test_active_accepts_only_display_name_and_decommissioned_is_read_only(admin: ApiClient) -> None:
    doc_id = _in_status(admin, "active")
    path = f"{admin.integrations}/{doc_id}"
    assert admin.patch(path, {"display_name": "Fortnox 2026"}).status_code == 200
    r = admin.patch(path, {"sandbox": False})
    assert r.status_code == 409 and "pause" in r.json()["detail"]
    assert admin.delete(path).status_code == 200
    r = admin.patch(path, {"display_name": "again"})
    assert r.status_code == 409


def test_patch_merge_semantics_and_guards(admin: ApiClient) -> None:
    doc = admin.create(fortnox(admin.tenant))
    path = f"{admin.integrations}/{doc['id']}"
    r = admin.patch(path, {"config": {"chart_of_accounts": {"license_fees": None, "merch": "3030"}}})
    assert r.status_code == 200
    assert r.json()["config"]["chart_of_accounts"] == {"tournament_fees": "3020", "merch": "3030"}
    assert r.json()["version"] == 2
    assert admin.patch(path, {"family": "crm"}).status_code == 422
    r = admin.patch(path, {"status": "active", "id": "x"})
    assert r.status_code == 422 and {e["pointer"] for e in r.json()["errors"]} == {"/status", "/id"}
    r = admin.patch(path, {"config": {"fiscal_year": {"start_month": 0}}})
    assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "/config/fiscal_year/start_month"
    assert admin.patch(path, ["not", "an", "object"]).status_code == 422


def test_if_match(admin: ApiClient) -> None:
    doc = admin.create(fortnox(admin.tenant))
    path = f"{admin.integrations}/{doc['id']}"
    etag = admin.get(path).headers["ETag"]
    ok = admin.patch(path, {"display_name": "A"}, headers={"If-Match": etag})
    assert ok.status_code == 200 and ok.headers["ETag"] != etag
    stale = admin.patch(path, {"display_name": "B"}, headers={"If-Match": etag})
    assert stale.status_code == 412
    assert admin.post(f"{path}:validate").status_code == 200
    assert admin.post(f"{path}:activate", headers={"If-Match": etag}).status_code == 412
    assert admin.get(path).json()["display_name"] == "A"


def test_concurrent_writers_never_lose_an_update(admin: ApiClient) -> None:
    doc = admin.create(fortnox(admin.tenant))
    path = f"{admin.integrations}/{doc['id']}"

    def writer(i: int) -> str | None:
        r = admin.patch(path, {"config": {"chart_of_accounts": {f"category_{i}": str(4000 + i)}}})
        return None if r.status_code == 200 else r.text

    assert together(*(partial(writer, i) for i in range(12))) == [None] * 12
    final = admin.get(path).json()
    assert all(f"category_{i}" in final["config"]["chart_of_accounts"] for i in range(12))
    assert final["version"] == 13


def test_pagination_over_260_documents_with_filters(admin: ApiClient, hub: Hub) -> None:
    from integrations.service import create_integration

    for i in range(260):
        body = fortnox(admin.tenant, display_name=f"doc {i}")
        if i % 10 == 0:
            body = {"family": "mapping", "provider": "mapbox", "display_name": f"map {i}"}
        create_integration(admin.tenant, body, repo=hub.integrations, actor="test", now=hub.now)
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        r = admin.get(admin.integrations, params={"limit": 100, **({"continuation": token} if token else {})})
        assert r.status_code == 200
        page = r.json()
        seen += [d["id"] for d in page["items"]]
        pages += 1
        token = page["next"]
        if not token:
            break
    assert len(seen) == len(set(seen)) == 260 and pages == 3
    maps = admin.get(admin.integrations, params={"family": "mapping", "limit": 200}).json()
    assert len(maps["items"]) == 26 and maps["next"] is None
    assert admin.get(admin.integrations, params={"provider": "fortnox", "status": "draft", "limit": 1}).json()["next"]
    assert admin.get(admin.integrations, params={"family": "spaceflight"}).status_code == 422
    assert admin.get(admin.integrations, params={"continuation": "%%%"}).status_code == 400


def test_tenant_isolation_on_every_endpoint(api: str, hub: Hub, admin: ApiClient) -> None:
    from integrations.auth.principal import Scope

    doc = admin.create(fortnox(admin.tenant))
    other_key = hub.api_keys.issue(tenant_id="other-fed", scopes=[Scope.integrations_admin], name="other")
    intruder = ApiClient(api, other_key.secret, admin.tenant)  # other tenant's key, our tenant's paths
    path = f"{admin.integrations}/{doc['id']}"
    calls = [
        ("GET", admin.integrations, None),
        ("POST", admin.integrations, fortnox(admin.tenant)),
        ("GET", path, None),
        ("PATCH", path, {"display_name": "pwned"}),
        ("DELETE", path, None),
        ("POST", f"{path}:validate", None),
        ("POST", f"{path}:activate", None),
        ("POST", f"{path}:pause", None),
        ("POST", f"{path}:resume", None),
    ]
    for method, url, body in calls:
        r = intruder.patch(url, body) if method == "PATCH" else intruder.request(method, url, json=body)
        assert r.status_code == 404, (method, url, r.status_code)
    # and its own tenant sees nothing of ours
    own = ApiClient(api, other_key.secret, "other-fed")
    assert own.get(own.integrations).json()["items"] == []
    assert own.get(f"{own.integrations}/{doc['id']}").status_code == 404
    assert admin.get(path).json()["display_name"] == "Fortnox (finance)"
