"""What a route that calls a provider while a person waits checks first (an insurer's quote, a TUE's status, a
grant application's, a VAT report): the integration is of the family, active, and has the service's flag on —
each refusal a 409 naming what is missing. Returns the document and its adapter."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from adapters.base import Adapter
from integrations.documents.common import LifecycleStatus
from integrations.repository import IntegrationRepository
from shared.errors import Conflict


@dataclass(frozen=True)
class LiveAdapters:
    integrations: IntegrationRepository
    adapter_for: Callable[[Any], Adapter]

    def active(self, tenant_id: str, integration_id: str, *, family: str, flag: str) -> tuple[Any, Any]:
        document = self.integrations.get(tenant_id, integration_id).document
        if document.family != family:
            raise Conflict(f"{document.provider} ({document.family}) is not a {family} integration.", reason=f"not_{family}")
        if document.status != LifecycleStatus.active:
            raise Conflict(
                f"The integration is {document.status.value}: this service needs an active one.", reason="not_active"
            )
        if not getattr(document.capabilities, flag):
            raise Conflict(f"{flag} is switched off for this integration (capabilities.{flag}).", reason="capability_off")
        return document, self.adapter_for(document)
