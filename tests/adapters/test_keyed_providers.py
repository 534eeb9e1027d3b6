"""Validation against API-key providers: green with good credentials, a precise red with bad ones (the
provider's own 401), and a missing permission named (Stripe restricted keys)."""

from __future__ import annotations

from typing import Any

import pytest

from devfakes.keyed import GOOD
from devfakes.launcher import Fakes
from tests.helpers import ApiClient

DOCS: dict[str, dict[str, Any]] = {
    "stripe": {
        "family": "payment_gateway",
        "provider": "stripe",
        "display_name": "Stripe",
        "config": {"supported_currencies": ["SEK"], "default_currency": "SEK"},
    },
    "ideal": {
        "family": "payment_gateway",
        "provider": "ideal",
        "display_name": "iDEAL",
        "config": {"supported_currencies": ["EUR"], "default_currency": "EUR", "psp": "mollie"},
    },
    "kobo": {
        "family": "data_collection",
        "provider": "kobo",
        "display_name": "Kobo",
        "config": {"server_url": "https://eu.kobotoolbox.org", "asset_uids": ["aBcDeFgHiJkLmN"]},
    },
    "twilio": {
        "family": "messaging",
        "provider": "twilio",
        "display_name": "SMS",
        "config": {"account_sid": GOOD["twilio_sid"]},
    },
    "espocrm": {
        "family": "crm",
        "provider": "espocrm",
        "display_name": "121 CRM",
        "config": {
            "instance_url": "https://crm.example.org",
            "member_object": "Contact",
            "member_field_map": {"first_name": "firstName"},
            "event_tag_field": "events",
        },
    },
    "xledger": {
        "family": "accounting",
        "provider": "xledger",
        "display_name": "Xledger",
        "capabilities": {"invoice_sync": False, "reimbursement_export": True},
        "config": {"fiscal_year": {"year": 2026}},
    },
}
DOCS["paypal"] = {
    "family": "payment_gateway",
    "provider": "paypal",
    "display_name": "PayPal",
    "oauth_client_id": GOOD["paypal_client"],
    "config": {"supported_currencies": ["SEK", "EUR"], "default_currency": "EUR"},
}
KEYS = {
    "paypal": GOOD["paypal"],
    "stripe": GOOD["stripe"],
    "ideal": GOOD["mollie"],
    "kobo": GOOD["kobo"],
    "twilio": GOOD["twilio"],
    "espocrm": GOOD["espocrm"],
    "xledger": GOOD["xledger"],
}
RED = {
    "paypal": "Client Authentication failed",
    "stripe": "Invalid API Key provided",
    "ideal": "failed to authenticate",
    "kobo": "Invalid token",
    "twilio": "Authenticate",
    "espocrm": "401",
    "xledger": "API token is invalid",
}


def _validate(admin: ApiClient, provider: str, key: str) -> dict[str, Any]:
    doc = admin.create(DOCS[provider])
    path = f"{admin.integrations}/{doc['id']}"
    slot = "oauth_client_secret_ref" if provider == "paypal" else "api_key_ref"
    assert admin.request("PUT", f"{path}/credentials/{slot}", json={"value": key}).status_code == 200
    return admin.post(f"{path}:validate").json()["result"]


@pytest.mark.parametrize("provider", sorted(DOCS))
def test_green_with_good_credentials(admin: ApiClient, fakes: Fakes, provider: str) -> None:
    result = _validate(admin, provider, KEYS[provider])
    assert result["passed"] is True and result["kind"] == "provider", result
    assert fakes.keyed.calls[provider] >= 1


@pytest.mark.parametrize("provider", sorted(DOCS))
def test_precise_red_with_bad_credentials(admin: ApiClient, fakes: Fakes, provider: str) -> None:
    result = _validate(admin, provider, "definitely-wrong-key-0000")
    assert result["passed"] is False
    failed = [c for c in result["checks"] if not c["passed"]]
    assert RED[provider] in failed[0]["detail"], failed
    assert "definitely-wrong-key-0000" not in str(result)


def test_stripe_missing_permission_is_named(admin: ApiClient, fakes: Fakes) -> None:
    doc = {**DOCS["stripe"], "capabilities": {"payments": True, "refunds": True}}
    created = admin.create(doc)
    path = f"{admin.integrations}/{created['id']}"
    admin.request("PUT", f"{path}/credentials/api_key_ref", json={"value": GOOD["stripe_restricted"]})
    result = admin.post(f"{path}:validate").json()["result"]
    assert result["passed"] is False
    by_name = {c["name"]: c for c in result["checks"]}
    assert by_name["provider.scope.payments"]["passed"] is True
    assert (
        by_name["provider.scope.refunds"]["passed"] is False
        and "rak_refund_read" in by_name["provider.scope.refunds"]["detail"]
    )


@pytest.mark.parametrize(("provider", "enabled"), [("cornerstone", True), ("cornerstone", False)])
def test_csv_fallback_partners(admin: ApiClient, provider: str, enabled: bool) -> None:
    """No partner API configured (no fakes): validation speaks of the CSV fallback."""
    doc = admin.create(
        {"family": "lms", "provider": provider, "display_name": "LMS", "capabilities": {"csv_fallback": enabled}}
    )
    result = admin.post(f"{admin.integrations}/{doc['id']}:validate").json()["result"]
    assert result["passed"] is enabled
    assert "CSV" in [c for c in result["checks"] if c["name"] == "delivery.csv_fallback"][0]["detail"]
