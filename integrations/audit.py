"""Append-only audit trail per tenant: who did what to which credential or integration, when and why.

RowKeys sort newest first (inverted milliseconds), so a page of the newest events is one range read.
Values never enter an audit row: only names, versions, slots and outcomes.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import Field

from shared.rows import ClockedStore, Row

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


class AuditRow(Row):
    """`PartitionKey = <tenant>`, `RowKey = <inverted ms>-<random>`."""

    at: datetime = Field(alias="At")
    actor: str = Field(alias="Actor")
    action: str = Field(alias="Action")
    integration_id: str = Field(alias="IntegrationId")  # "" when the event is about no integration
    target: str = Field(alias="Target")  # JSON: names, versions, slots — never a value
    outcome: str = Field(alias="Outcome")
    reason: str = Field(alias="Reason")

    def event(self) -> AuditEvent:
        return AuditEvent(
            self.row,
            self.at,
            self.partition,
            self.actor,
            self.action,
            self.integration_id or None,
            json.loads(self.target),
            self.outcome,
            self.reason,
        )


class AuditLog(ClockedStore[AuditRow]):
    row_type = AuditRow

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
        self._rows.insert(
            AuditRow(
                partition=tenant_id,
                row=row,
                at=at,
                actor=actor,
                action=action,
                integration_id=integration_id or "",
                target=json.dumps(target or {}, sort_keys=True),
                outcome=outcome,
                reason=reason[:1000],
            )
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
        rows, continuation = self._rows.page(" and ".join(clauses), parameters=params, size=size, continuation=continuation)
        return [row.event() for row in rows], continuation
