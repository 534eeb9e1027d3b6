"""What a route that calls a provider while a person waits checks first (an insurer's quote, a TUE's status, a
grant application's, a VAT report): the integration is of the family, active, and has the service's flag on —
each refusal a 409 naming what is missing. Returns the document and its adapter."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import anyio

from adapters.base import Adapter
from integrations.documents.document import require_in_service
from integrations.documents.ref import IntegrationRef
from integrations.repository import IntegrationRepository
from shared.errors import Conflict, NotFound


@dataclass(frozen=True)
class LiveAdapters:
    integrations: IntegrationRepository
    adapter_for: Callable[[Any], Adapter[Any]]

    def active(self, ref: IntegrationRef, *, family: str, flag: str) -> tuple[Any, Any]:
        document = self.integrations.get(ref).document
        if document.family != family:
            raise Conflict(f"{document.provider} ({document.family}) is not a {family} integration.", reason=f"not_{family}")
        require_in_service(document, flag, service="live reads")
        return document, self.adapter_for(document)

    async def read(
        self,
        ref: IntegrationRef,
        *,
        family: str,
        flag: str,
        ask: Callable[[Any], dict[str, Any] | None],
        missing: str,
    ) -> dict[str, Any]:
        """What the provider says about one thing (a TUE's status, a grant application's, a claim's), asked on a
        worker thread of an active integration with the service's flag on; a 404 saying `missing` when the
        provider knows nothing of it."""

        def run() -> dict[str, Any] | None:
            return ask(self.active(ref, family=family, flag=flag)[1])

        found = await anyio.to_thread.run_sync(run)
        if found is None:
            raise NotFound(missing)
        return found
