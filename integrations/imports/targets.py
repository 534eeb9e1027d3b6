"""Where an imported canonical record goes: the outbox record kind of the integration it is imported into,
the payload that kind's intake takes, and the same per-record rules the intake route applies (chart of
accounts, fiscal year, mapped CRM fields), answered per row instead of per request."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from adapters.accounting import outside_fiscal_year
from canonical.events import CourseEnrollment
from canonical.fields import Canonical
from canonical.money import Expense, Invoice, Payment
from canonical.people import Member
from integrations.documents.document import (
    AccountingIntegration,
    CrmIntegration,
    IntegrationDocument,
    LmsIntegration,
    of_family,
)
from integrations.sync.outbox import Outbox
from shared.errors import NotFound

Problems = list[tuple[str, str]]  # (canonical field, what is wrong)


@dataclass(frozen=True)
class Target:
    family: type[IntegrationDocument]  # the integration family whose operations deliver the record kind
    record: str  # the outbox record kind
    key: Callable[[Any], str]
    payload: Callable[[Any, IntegrationDocument, datetime], dict[str, Any]]
    check: Callable[[Any, IntegrationDocument, Outbox], Problems]
    updatable: bool = False  # a later import replaces a pending record (members: the newest state wins)


def _no_problems(record: Any, document: IntegrationDocument, outbox: Outbox) -> Problems:
    return []


def _dump(record: Canonical, document: IntegrationDocument, as_of: datetime) -> dict[str, Any]:
    return record.model_dump(mode="json")


def _chart(document: IntegrationDocument, pairs: list[tuple[str, str]]) -> Problems:
    chart = of_family(document, AccountingIntegration).config.chart_of_accounts
    return [(name, f"no account mapped for {category!r}") for name, category in pairs if category not in chart]


def _year(document: IntegrationDocument, name: str, day: date) -> Problems:
    problem = outside_fiscal_year(of_family(document, AccountingIntegration), day)
    return [(name, problem)] if problem else []


def _invoice(record: Invoice, document: IntegrationDocument, outbox: Outbox) -> Problems:
    pairs = [(f"lines/{i}/category", line.category) for i, line in enumerate(record.lines)]
    return _chart(document, pairs) + _year(document, "invoice_date", record.invoice_date)


def _expense(record: Expense, document: IntegrationDocument, outbox: Outbox) -> Problems:
    pairs = [("category", record.category), ("paid_from", record.paid_from)]
    if record.vat_amount:
        pairs.append(("vat_amount", "input_vat"))
    problems = _chart(document, pairs) + _year(document, "spent_on", record.spent_on)
    if record.vat_amount >= record.amount:
        problems.append(("vat_amount", "must be less than amount"))
    return problems


def _payment(record: Payment, document: IntegrationDocument, outbox: Outbox) -> Problems:
    problems = _chart(document, [("account_category", record.account_category)])
    problems += _year(document, "paid_on", record.paid_on)
    try:
        outbox.get(document.ref, "invoice", record.invoice_key)
    except NotFound:
        problems.append(("invoice_key", f"no invoice {record.invoice_key} was handed to this integration"))
    return problems


def _member_payload(record: Member, document: IntegrationDocument, as_of: datetime) -> dict[str, Any]:
    """What `POST …/outbox/members` stores: the mapped fields only (the CRM mapping decides what the CRM gets)."""
    mapped = of_family(document, CrmIntegration).config.member_field_map
    values = record.model_dump(mode="json", exclude_none=True, exclude={"member_id"})
    return {
        "key": record.member_id,
        "updated_at": as_of.isoformat(),
        "fields": {k: v for k, v in values.items() if k in mapped},
    }


def _member(record: Member, document: IntegrationDocument, outbox: Outbox) -> Problems:
    mapped = of_family(document, CrmIntegration).config.member_field_map
    if not any(k in mapped for k in record.model_fields_set - {"member_id"}):
        return [("member_id", "none of the record's fields is in member_field_map")]
    return []


TARGETS: dict[type[Canonical], Target] = {
    Member: Target(CrmIntegration, "member", lambda r: r.member_id, _member_payload, _member, updatable=True),
    Invoice: Target(AccountingIntegration, "invoice", lambda r: r.key, _dump, _invoice),
    Payment: Target(AccountingIntegration, "payment", lambda r: r.key, _dump, _payment),
    Expense: Target(AccountingIntegration, "expense", lambda r: r.key, _dump, _expense),
    CourseEnrollment: Target(LmsIntegration, "enrollment", lambda r: r.key, _dump, _no_problems),
}
