"""Tenants' event endpoints (the Svix / Standard Webhooks model): an HTTPS URL, the event types it wants, and a
signing secret shown once — rotatable, the previous one still signing beside the new for an overlap.

Rows: `PartitionKey = <tenant>`, `RowKey = <endpoint id>`. Secrets live in the secret store
(`<tenant>--shared--evtep-<hex>`, a version per rotation), never in the row; the row names the versions that
sign (`SecretVersions`, newest first), so a delivery resolves them through the cached path without listing the
store's versions each time.
"""

from __future__ import annotations

import base64
import fnmatch
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, Field, PrivateAttr

from shared.errors import NotFound
from shared.memo import Memo
from shared.rows import Row, Rows
from shared.secrets.store import SecretStore
from shared.tables import Table, until_written

DEFAULT_OVERLAP = timedelta(hours=24)

RECENT_S = 2.0  # how stale a fan-out's list of a tenant's endpoints may be (another instance's change)


class EndpointStatus(StrEnum):
    enabled = "enabled"
    disabled = "disabled"  # after sustained failure (or by the tenant): nothing is sent until re-enabled


class EventEndpoint(BaseModel):
    id: str
    tenant_id: str
    url: str
    event_types: list[str] = Field(
        default_factory=list,
        description="Event types it receives (`payment.succeeded`, `sync.*`); empty: every type.",
    )
    description: str = ""
    status: EndpointStatus = EndpointStatus.enabled
    created_at: datetime
    disabled_at: datetime | None = None
    disabled_reason: str | None = None
    previous_secret_until: datetime | None = Field(
        None, description="Until then deliveries carry a signature with the previous secret too (rotation)."
    )

    # Not part of the API's shape: the secret versions that sign, newest first (the previous one kept while a
    # rotation's overlap lasts). Empty on rows written before they were recorded: the store's list is read.
    _secret_versions: list[str] = PrivateAttr(default_factory=list)

    def wants(self, event_type: str) -> bool:
        short = event_type.removeprefix("dev.integration-hub.")
        return not self.event_types or any(fnmatch.fnmatchcase(short, pattern) for pattern in self.event_types)


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


class EndpointRow(Row):
    """`Body` the endpoint; `SecretVersions` the signing secret's versions that sign now (newest first)."""

    body: str = Field(alias="Body")
    secret_versions: str = Field("", alias="SecretVersions")

    @classmethod
    def of(cls, endpoint: EventEndpoint) -> EndpointRow:
        versions = ",".join(endpoint._secret_versions)
        return cls(partition=endpoint.tenant_id, row=endpoint.id, body=endpoint.model_dump_json(), secret_versions=versions)

    def endpoint(self) -> EventEndpoint:
        endpoint = EventEndpoint.model_validate_json(self.body)
        endpoint._secret_versions = [v for v in self.secret_versions.split(",") if v]
        return endpoint


class EventEndpoints:
    def __init__(
        self,
        table: Table,
        store: SecretStore,
        *,
        now: Callable[[], datetime],
        resolve: Callable[[str, str], str] | None = None,
    ) -> None:
        self._rows = Rows(table, EndpointRow)
        self._store = store
        self._now = now
        # (tenant, `kv:<name>@<version>`) → the value, through the hub's one secret path (cached, audited).
        self._resolve = resolve or (lambda tenant, ref: self._store.get(*ref.removeprefix("kv:").split("@")))
        self._recent: Memo[str] = Memo(RECENT_S)

    @staticmethod
    def secret_name(endpoint: EventEndpoint) -> str:
        return f"{endpoint.tenant_id}--shared--evtep-{endpoint.id.removeprefix('ep_')}"

    def _write(self, endpoint: EventEndpoint, etag: str | None) -> str:
        row = EndpointRow.of(endpoint)
        self._recent.forget(endpoint.tenant_id)  # before and after: a read racing the write is not remembered
        try:
            return self._rows.insert(row) if etag is None else self._rows.replace(row, etag=etag)
        finally:
            self._recent.forget(endpoint.tenant_id)

    def create(self, tenant_id: str, url: str, event_types: list[str], description: str) -> tuple[EventEndpoint, str]:
        """(the endpoint, its signing secret — shown this once)."""
        endpoint = EventEndpoint(
            id="ep_" + secrets.token_hex(12),
            tenant_id=tenant_id,
            url=url,
            event_types=event_types,
            description=description,
            created_at=self._now(),
        )
        secret = new_secret()
        stored = self._store.set(self.secret_name(endpoint), secret, tags={"tenant": tenant_id, "endpoint": endpoint.id})
        endpoint._secret_versions = [stored.version]
        self._write(endpoint, None)
        return endpoint, secret

    def _get(self, tenant_id: str, endpoint_id: str) -> tuple[EventEndpoint, str]:
        found = self._rows.find(tenant_id, endpoint_id)
        if found is None:
            raise NotFound(f"No event endpoint {endpoint_id}.")
        return found[0].endpoint(), found[1]

    def get(self, tenant_id: str, endpoint_id: str) -> EventEndpoint:
        return self._get(tenant_id, endpoint_id)[0]

    def recent(self, tenant_id: str) -> list[EventEndpoint]:
        """The tenant's endpoints as this instance read them at most RECENT_S ago (its own changes at once): a
        burst of events fans out on one read. Another instance's change shows within RECENT_S."""
        found: list[EventEndpoint] = self._recent.get(tenant_id, self.of_tenant)
        return found

    def of_tenant(self, tenant_id: str) -> list[EventEndpoint]:
        rows = self._rows.query("PartitionKey eq @t", parameters={"t": tenant_id})
        return sorted((row.endpoint() for row in rows), key=lambda e: e.created_at)

    def delete(self, tenant_id: str, endpoint_id: str) -> None:
        endpoint = self.get(tenant_id, endpoint_id)
        self._rows.table.delete(tenant_id, endpoint_id)
        self._recent.forget(tenant_id)
        self._store.delete(self.secret_name(endpoint))

    def _change(self, tenant_id: str, endpoint_id: str, change: Callable[[EventEndpoint], None]) -> EventEndpoint:
        def changed() -> EventEndpoint:
            endpoint, etag = self._get(tenant_id, endpoint_id)
            change(endpoint)
            self._write(endpoint, etag)
            return endpoint

        return until_written(f"Event endpoint {endpoint_id}", changed)

    def rotate(self, tenant_id: str, endpoint_id: str, overlap: timedelta = DEFAULT_OVERLAP) -> tuple[EventEndpoint, str]:
        """A new secret (shown once); the previous one keeps signing beside it for `overlap`."""
        endpoint = self.get(tenant_id, endpoint_id)
        secret = new_secret()
        stored = self._store.set(self.secret_name(endpoint), secret, tags={"tenant": tenant_id, "endpoint": endpoint_id})
        until = self._now() + overlap

        def overlap_from_now(e: EventEndpoint) -> None:
            e.previous_secret_until = until
            e._secret_versions = [stored.version, *[v for v in self._versions(e) if v != stored.version][:1]]

        return self._change(tenant_id, endpoint_id, overlap_from_now), secret

    def set_status(self, tenant_id: str, endpoint_id: str, status: EndpointStatus, reason: str | None) -> EventEndpoint:
        at = self._now()

        def apply(e: EventEndpoint) -> None:
            e.status = status
            e.disabled_at, e.disabled_reason = (at, reason) if status == EndpointStatus.disabled else (None, None)

        return self._change(tenant_id, endpoint_id, apply)

    def signing_secrets(self, endpoint: EventEndpoint) -> list[str]:
        """The current secret, and the previous one while the rotation's overlap lasts (newest first)."""
        name = self.secret_name(endpoint)
        versions = self._versions(endpoint)
        overlapping = endpoint.previous_secret_until is not None and self._now() < endpoint.previous_secret_until
        return [self._resolve(endpoint.tenant_id, f"kv:{name}@{version}") for version in versions[: 2 if overlapping else 1]]

    def _versions(self, endpoint: EventEndpoint) -> list[str]:
        if endpoint._secret_versions:
            return endpoint._secret_versions
        return [v.version for v in self._store.versions(self.secret_name(endpoint)) if v.enabled]
