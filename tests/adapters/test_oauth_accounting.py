"""Xero, QuickBooks Online and Visma eAccounting: OAuth connect, validate green; precise reds (an
organisation the grant does not reach, a wrong realm, a refused client)."""

from __future__ import annotations

from typing import Any

import pytest

from devfakes.launcher import Fakes
from integrations.documents.ref import IntegrationRef
from integrations.wiring import Hub
from tests.helpers import ApiClient, connect_fortnox
from tests.setups import ledger_doc


def body(provider: str, fake: Any, *, company_id: str | None = None) -> dict[str, Any]:
    config: dict[str, Any] = {"fiscal_year": {"year": 2026}, "chart_of_accounts": {"license_fees": "200"}}
    return ledger_doc(provider, fake, config if company_id is None else {**config, "company_id": company_id})


@pytest.mark.parametrize("provider", ["xero", "quickbooks", "visma"])
def test_connect_and_validate_green(admin: ApiClient, fakes: Fakes, provider: str) -> None:
    fake = fakes.accounting[provider]
    doc = connect_fortnox(admin, fake, body=body(provider, fake))
    result = admin.post(f"{admin.integrations}/{doc['id']}:validate").json()["result"]
    assert result["passed"] is True, result


@pytest.mark.parametrize("provider", ["xero", "quickbooks"])
def test_wrong_organisation_is_named(admin: ApiClient, fakes: Fakes, provider: str) -> None:
    fake = fakes.accounting[provider]
    doc = connect_fortnox(admin, fake, body=body(provider, fake, company_id="00000000-dead-beef-0000-000000000000"))
    result = admin.post(f"{admin.integrations}/{doc['id']}:validate").json()["result"]
    assert result["passed"] is False
    detail = [c for c in result["checks"] if not c["passed"]][0]["detail"]
    assert ("00000000-dead-beef" in detail) if provider == "xero" else ("403" in detail), detail


def test_visma_single_use_refresh_rotates_and_persists(admin: ApiClient, fakes: Fakes, hub: Hub) -> None:
    fake = fakes.accounting["visma"]
    doc_json = connect_fortnox(admin, fake, body=body("visma", fake))
    doc = hub.integrations.get(IntegrationRef(admin.tenant, doc_json["id"])).document
    before = hub.credentials.store.get(doc.credentials.oauth_refresh_token_ref[3:])
    hub.tokens.invalidate(doc)
    hub.tokens.access_token(doc, operation="test")
    after = hub.credentials.store.get(doc.credentials.oauth_refresh_token_ref[3:])
    assert after != before and after in fake.refresh and before not in fake.refresh
