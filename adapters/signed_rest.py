"""Signed REST: partners without a public API — government sports registries now, insurers next round — speak
a contract we publish (adapters/contracts/gov_registry.openapi.yaml) and authenticate us by HTTP Message
Signatures (adapters/signing.py) made with the integration's `signing_key_ref`.

Each country's registry lives at its own address, set by the operator (not the tenant, so no tenant can point
signed requests elsewhere): HUB_PROVIDER_URLS {"signed_rest": {"base_url.SE": "https://…"}}, with `base_url`
as the fallback for every country."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import requests

from adapters.base import Adapter
from adapters.signing import signature_headers
from integrations.documents.document import ValidationCheck
from shared.errors import ProviderError
from shared.http import Call

PLACEHOLDER_HOST = ".invalid"


class SignedRestAdapter(Adapter):
    _key: str | None = None

    @property
    def base_url(self) -> str:
        country = getattr(self.document.config, "country_code", "")
        urls = self.ctx.url_overrides
        url = urls.get(f"base_url.{country}") or urls.get("base_url") or self.spec.base_urls["production"]
        return url.rstrip("/")

    @property
    def key_id(self) -> str:
        config = self.document.config  # registries know us by federation code, insurers by broker id
        return str(getattr(config, "signing_key_id", None) or getattr(config, "federation_code", None) or config.broker_id)

    def finish_call(self, call: Call, operation: str) -> Call:
        """Sign exactly what goes out: the final URL (query included) and the body bytes."""
        if self._key is None:  # one audited read of the key per adapter (per run), not per request
            self._key = self.ctx.resolve_secret("signing_key_ref", operation)
        if call.json is not None:
            body: bytes | None = json.dumps(call.json, ensure_ascii=False, separators=(",", ":")).encode()
        elif call.data is None or isinstance(call.data, bytes):
            body = call.data
        else:
            raise TypeError("signed requests send JSON or bytes: the signature must cover the exact body")
        url = requests.Request(call.method, call.url, params=call.params).prepare().url or call.url
        headers = {**call.headers, **({"Content-Type": "application/json"} if call.json is not None else {})}
        headers |= signature_headers(
            call.method, url, body=body, headers=headers, key_pem=self._key, key_id=self.key_id, created=datetime.now(UTC)
        )
        return dataclasses.replace(call, url=url, params=None, json=None, data=body, headers=headers)

    # --- government sports registry ------------------------------------------------------------------------------
    @property
    def _federation(self) -> str:
        return f"/federations/{quote(self.document.config.federation_code, safe='')}"

    def validate(self) -> list[ValidationCheck]:
        if self.document.family != "gov_sports_registry":
            return super().validate()  # insurers arrive with the next round
        country = self.document.config.country_code
        if PLACEHOLDER_HOST in self.base_url:
            return [
                ValidationCheck(
                    name="registry.endpoint",
                    passed=False,
                    detail=f"No registry endpoint is configured for {country}: the operator sets "
                    f'HUB_PROVIDER_URLS {{"signed_rest": {{"base_url.{country}": "https://…"}}}}',
                )
            ]
        return [self.check_call("registry.federation", "GET", self._federation)]

    def put_membership_report(self, report: dict[str, Any]) -> str:
        """PUT by period: sending a report again (a replay, or a correction) revises it; never a second one."""
        config = self.document.config
        body = {**report, "federation_code": config.federation_code, "country_code": config.country_code}
        response = self.request(
            "PUT",
            f"{self._federation}/membership-reports/{quote(report['period'], safe='')}",
            operation="sync.report_memberships",
            json=body,
            expect=frozenset({422}),
        )
        if response.status_code == 422:
            problems = "; ".join(str(e) for e in response.json().get("errors", []))
            raise ProviderError(
                detail=f"{report['period']}: the registry refused the report ({problems})", provider=self.spec.id
            )
        return str(response.json()["report_id"])
