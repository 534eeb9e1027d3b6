"""Signed REST: partners without a public API — government sports registries and insurers — speak contracts
we publish (adapters/contracts/gov_registry.openapi.yaml, insurance.openapi.yaml) and authenticate us by HTTP
Message Signatures (adapters/signing.py) made with the integration's `signing_key_ref`.

Each country's registry and each insurer lives at its own address, set by the operator (not the tenant, so no
tenant can point signed requests elsewhere): HUB_PROVIDER_URLS {"signed_rest": {"base_url.SE": "https://…",
"insurer.<broker id>": "https://…"}}, with `base_url` as the fallback for every country."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import requests

from adapters.base import Adapter, D
from adapters.signing import signature_headers
from integrations.documents.document import GovSportsRegistryIntegration, InsuranceIntegration, ValidationCheck
from integrations.documents.families import GovRegistryConfig, InsuranceConfig
from shared.errors import ProviderError
from shared.http import Call

PLACEHOLDER_HOST = ".invalid"


class SignedAdapter(Adapter[D]):
    """Requests signed with the integration's key (every contract of ours shares this); `key_id` names the key
    to the partner."""

    _key: str | None = None

    @property
    def key_id(self) -> str:
        raise NotImplementedError

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

    @property
    def partner(self) -> str:
        """Who refuses, in a refusal's words."""
        raise NotImplementedError

    def _refused(self, response: requests.Response, what: str) -> ProviderError:
        # A 422's `errors` name the fields at fault; ADAMS overrides this (its text may quote health data).
        problems = "; ".join(str(e) for e in response.json().get("errors", [])) if response.content else ""
        return ProviderError(
            detail=f"{what}: {self.partner} refused it ({problems or response.status_code})", provider=self.spec.id
        )

    def put_keyed(self, path: str, body: dict[str, Any], *, operation: str, what: str, id_field: str) -> str:
        """PUT a record at its key's address: sending it again (a replay, a correction) updates the one record,
        never makes a second. A 422 is the partner refusing the record itself; the answer's `id_field` its id."""
        response = self.request("PUT", path, operation=operation, json=body, expect=frozenset({422}))
        if response.status_code == 422:
            raise self._refused(response, what)
        return str(response.json()[id_field])


class SignedRestAdapter(SignedAdapter[InsuranceIntegration | GovSportsRegistryIntegration]):
    # One adapter, two families (the signed REST contract is ours for both): each side reads its own config.
    @property
    def _insurer(self) -> InsuranceConfig:
        if not isinstance(self.document, InsuranceIntegration):
            raise TypeError(f"a {self.document.family} integration has no insurer configuration")
        return self.document.config

    @property
    def _registry(self) -> GovRegistryConfig:
        if not isinstance(self.document, GovSportsRegistryIntegration):
            raise TypeError(f"a {self.document.family} integration has no registry configuration")
        return self.document.config

    @property
    def partner(self) -> str:
        return "the insurer" if isinstance(self.document, InsuranceIntegration) else "the registry"

    @property
    def base_url(self) -> str:
        urls = self.ctx.url_overrides
        if isinstance(self.document, InsuranceIntegration):  # each insurer at its own address, named by our broker id
            url = urls.get(f"insurer.{self._insurer.broker_id}") or self.spec.base_urls["production"]
        else:
            country = self._registry.country_code
            url = urls.get(f"base_url.{country}") or urls.get("base_url") or self.spec.base_urls["production"]
        return url.rstrip("/")

    @property
    def key_id(self) -> str:
        if isinstance(self.document, InsuranceIntegration):  # insurers know us by broker id
            return self._insurer.broker_id
        return self._registry.signing_key_id or self._registry.federation_code  # registries by federation code

    # --- government sports registry ------------------------------------------------------------------------------
    @property
    def _federation(self) -> str:
        return f"/federations/{quote(self._registry.federation_code, safe='')}"

    def validate(self) -> list[ValidationCheck]:
        if self.document.family == "insurance":
            return self._validate_insurer()
        country = self._registry.country_code
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
        config = self._registry
        body = {**report, "federation_code": config.federation_code, "country_code": config.country_code}
        path = f"{self._federation}/membership-reports/{quote(report['period'], safe='')}"
        what = f"membership report {report['period']}"
        return self.put_keyed(path, body, operation="sync.report_memberships", what=what, id_field="report_id")

    # Filings other than membership reports: the registry's collection for each record kind (PUT by key).
    FILINGS = {"grant_application": "grant-applications", "facility": "facilities", "event_report": "event-reports"}

    def put_filing(self, kind: str, filing: dict[str, Any]) -> str:
        path = f"{self._federation}/{self.FILINGS[kind]}/{quote(filing['key'], safe='')}"
        return self.put_keyed(path, filing, operation=f"sync.{kind}", what=f"{kind} {filing['key']}", id_field="id")

    def filing(self, kind: str, key: str) -> dict[str, Any] | None:
        path = f"{self._federation}/{self.FILINGS[kind]}/{quote(key, safe='')}"
        response = self.request("GET", path, operation=f"registry.{kind}_status", expect=frozenset({404}))
        return None if response.status_code == 404 else dict(response.json())

    def changed_obligations(self, since: str | None) -> Iterator[list[dict[str, Any]]]:
        params = {"since": since} if since else {}
        path = f"{self._federation}/compliance-obligations"
        for page in self.pages(path, operation="sync.track_compliance", params=params, items="obligations"):
            yield page.items

    def obligation_cursor(self, run_started: datetime) -> str:
        return (run_started - timedelta(seconds=1)).astimezone(UTC).isoformat().replace("+00:00", "Z")

    # --- insurer -------------------------------------------------------------------------------------------------
    @property
    def _broker(self) -> str:
        return f"/brokers/{quote(self._insurer.broker_id, safe='')}"

    def _group(self, group: str) -> str:
        return f"{self._broker}/policy-groups/{quote(group, safe='')}"

    def _validate_insurer(self) -> list[ValidationCheck]:
        config = self._insurer
        if PLACEHOLDER_HOST in self.base_url:
            return [
                ValidationCheck(
                    name="insurer.endpoint",
                    passed=False,
                    detail=f"No insurer endpoint is configured for broker {config.broker_id}: the operator sets "
                    f'HUB_PROVIDER_URLS {{"signed_rest": {{"insurer.{config.broker_id}": "https://…"}}}}',
                )
            ]
        if not config.policy_group_ids:
            return [ValidationCheck(name="insurer.policy_groups", passed=False, detail="config.policy_group_ids is empty")]
        return [self.check_call(f"insurer.group.{g}", "GET", self._group(g)) for g in config.policy_group_ids]

    def put_enrolment(self, enrolment: dict[str, Any]) -> str:
        """PUT by licence: enrolling again (a replay, or a change) changes the enrolment, never a second one."""
        group = enrolment.get("policy_group_id") or self._insurer.policy_group_ids[0]
        body = {k: v for k, v in enrolment.items() if k not in ("key", "policy_group_id")}
        body["licence_key"] = enrolment["key"]
        path = f"{self._group(group)}/enrolments/{quote(enrolment['key'], safe='')}"
        what = f"enrolment {enrolment['key']}"
        return self.put_keyed(path, body, operation="sync.enrol_licence_holders", what=what, id_field="enrolment_id")

    def put_claim(self, claim: dict[str, Any]) -> str:
        body = {**{k: v for k, v in claim.items() if k != "key"}, "claim_key": claim["key"]}
        path = f"{self._broker}/claims/{quote(claim['key'], safe='')}"
        return self.put_keyed(path, body, operation="sync.submit_claims", what=f"claim {claim['key']}", id_field="claim_id")

    def claim(self, key: str) -> dict[str, Any] | None:
        path = f"{self._broker}/claims/{quote(key, safe='')}"
        response = self.request("GET", path, operation="insurance.claim_status", expect=frozenset({404}))
        return None if response.status_code == 404 else dict(response.json())

    def quote_premium(self, request: dict[str, Any]) -> dict[str, Any]:
        path = f"{self._broker}/quotes"
        response = self.request("POST", path, operation="insurance.quote", json=request, expect=frozenset({422}))
        if response.status_code == 422:
            raise self._refused(response, "the quote")
        return dict(response.json())

    def certificate(self, licence_key: str, group: str | None = None) -> bytes | None:
        group = group or self._insurer.policy_group_ids[0]
        path = f"{self._group(group)}/enrolments/{quote(licence_key, safe='')}/certificate"
        response = self.request(
            "GET", path, operation="insurance.certificate", headers={"Accept": "application/pdf"}, expect=frozenset({404})
        )
        if response.status_code == 404:
            return None
        if not response.content.startswith(b"%PDF"):
            raise ProviderError(detail="the insurer's certificate is not a PDF", provider=self.spec.id)
        return response.content
