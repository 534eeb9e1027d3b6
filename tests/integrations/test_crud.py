"""CRUD over real HTTP and Azurite: every family round-trips; errors are problem+json with pointers."""

from __future__ import annotations

import pytest

from tests.helpers import ApiClient, every_family, fortnox, ref


def test_every_family_round_trips(admin: ApiClient) -> None:
    for body in every_family(admin.tenant):
        created = admin.create(body)
        assert created["status"] == "draft" and created["version"] == 1
        assert created["tenant_id"] == admin.tenant and created["id"].startswith("int_")
        got = admin.get(f"{admin.integrations}/{created['id']}")
        assert got.status_code == 200 and got.headers["ETag"]
        assert got.json() == created
        for key in ("family", "provider", "display_name"):
            assert got.json()[key] == body[key]
    families = {b["family"] for b in every_family(admin.tenant)}
    assert len(families) == 13


def test_normalisation(admin: ApiClient) -> None:
    docs = {d["display_name"]: d for d in (admin.create(b) for b in every_family(admin.tenant))}
    assert docs["Stripe"]["config"]["supported_currencies"] == ["SEK", "EUR"]
    assert docs["Registry"]["config"]["country_code"] == "SE"
    assert docs["ADAMS"]["config"]["organization_code"] == "SWEADA"


def test_create_sets_location_and_etag(admin: ApiClient) -> None:
    r = admin.post(admin.integrations, json=fortnox(admin.tenant))
    assert r.status_code == 201
    assert r.headers["Location"].endswith(r.json()["id"])
    assert r.headers["ETag"]


BAD = [
    # (change to a valid Fortnox document, pointer expected in errors)
    ({"config": {"fiscal_year": {"year": 1999}}}, "/config/fiscal_year/year"),
    ({"config": {"fiscal_year": {"year": 2026, "start_month": 13}}}, "/config/fiscal_year/start_month"),
    ({"config": {"fiscal_year": {"year": 2026}, "sync_direction": "sideways"}}, "/config/sync_direction"),
    (
        {"config": {"fiscal_year": {"year": 2026}, "chart_of_accounts": {"license_fees": "30 10"}}},
        "/config/chart_of_accounts/license_fees",
    ),
    (
        {"config": {"fiscal_year": {"year": 2026}, "chart_of_accounts": {"License Fees": "3010"}}},
        "/config/chart_of_accounts/License Fees/[key]",
    ),
    ({"provider": "sage"}, "/provider"),
    ({"display_name": ""}, "/display_name"),
    ({"surprise": 1}, "/surprise"),
    ({"config": {"fiscal_year": {"year": 2026}, "extra": True}}, "/config/extra"),
]


@pytest.mark.parametrize(("change", "pointer"), BAD)
def test_fortnox_rules(admin: ApiClient, change: dict, pointer: str) -> None:
    body = {**fortnox(admin.tenant), **change}
    r = admin.post(admin.integrations, json=body)
    assert r.status_code == 422, r.text
    assert r.headers["Content-Type"].startswith("application/problem+json")
    problem = r.json()
    assert problem["status"] == 422 and problem["type"].endswith("validation-failed")
    assert pointer in [e["pointer"] for e in problem["errors"]], problem


FAMILY_BAD = [
    (
        "Stripe",
        {"config": {"supported_currencies": ["SEK", "XYZ"], "default_currency": "SEK"}},
        "/config/supported_currencies/1",
    ),
    ("Stripe", {"config": {"supported_currencies": ["SEK"], "default_currency": "EUR"}}, "/config"),
    ("Swish", {"config": {"supported_currencies": ["EUR"], "default_currency": "EUR"}}, ""),
    ("Registry", {"config": {"country_code": "XX", "federation_code": "SBF"}}, "/config/country_code"),
    (
        "Registry",
        {"config": {"country_code": "SE", "federation_code": "SBF", "reporting_schedule": "every day"}},
        "/config/reporting_schedule",
    ),
    ("YT", {"config": {"rtmp_url": "https://a.rtmp.youtube.com/live2"}}, "/config/rtmp_url"),
    ("Maps", {"config": {"domain_allowlist": ["https://www.petanque.se/x"]}}, "/config/domain_allowlist/0"),
    ("Club feed", {"config": {"sync_direction": "push", "ics_url": "https://club.example.org/feed.ics"}}, ""),
    (
        "HLF portal",
        {"config": {"member_object": "contact", "member_field_map": {}, "event_tag_field": "x"}},
        "/config/member_field_map",
    ),
    ("SMS", {"config": {"account_sid": "nope"}}, "/config/account_sid"),
]


@pytest.mark.parametrize(("name", "change", "pointer"), FAMILY_BAD)
def test_family_rules(admin: ApiClient, name: str, change: dict, pointer: str) -> None:
    body = {**next(b for b in every_family(admin.tenant) if b["display_name"] == name), **change}
    r = admin.post(admin.integrations, json=body)
    assert r.status_code == 422, r.text
    assert pointer in [e["pointer"] for e in r.json()["errors"]], r.json()


SECRET = "sk_live_51PLANTEDSECRETVALUE0123456789"


@pytest.mark.parametrize("where", ["ref", "unknown_field", "nested_unknown"])
def test_inline_secrets_rejected_and_never_echoed(admin: ApiClient, where: str) -> None:
    body = fortnox(admin.tenant)
    if where == "ref":
        body["credentials"] = {**body["credentials"], "oauth_client_secret_ref": SECRET}
        pointer = "/credentials/oauth_client_secret_ref"
    elif where == "unknown_field":
        body["client_secret"] = SECRET
        pointer = "/client_secret"
    else:
        body["credentials"] = {**body["credentials"], "client_secret": SECRET}
        pointer = "/credentials/client_secret"
    r = admin.post(admin.integrations, json=body)
    assert r.status_code == 422
    assert pointer in [e["pointer"] for e in r.json()["errors"]]
    assert SECRET not in r.text


def test_refs_outside_the_tenant_namespace_are_rejected(admin: ApiClient) -> None:
    body = fortnox(admin.tenant)
    body["credentials"]["oauth_refresh_token_ref"] = "kv:other-tenant--shared--fortnox-refresh-token"
    r = admin.post(admin.integrations, json=body)
    assert r.status_code == 422
    assert r.json()["errors"][0]["pointer"] == "/credentials/oauth_refresh_token_ref"
    url_ref = f"https://myvault.vault.azure.net/secrets/{admin.tenant}--shared--x/" + "a" * 32
    body["credentials"]["oauth_refresh_token_ref"] = url_ref
    assert admin.post(admin.integrations, json=body).status_code == 201


def test_malformed_json_wrong_type_and_too_large(admin: ApiClient) -> None:
    r = admin.post(admin.integrations, data="{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.headers["Content-Type"].startswith("application/problem+json")
    r = admin.post(
        admin.integrations, data="family=accounting", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert r.status_code == 415
    big = fortnox(admin.tenant, display_name="x" * 300_000)
    r = admin.post(admin.integrations, json=big)
    assert r.status_code == 413


def test_unknown_integration_and_route(admin: ApiClient) -> None:
    r = admin.get(f"{admin.integrations}/int_{'0' * 24}")
    assert r.status_code == 404 and r.json()["type"].endswith("not-found")
    r = admin.get(f"{admin.integrations}/not-an-id")
    assert r.status_code == 422
    r = admin.get("/api/v1/nowhere")
    assert r.status_code == 404 and r.headers["Content-Type"].startswith("application/problem+json")


def test_secret_ref_url_forms(admin: ApiClient) -> None:
    body = fortnox(admin.tenant)
    body["credentials"]["oauth_client_secret_ref"] = ref(admin.tenant, "fortnox-client-secret") + "@" + "b" * 32
    assert admin.post(admin.integrations, json=body).status_code == 201
