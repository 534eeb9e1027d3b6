"""The API plan of each tenant (free / standard / dedicated): what sizes its rate-limit buckets and its quota.

The operator changes a plan through the operator API (`PUT /api/v1/operator/plans/{tenant}`) or the CLI; each
change is a row here (`PartitionKey = <tenant>`, `RowKey = "plan"`) and an entry in that tenant's audit
trail. `HUB_TENANT_PLANS` stays as the default for tenants without a row. A row read is remembered for
PLAN_RECENT_S per instance, and the rate limiter asks again every KNOWN_S: a change is in effect on every
instance within their sum (20 s).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

from pydantic import Field

from integrations.audit import AuditLog
from integrations.usage.quota import PLANS
from shared.memo import Memo
from shared.rows import Row, Rows
from shared.tables import Table

PLAN_RECENT_S = 10.0
_ROW = "plan"


class PlanRow(Row):
    """`PartitionKey = <tenant>`, `RowKey = "plan"`: the operator's choice, and who made it when."""

    plan: str = Field(alias="Plan")
    changed_by: str = Field(alias="ChangedBy")
    changed_at: datetime = Field(alias="ChangedAt")


@dataclass
class TenantPlans:
    table: Table
    default_for: Callable[[str], str]  # the setting's plan (HUB_TENANT_PLANS), else "standard"
    audit: AuditLog
    now: Callable[[], datetime]

    @cached_property
    def _rows(self) -> Rows[PlanRow]:
        return Rows(self.table, PlanRow)

    def __post_init__(self) -> None:
        self._recent: Memo[str] = Memo(PLAN_RECENT_S)

    def plan_of(self, tenant_id: str) -> str:
        # Only the row is remembered: the setting's default is read each time (it is in memory, and may change).
        row: str | None = self._recent.get(tenant_id, self._row)
        return row or self.default_for(tenant_id)

    def _row(self, tenant_id: str) -> str | None:
        found = self._rows.find(tenant_id, _ROW)
        return found[0].plan if found else None

    def _read(self, tenant_id: str) -> str:
        return self._row(tenant_id) or self.default_for(tenant_id)

    def set(self, tenant_id: str, plan: str, *, actor: str) -> tuple[str, str]:
        """(the plan before, the plan now); audited in the tenant's own trail."""
        if plan not in PLANS:
            raise ValueError(f"unknown plan {plan}")
        before = self._read(tenant_id)
        row = PlanRow(partition=tenant_id, row=_ROW, plan=plan, changed_by=actor, changed_at=self.now())
        self._rows.upsert(row)
        self._recent.forget(tenant_id)
        self.audit.record(tenant_id, actor=actor, action="plan.change", target={"from": before, "to": plan})
        return before, plan
