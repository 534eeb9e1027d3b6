"""Swish over real mutual TLS on loopback: the merchant certificate from the secret store opens the door;
a certificate from another CA does not."""

from __future__ import annotations

import pytest

from devfakes.launcher import Fakes
from tests.helpers import ApiClient


@pytest.mark.parametrize("which", ["merchant", "stranger"])
def test_swish_mutual_tls(admin: ApiClient, fakes: Fakes, which: str) -> None:
    fake = fakes.swish
    doc = admin.create(
        {
            "family": "payment_gateway",
            "provider": "swish",
            "display_name": "Swish",
            "config": {"supported_currencies": ["SEK"], "default_currency": "SEK", "merchant_id": fake.payee_alias},
        }
    )
    path = f"{admin.integrations}/{doc['id']}"
    bundle = fake.client_p12_b64 if which == "merchant" else fake.stranger_p12_b64
    assert admin.request("PUT", f"{path}/credentials/signing_certificate_ref", json={"value": bundle}).status_code == 200
    result = admin.post(f"{path}:validate").json()["result"]
    assert result["passed"] is (which == "merchant"), result
    if which == "stranger":
        assert "refused the client certificate" in result["checks"][-1]["detail"]


def test_swish_needs_a_ten_digit_merchant_number(admin: ApiClient, fakes: Fakes) -> None:
    fake = fakes.swish
    doc = admin.create(
        {
            "family": "payment_gateway",
            "provider": "swish",
            "display_name": "Swish",
            "config": {"supported_currencies": ["SEK"], "default_currency": "SEK", "merchant_id": "12345"},
        }
    )
    path = f"{admin.integrations}/{doc['id']}"
    admin.request("PUT", f"{path}/credentials/signing_certificate_ref", json={"value": fake.client_p12_b64})
    result = admin.post(f"{path}:validate").json()["result"]
    assert result["passed"] is False
    assert [c["name"] for c in result["checks"] if not c["passed"]] == ["config.merchant_id"], result
