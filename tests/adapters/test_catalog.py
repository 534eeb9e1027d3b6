"""The provider catalog: every entry validates, every document provider has one, every adapter exists."""

from __future__ import annotations

import typing

from adapters.catalog import load
from adapters.registry import adapter_class
from integrations.documents.families import FAMILY_CREATES
from tests.helpers import ApiClient


def test_catalog_loads_and_covers_every_provider() -> None:
    catalog = load()
    for create in FAMILY_CREATES:
        family = typing.get_args(create.model_fields["family"].annotation)[0]
        for provider in typing.get_args(create.model_fields["provider"].annotation):
            spec = catalog.get(provider)
            assert family in spec.families, (provider, family)
    for spec in catalog.all():
        adapter_class(spec.adapter)  # imports, and is an Adapter
        if spec.auth.kind == "oauth2_code":
            assert spec.auth.authorize_url and spec.auth.token_url, spec.id
            assert {"oauth_client_secret_ref", "oauth_refresh_token_ref"} <= set(spec.required_credentials), spec.id
        if spec.rate_limit:
            assert spec.rate_limit.requests > 0 and spec.rate_limit.per_seconds > 0


def test_fortnox_entry_matches_the_provider_sheet() -> None:
    spec = load().get("fortnox")
    assert spec.rate_limit and (spec.rate_limit.requests, spec.rate_limit.per_seconds) == (25, 5)
    assert spec.rate_limit.retry_after_header is None  # Fortnox promises no Retry-After
    assert spec.auth.refresh_single_use and spec.auth.refresh_rotates and spec.auth.access_token_ttl_s == 3600
    assert spec.pagination.kind == "page" and spec.pagination.max_size == 500


def test_providers_endpoint(admin: ApiClient) -> None:
    all_ = admin.get("/api/v1/providers").json()
    assert len(all_) == len(load().all())
    accounting = admin.get("/api/v1/providers", params={"family": "accounting"}).json()
    assert {p["id"] for p in accounting} == {"fortnox", "xero", "quickbooks", "visma", "xledger"}
    assert admin.get("/api/v1/providers/fortnox").json()["verification"] == "GET /companyinformation"
    assert admin.get("/api/v1/providers/sage").status_code == 404
    assert admin.get("/api/v1/providers", headers={"Authorization": ""}).status_code in (200, 401)
