"""Xero. After consent, `GET /connections` lists the organisations (tenants) the grant reaches; every API call
names one in `Xero-tenant-id` (our config.company_id). Validation checks both."""

from __future__ import annotations

from adapters.base import Adapter
from integrations.documents.document import ValidationCheck
from integrations.validation import timed

CONNECTIONS_URL = "https://api.xero.com/connections"


class XeroAdapter(Adapter):
    def auth_headers(self, operation: str) -> dict[str, str]:
        return {**super().auth_headers(operation), "Xero-tenant-id": self.document.config.company_id or ""}

    def validate(self) -> list[ValidationCheck]:
        def connected() -> str:
            url = self.ctx.url_overrides.get("connections_url", CONNECTIONS_URL)
            token = self.ctx.access_token("validate").token  # type: ignore[misc]
            from shared.http import Call

            tenants = self.ctx.outbound.send(
                Call("GET", url, headers={"Authorization": f"Bearer {token}"}), self.policy("validate")
            ).json()
            ids = {t["tenantId"] for t in tenants}
            if self.document.config.company_id not in ids:
                raise LookupError(
                    f"organisation {self.document.config.company_id} is not connected to this grant "
                    f"(connected: {', '.join(sorted(ids)) or 'none'})"
                )
            return f"{len(ids)} organisation(s) connected"

        checks = [timed("provider.connection", connected)]
        if checks[0].passed:
            checks.append(self.check_call("provider.authenticate", "GET", "/Organisation"))
        return checks
