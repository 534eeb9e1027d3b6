"""Which integration a store, job or route is about: the (tenant, integration) pair as one value."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class IntegrationRef:
    """An integration's address. Its ids are validated where they enter (the API's path patterns, the
    document store); this value only keeps the two together so no signature can swap them."""

    tenant_id: str
    integration_id: str

    @property
    def partition(self) -> str:
        """The partition key of the integration's rows in its per-integration tables (outbox, sync state,
        mirror, runs, payments, dead letters): one integration's rows are one partition, so a transaction
        spans them."""
        return f"{self.tenant_id}|{self.integration_id}"

    def lease(self, purpose: str, *detail: str) -> str:
        """The name of a lease on this integration (`<purpose>-<tenant>-<integration>[-<detail>…]`): the one
        spelling every holder of the same lease must agree on."""
        return "-".join((purpose, self.tenant_id, self.integration_id, *detail))

    def __str__(self) -> str:
        return f"{self.tenant_id}/{self.integration_id}"


class _Ids(Protocol):
    @property
    def tenant_id(self) -> str: ...
    @property
    def integration_id(self) -> str: ...


class OfIntegration:
    """For records that keep their integration's two ids as fields of their own (runs, imports, outbound
    calls, webhook deliveries, dead letters, schedules): their `ref`, without spelling the pair again. No
    annotations here: a pydantic record's fields (and their order in the contract) stay its own."""

    @property
    def ref(self: _Ids) -> IntegrationRef:
        return IntegrationRef(self.tenant_id, self.integration_id)
