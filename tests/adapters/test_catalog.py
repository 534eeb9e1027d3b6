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


# Read by people, not code: the portal's wizard shows them from GET /providers (what a field means is there).
DOCUMENTATION_FIELDS = {"docs", "unknowns"}
# Where a field of each catalog model is read: `<receiver>.<field>` with the receiver named after the model
# (`spec.pagination.page_size`, `self.spec.auth.kind`, `catalog.get(p).capabilities`, `limit.per`), so a field
# read nowhere fails here.
RECEIVERS = {
    "ProviderSpec": ("spec", "get()", "_spec_for()"),  # and `self` in the spec's own methods
    "AuthSpec": ("auth",),
    "RateLimitSpec": ("limit", "rate_limit"),
    "RetrySpec": ("retry",),
    "PaginationSpec": ("spec", "pagination"),
    "WebhookSpec": ("webhook", "spec"),  # `spec` in the verifiers, built from the entry's WebhookSpec
}


def test_every_catalog_field_has_a_consumer() -> None:
    """No decorative data: every field of ProviderSpec (and of its parts) is read by product code."""
    import ast
    from pathlib import Path

    from pydantic import BaseModel

    from adapters.spec import ProviderSpec

    def receiver(node: ast.expr, source: Path) -> str:
        if isinstance(node, ast.Name):
            return "spec" if node.id == "self" and source.name == "spec.py" else node.id
        if isinstance(node, ast.Attribute):
            return node.attr
        return receiver(node.func, source) + "()" if isinstance(node, ast.Call) else ""

    root = Path(__file__).resolve().parents[2]
    reads: set[tuple[str, str]] = set()
    for source in [
        *(root / "adapters").rglob("*.py"),
        *(root / "integrations").rglob("*.py"),
        *(root / "shared").rglob("*.py"),
    ]:
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
                reads.add((receiver(node.value, source), node.attr))
    unread: list[str] = []
    models: list[type[BaseModel]] = [ProviderSpec]
    while models:
        model = models.pop()
        for name, info in model.model_fields.items():
            parts = [info.annotation, *typing.get_args(info.annotation)]
            models += [p for p in parts if isinstance(p, type) and issubclass(p, BaseModel)]
            read = any((receiver, name) in reads for receiver in RECEIVERS[model.__name__])
            if not read and name not in DOCUMENTATION_FIELDS:
                unread.append(f"{model.__name__}.{name}")
    assert not unread, f"catalog fields no code reads: {unread}"


def test_an_organisation_wide_limit_is_shared_by_its_integrations() -> None:
    """Xero counts per organisation: two integrations on one organisation pace one window; Fortnox counts per
    access token: each integration has its own."""
    from types import SimpleNamespace

    from adapters.base import Adapter, AdapterContext
    from shared.http import OutboundClient

    def key(provider: str, integration: str, company: str) -> str | None:
        document = SimpleNamespace(id=integration, tenant_id="t", sandbox=True, config=SimpleNamespace(company_id=company))
        context = AdapterContext(
            document=document,
            spec=load().get(provider),
            outbound=OutboundClient(),
            resolve_secret=lambda slot, op: "",
            access_token=None,
            invalidate_token=None,
            record_usage=lambda op, status, ms: None,
            url_overrides={},
        )
        return Adapter(context).policy("sync.push_invoice").limit_key

    assert key("xero", "i1", "org-a") == key("xero", "i2", "org-a") != key("xero", "i3", "org-b")
    assert key("quickbooks", "i1", "realm-1") == key("quickbooks", "i2", "realm-1")
    assert key("fortnox", "i1", "x") != key("fortnox", "i2", "x")


# Capabilities that are not sync operations: validation (every adapter) and the payment use case's calls.
NOT_SYNC = {"validate", "create_payment", "refund"}


def test_a_catalog_capability_is_exactly_what_its_adapter_implements() -> None:
    """A provider lists a sync operation, an outbound call or change subscriptions iff its adapter class has the
    methods of the Protocol: neither a promise the adapter cannot keep (a run failing with AttributeError) nor
    an operation the adapter has but no integration is offered."""
    from adapters.capabilities import ChangeWatch, implements
    from integrations.calls.operations import CALLS
    from integrations.maps.lookups import LOOKUPS
    from integrations.social import SERVICES as SOCIAL
    from integrations.streaming import SERVICES as STREAMING
    from integrations.sync.insurance import SERVICES as INSURANCE
    from integrations.sync.operations import OPERATIONS
    from integrations.vat import SERVICES as VAT
    from integrations.webhooks.subscriptions import CAPABILITY as WATCH

    checked = 0
    declared = [*OPERATIONS.values(), *CALLS.values()]
    services = {**LOOKUPS, **INSURANCE, **VAT, **STREAMING, **SOCIAL}  # what a person waits for: no queue, no operation
    known = set(OPERATIONS) | set(CALLS) | NOT_SYNC | {WATCH} | set(services)
    for spec in load().all():
        assert set(spec.capabilities) <= known, spec.id
        if not spec.adapter:
            continue
        cls = adapter_class(spec.adapter)
        assert (WATCH in spec.capabilities) == implements(cls, ChangeWatch), spec.id
        for name, (protocol, _) in services.items():
            assert (name in spec.capabilities) == implements(cls, protocol), (spec.id, name)
        assert (WATCH in spec.capabilities) == (spec.webhook.subscription_ttl_s is not None), spec.id
        for op in declared:
            if op.families is not None and not op.families & set(spec.families):
                continue
            assert (op.name in spec.capabilities) == implements(cls, op.requires), (spec.id, op.name)
            checked += 1
    assert checked > 100
