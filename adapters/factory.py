"""Building the adapter of a stored document: its provider's catalog entry with the operator's overrides
(rate limits, page sizes, URLs), its credentials and access tokens, its usage counter and its callback URL.

The collaborators are passed in as narrow Protocols and callables, so this module needs nothing of
`integrations/` (the composition root, `integrations/wiring.Hub`, supplies them)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from adapters.base import Adapter, AdapterContext
from adapters.catalog import Catalog
from adapters.registry import build_adapter
from adapters.spec import ProviderSpec
from integrations.documents.document import IntegrationDocument
from integrations.documents.ref import IntegrationRef
from shared.http import OutboundClient


class TokenSource(Protocol):
    """Where an OAuth provider's access token comes from (the user-grant broker or the machine-token one)."""

    def access_token(self, document: IntegrationDocument, *, operation: str) -> Any: ...
    def invalidate(self, document: IntegrationDocument) -> None: ...


class SecretResolver(Protocol):
    def resolve(self, document: IntegrationDocument, slot: str, *, operation: str) -> str: ...


class AuditRecorder(Protocol):
    def record(
        self,
        tenant_id: str,
        *,
        actor: str,
        action: str,
        integration_id: str | None = None,
        target: dict[str, Any] | None = None,
    ) -> str: ...


class UsageRecorder(Protocol):
    def record(
        self,
        *,
        ref: IntegrationRef,
        provider: str,
        operation: str,
        status: int | None,
        latency_ms: float,
        units: int = 1,
    ) -> None: ...


@dataclass(frozen=True)
class AdapterFactory:
    catalog: Catalog
    outbound: OutboundClient
    credentials: SecretResolver
    user_tokens: TokenSource  # oauth2_code providers
    machine_tokens: TokenSource  # oauth2_client_credentials providers
    usage: UsageRecorder
    rate_limits: Mapping[str, Mapping[str, Any]]  # provider → rate_limit fields that replace the catalog's
    page_sizes: Mapping[str, int]  # provider → page size that replaces the catalog's
    urls_for: Callable[[str], dict[str, str]]  # provider → the operator's URL overrides
    url_hosts: Callable[[str], tuple[str, ...]]  # provider → hosts a tenant URL may name
    public_base_url: str
    audit: AuditRecorder | None = None

    def spec_for(self, provider: str) -> ProviderSpec:
        """The catalog entry as this deployment runs it."""
        spec = self.catalog.get(provider)
        if (limit := self.rate_limits.get(provider)) and spec.rate_limit:
            rate = type(spec.rate_limit).model_validate({**spec.rate_limit.model_dump(), **limit})
            spec = spec.model_copy(update={"rate_limit": rate})
        if size := self.page_sizes.get(provider):
            spec = spec.model_copy(update={"pagination": spec.pagination.model_copy(update={"page_size": size})})
        return spec

    def __call__(self, document: IntegrationDocument) -> Adapter[Any]:
        spec = self.spec_for(document.provider)
        tokens = {"oauth2_code": self.user_tokens, "oauth2_client_credentials": self.machine_tokens}.get(spec.auth.kind)

        def record(operation: str, status: int | None, latency_ms: float) -> None:
            self.usage.record(
                ref=document.ref,
                provider=document.provider,
                operation=operation,
                status=status,
                latency_ms=latency_ms,
                units=spec.operation_units.get(operation, 1),
            )

        return build_adapter(
            AdapterContext(
                document=document,
                spec=spec,
                outbound=self.outbound,
                resolve_secret=lambda slot, op: self.credentials.resolve(document, slot, operation=op),
                access_token=(lambda op: tokens.access_token(document, operation=op)) if tokens else None,
                invalidate_token=(lambda: tokens.invalidate(document)) if tokens else None,
                record_usage=record,
                url_overrides=self.urls_for(document.provider),
                url_hosts=self.url_hosts(document.provider),
                callback_url=f"{self.public_base_url.rstrip('/')}/api/v1/webhooks/{document.provider}/{document.id}",
                audit=self._auditor(document),
                app_token=(lambda op: self.machine_tokens.access_token(document, operation=op))
                if spec.auth.app_tokens
                else None,
            )
        )

    def _auditor(self, document: IntegrationDocument) -> Callable[[str, dict[str, str]], None] | None:
        audit = self.audit
        if audit is None:
            return None

        def record(operation: str, target: dict[str, str]) -> None:
            audit.record(
                document.tenant_id,
                actor="hub",
                action=f"{document.provider}.access",
                integration_id=document.id,
                target={"operation": operation, **target},
            )

        return record
