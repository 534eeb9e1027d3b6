"""Swish over real mutual TLS on loopback: the merchant certificate from the secret store opens the door;
a certificate from another CA does not."""

from __future__ import annotations

import pytest

from tests.fakes.launcher import Fakes
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
