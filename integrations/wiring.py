"""The hub's collaborators, built once per process, lazily, and overridable in tests.

HTTP (FastAPI), timers and queues all reach their dependencies through `get_hub()`: the ASGI lifespan
never runs for timers and queues, so nothing may depend on a FastAPI startup hook.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from adapters.catalog import Catalog, default_catalog
from integrations.auth.api_keys import ApiKeys
from integrations.structural import StructuralValidator
from integrations.validation import Validator
from integrations.repository import IntegrationRepository
from shared.settings import Settings, get_settings
from shared.tables import TableStore


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Hub:
    settings: Settings
    tables: TableStore
    now: Callable[[], datetime] = utc_now
    _lazy: dict[str, object] = field(default_factory=dict)

    @property
    def integrations(self) -> IntegrationRepository:
        return self._once("integrations", lambda: IntegrationRepository(self.tables.table("integrations")))

    @property
    def api_keys(self) -> ApiKeys:
        return self._once("api_keys", lambda: ApiKeys(self.tables.table("apikeys"),
                                                       pepper=self.settings.api_key_pepper, now=self.now))

    @property
    def catalog(self) -> Catalog:
        return self._once("catalog", default_catalog)

    @property
    def validator(self) -> Validator:
        return self._once("validator", lambda: StructuralValidator(self.catalog))

    def _once(self, name: str, build: Callable[[], object]):  # type: ignore[no-untyped-def]
        if name not in self._lazy:
            self._lazy[name] = build()
        return self._lazy[name]


def build_hub(settings: Settings) -> Hub:
    if settings.storage_connection:
        tables = TableStore.from_connection_string(settings.storage_connection, prefix=settings.table_prefix)
    elif settings.storage_account_name:
        from azure.data.tables import TableServiceClient
        from azure.identity import DefaultAzureCredential

        url = f"https://{settings.storage_account_name}.table.core.windows.net"
        tables = TableStore(TableServiceClient(url, credential=DefaultAzureCredential()), prefix=settings.table_prefix)
    else:
        raise RuntimeError("Set AzureWebJobsStorage (connection string) or AzureWebJobsStorage__accountName")
    return Hub(settings=settings, tables=tables)


_lock = threading.Lock()
_hub: Hub | None = None


def get_hub() -> Hub:
    global _hub
    with _lock:
        if _hub is None:
            _hub = build_hub(get_settings())
        return _hub


def set_hub(hub: Hub | None) -> None:
    """Tests and the local runner install their own hub."""
    global _hub
    with _lock:
        _hub = hub
