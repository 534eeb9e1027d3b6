"""Append-only audit trail per tenant: who did what to which credential or integration, when and why.

RowKeys sort newest first (inverted milliseconds), so a page of the newest events is one range read.
Values never enter an audit row: only names, versions, slots and outcomes.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.tables import Table

_MAX_MS = 10**13


@dataclass(frozen=True)
class AuditEvent:
    id: str
    at: datetime
    tenant_id: str
    actor: str
    action: str
    integration_id: str | None
    target: dict[str, Any]
    outcome: str
    reason: str


class AuditLog:
    def __init__(self, table: Table, *, now: Callable[[], datetime]) -> None:
        self._table = table
        self._now = now

    def record(
        self,
        tenant_id: str,
        *,
        actor: str,
        action: str,
        integration_id: str | None = None,
        target: dict[str, Any] | None = None,
        outcome: str = "ok",
        reason: str = "",
    ) -> str:
        at = self._now()
        row = f"{_MAX_MS - int(at.timestamp() * 1000):013d}-{secrets.token_hex(4)}"
        self._table.insert(
            {
                "PartitionKey": tenant_id,
                "RowKey": row,
                "At": at,
                "Actor": actor,
                "Action": action,
                "IntegrationId": integration_id or "",
                "Target": json.dumps(target or {}, sort_keys=True),
                "Outcome": outcome,
                "Reason": reason[:1000],
            }
        )
        return row

    def query(
        self,
        tenant_id: str,
        *,
        action: str | None = None,
        integration_id: str | None = None,
        size: int = 50,
        continuation: str | None = None,
    ) -> tuple[list[AuditEvent], str | None]:
        clauses, params = ["PartitionKey eq @t"], {"t": tenant_id}
        if action:
            clauses.append("Action eq @a")
            params["a"] = action
        if integration_id:
            clauses.append("IntegrationId eq @i")
            params["i"] = integration_id
        page = self._table.page(" and ".join(clauses), parameters=params, size=size, continuation=continuation)
        return [
            AuditEvent(
                e["RowKey"],
                e["At"],
                tenant_id,
                e["Actor"],
                e["Action"],
                e["IntegrationId"] or None,
                json.loads(e["Target"]),
                e["Outcome"],
                e["Reason"],
            )
            for e in page.items
        ], page.continuation
