"""Small per-integration sync state: named cursors (where a pull resumes) and the ids already taken in (so a
re-read page does not emit twice). Rows live in the integration's partition of the `syncstate` table and
are written by the run holding the integration's sync lease."""

from __future__ import annotations

from shared.tables import Table


class SyncState:
    def __init__(self, table: Table) -> None:
        self._table = table

    @staticmethod
    def _pk(tenant_id: str, integration_id: str) -> str:
        return f"{tenant_id}|{integration_id}"

    def cursor(self, tenant_id: str, integration_id: str, name: str) -> str | None:
        found = self._table.find(self._pk(tenant_id, integration_id), f"cursor|{name}")
        return found[0]["Value"] if found else None

    def set_cursor(self, tenant_id: str, integration_id: str, name: str, value: str | None) -> None:
        if value:
            pk = self._pk(tenant_id, integration_id)
            self._table.merge_many([{"PartitionKey": pk, "RowKey": f"cursor|{name}", "Value": value}])

    def seen(self, tenant_id: str, integration_id: str, kind: str, item_id: str) -> bool:
        return self._table.find(self._pk(tenant_id, integration_id), f"seen|{kind}|{item_id}") is not None

    def mark_seen(self, tenant_id: str, integration_id: str, kind: str, item_ids: list[str]) -> None:
        pk = self._pk(tenant_id, integration_id)
        self._table.merge_many([{"PartitionKey": pk, "RowKey": f"seen|{kind}|{i}"} for i in item_ids])
