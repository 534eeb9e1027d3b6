"""The mapping family's monthly usage budget (`config.monthly_usage_budget`), enforced before a call leaves:
a call past it is refused here and never reaches the provider (cloud billing budgets only alert; this is what
stops spend). At 80 % a `mapping.budget_threshold` event goes to the tenant's endpoints, once a month.

Every instance takes the budget in blocks from one row per integration and month (`Reserved`, ETag-checked),
so a call costs a storage write only once per block. A block is at most an eighth of what is left (and never
more than BLOCK_MAX), so what a crashed instance held and never used is a small, shrinking part of the month,
and near the end of the budget blocks are single calls: the number of provider calls never exceeds the budget.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pydantic import Field

from integrations.documents.document import IntegrationDocument, MappingIntegration
from integrations.events import cloud_event
from shared.errors import Conflict, PreconditionFailed, RateLimited
from shared.rows import Row, Rows
from shared.tables import Table

BLOCK_MAX = 25
ALERT_PCT = 80
TRIES = 10


def _next_month(now: datetime) -> datetime:
    return datetime(now.year + now.month // 12, now.month % 12 + 1, 1, tzinfo=UTC)


class BudgetRow(Row):
    """`RowKey = budget|<YYYY-MM>`: the calls instances have reserved from the month's budget, in blocks."""

    reserved: int = Field(alias="Reserved")
    alerted: bool = Field(False, alias="Alerted")  # the threshold alert went out this month


class MonthlyBudget:
    def __init__(self, table: Table, *, publish: Callable[[dict[str, Any]], None], now: Callable[[], datetime]) -> None:
        self._rows = Rows(table, BudgetRow)
        self._publish = publish
        self._now = now
        self._lock = threading.Lock()
        self._held: dict[tuple[str, str, str], int] = {}  # (tenant, integration, month) → calls this instance holds

    def take(self, document: IntegrationDocument) -> None:
        """One call's worth of the budget, or RateLimited until the month ends."""
        budget = document.config.monthly_usage_budget if isinstance(document, MappingIntegration) else None
        if budget is None:
            return
        now = self._now()
        month = now.strftime("%Y-%m")
        key = (document.tenant_id, document.id, month)
        with self._lock:
            if self._held.get(key, 0) > 0:
                self._held[key] -= 1
                return
        pk, rk = document.ref.partition, f"budget|{month}"
        for _ in range(TRIES):
            found = self._rows.find(pk, rk)
            reserved = found[0].reserved if found else 0
            alerted = found[0].alerted if found else False
            left = budget - reserved
            if left <= 0:
                raise RateLimited(
                    f"The monthly usage budget of {budget} calls is spent for {month}; lookups resume next month "
                    f"(or raise config.monthly_usage_budget).",
                    retry_after=max(1, int((_next_month(now) - now).total_seconds())),
                )
            block = max(1, min(BLOCK_MAX, left // 8))
            crossing = not alerted and (reserved + block) * 100 >= ALERT_PCT * budget
            row = BudgetRow(partition=pk, row=rk, reserved=reserved + block, alerted=alerted or crossing)
            try:
                if found is None:
                    self._rows.insert(row)
                else:
                    self._rows.replace(row, etag=found[1])
            except (Conflict, PreconditionFailed):
                continue  # another instance took a block meanwhile: look again
            with self._lock:
                self._held[key] = self._held.get(key, 0) + block - 1
            if crossing:
                self._alert(document, budget, reserved + block, month)
            return
        raise Conflict("The mapping budget is contended right now; retry.", reason="contended")

    def used(self, document: IntegrationDocument) -> int:
        """Calls taken from this month's budget by every instance (those held but not yet made included)."""
        month = self._now().strftime("%Y-%m")
        found = self._rows.find(document.ref.partition, f"budget|{month}")
        return found[0].reserved if found else 0

    def _alert(self, document: IntegrationDocument, budget: int, reserved: int, month: str) -> None:
        self._publish(
            cloud_event(
                "mapping.budget_threshold",
                id=f"mapping-budget:{document.id}:{month}",
                ref=document.ref,
                subject="mapping/budget",
                data={"month": month, "budget": budget, "reserved": reserved, "threshold_pct": ALERT_PCT},
            )
        )
