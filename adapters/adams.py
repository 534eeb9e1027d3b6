"""WADA ADAMS for an anti-doping organisation, over our signed-REST contract (adapters/contracts/
adams.openapi.yaml; ADAMS has no public API): whereabouts filings and TUE applications PUT by key (a second PUT
updates, never duplicates), TUE status, test results read from where the last read left off, notifications
relayed once per key. Requests are signed with the organisation code as key id.

Everything here is special-category health data: the payloads are the contract's minimum, they are never
logged (errors name the operation and the status only), and every read and write is an entry in the tenant's
audit trail (`adams.access`: the operation, the method and the resource — never the payload)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlsplit

from adapters.signed_rest import PLACEHOLDER_HOST, SignedAdapter
from integrations.documents.document import ValidationCheck, WadaAdamsIntegration
from shared.errors import ProviderError
from shared.http import Call


class AdamsAdapter(SignedAdapter[WadaAdamsIntegration]):
    @property
    def base_url(self) -> str:
        return (self.ctx.url_overrides.get("base_url") or self.spec.base_urls["production"]).rstrip("/")

    @property
    def key_id(self) -> str:
        return str(self.document.config.organization_code)

    @property
    def _org(self) -> str:
        return f"/organizations/{quote(self.document.config.organization_code, safe='')}"

    def finish_call(self, call: Call, operation: str) -> Call:
        if self.ctx.audit is not None:
            self.ctx.audit(operation, {"method": call.method, "resource": urlsplit(call.url).path})
        return super().finish_call(call, operation)

    partner = "ADAMS"

    def _refused(self, response: Any, what: str) -> ProviderError:
        # Never ADAMS' text: it may quote the health data it refused.
        return ProviderError(detail=f"{what}: ADAMS refused it ({response.status_code})", provider=self.spec.id)

    def validate(self) -> list[ValidationCheck]:
        if PLACEHOLDER_HOST in self.base_url:
            return [
                ValidationCheck(
                    name="adams.endpoint",
                    passed=False,
                    detail='No ADAMS endpoint is configured: the operator sets HUB_PROVIDER_URLS {"adams": {"base_url": "https://…"}}',
                )
            ]
        return [self.check_call("adams.organization", "GET", self._org)]

    def put_whereabouts(self, filing: dict[str, Any]) -> str:
        body = {k: v for k, v in filing.items() if k != "key"}
        athlete, quarter = quote(filing["athlete_id"], safe=""), quote(filing["quarter"], safe="")
        path = f"{self._org}/athletes/{athlete}/whereabouts/{quarter}"
        what = f"whereabouts of {filing['athlete_id']} for {filing['quarter']}"
        return self.put_keyed(path, body, operation="sync.sync_whereabouts", what=what, id_field="filing_id")

    def put_tue(self, tue: dict[str, Any]) -> str:
        body = {**{k: v for k, v in tue.items() if k != "key"}, "tue_key": tue["key"]}
        path = f"{self._org}/tues/{quote(tue['key'], safe='')}"
        return self.put_keyed(path, body, operation="sync.submit_tues", what=f"TUE {tue['key']}", id_field="tue_id")

    def tue(self, key: str) -> dict[str, Any] | None:
        response = self.request(
            "GET", f"{self._org}/tues/{quote(key, safe='')}", operation="adams.tue_status", expect=frozenset({404})
        )
        return None if response.status_code == 404 else dict(response.json())

    def changed_results(self, since: str | None) -> Iterator[list[dict[str, Any]]]:
        params = {"since": since} if since else {}
        for page in self.pages(
            f"{self._org}/test-results", operation="sync.pull_test_results", params=params, items="results"
        ):
            yield page.items

    def result_cursor(self, run_started: datetime) -> str:
        return (run_started - timedelta(seconds=1)).astimezone(UTC).isoformat().replace("+00:00", "Z")

    def put_notification(self, notification: dict[str, Any], key: str) -> str:
        path = f"{self._org}/notifications/{quote(key, safe='')}"
        response = self.request("PUT", path, operation="calls.relay_adams_notification", json=notification)
        return str(response.json()["notification_id"])
