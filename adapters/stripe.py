"""Stripe (payments). Secret or restricted key as Bearer; `GET /balance` proves the key; restricted keys
lacking a permission get 403 naming it, which validation reports per capability."""

from __future__ import annotations

from adapters.base import Adapter
from integrations.documents.document import ValidationCheck
from integrations.validation import timed

# capability → a cheap read that needs the matching restricted-key permission
CAPABILITY_PROBES = {
    "payments": "/payment_intents?limit=1",
    "refunds": "/refunds?limit=1",
    "subscriptions": "/subscriptions?limit=1",
    "payouts": "/payouts?limit=1",
}


class StripeAdapter(Adapter):
    def validate(self) -> list[ValidationCheck]:
        checks = [self.check_call("provider.authenticate", "GET", "/balance")]
        if not checks[0].passed:
            return checks
        key = self.ctx.resolve_secret("api_key_ref", "validate")
        mode = "test" if key.startswith(("sk_test_", "rk_test_")) else "live"
        checks.append(
            ValidationCheck(
                name="provider.mode",
                passed=(mode == "test") == self.document.sandbox,
                detail=f"{mode} key; sandbox={self.document.sandbox}",
            )
        )
        for capability, path in CAPABILITY_PROBES.items():
            if getattr(self.document.capabilities, capability):
                checks.append(timed(f"provider.scope.{capability}", lambda p=path: self._probe(p)))
        return checks

    def _probe(self, path: str) -> str:
        response = self.request("GET", path, operation="validate", expect=frozenset({403}))
        if response.status_code == 403:
            raise PermissionError(response.json().get("error", {}).get("message", "permission missing"))
        return f"GET {path} → {response.status_code}"
