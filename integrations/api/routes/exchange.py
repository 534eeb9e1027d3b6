"""File exchange with providers that have no API: the CSV export of an integration's records of a kind, and
the provider's reconciliation file that says what became of each (see integrations/imports/reconcile.py)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import anyio
from fastapi import Path, Query, Request, Response
from pydantic import BaseModel, Field

from adapters.catalog import Catalog
from canonical.recipes.reader import FileRefused
from integrations.api.deps import (
    DATA_READ,
    CatalogDep,
    DataReader,
    IntegrationsDep,
    OutboxDep,
    Ref,
    Writer,
    demand_for_model,
)
from integrations.api.problems import COMMON, WRITE, P, problems
from integrations.api.routing import api_router
from integrations.api.uploads import spool
from integrations.documents.ref import IntegrationRef
from integrations.imports.reconcile import export_csv, reconcile, records
from integrations.repository import IntegrationRepository
from integrations.sync.operations import delivered_records
from shared.errors import FieldError, ValidationFailed

router = api_router(prefix="/api/v1/tenants/{tenant_id}/integrations/{integration_id}", tags=["imports"])
Kind = Annotated[str, Path(pattern=r"^[a-z_]{1,40}$", description="A record kind (invoice, payment, enrollment…).")]


def _kind(integrations: IntegrationRepository, catalog: Catalog, ref: IntegrationRef, kind: str, pointer: str) -> None:
    document = integrations.get(ref).document
    kinds = delivered_records(document, catalog.get(document.provider).capabilities)
    if kind not in kinds:
        raise ValidationFailed(f"This integration delivers no {kind} records.", [FieldError(pointer, f"not one of {kinds}")])


@router.get(
    "/records/{kind}.csv",
    response_class=Response,
    openapi_extra=DATA_READ,
    responses={
        **COMMON,
        200: {"content": {"text/csv": {}}, "description": "key, state, then the record's fields."},
        422: {**P, "description": "A kind this integration does not deliver."},
    },
)
def export_records_csv(
    ref: Ref,
    kind: Kind,
    principal: DataReader,
    integrations: IntegrationsDep,
    catalog: CatalogDep,
    outbox: OutboxDep,
    state: Annotated[Literal["pending", "delivered"], Query(description="Not yet delivered, or delivered.")] = "pending",
) -> Any:
    """The integration's records of a kind as CSV, for a provider without an API (members need members:read)"""
    demand_for_model(principal, kind, write=False)
    _kind(integrations, catalog, ref, kind, "path:kind")
    body = export_csv(records(outbox, ref, kind, state))
    disposition = f'attachment; filename="{ref.integration_id}-{kind}-{state}.csv"'
    return Response(body, media_type="text/csv; charset=utf-8", headers={"Content-Disposition": disposition})


class ReconciledRow(BaseModel):
    line: int
    reference: str
    outcome: Literal["unmatched", "duplicate", "mismatched", "invalid"]
    detail: str


class ReconciliationReport(BaseModel):
    record: str
    rows: int = Field(description="Data rows in the file.")
    matched: int = Field(description="Rows whose record took the provider's status.")
    unmatched: int = Field(description="Rows whose reference no record of this integration has.")
    duplicate: int = Field(description="Rows repeating a reference of an earlier line (not applied).")
    mismatched: int = Field(description="Rows whose amount or currency differ from the record (not applied).")
    invalid: int = Field(description="Rows without a reference or a status.")
    report: list[ReconciledRow] = Field(description="Every row that was not matched, with why.")


@router.post(
    "/reconciliations",
    response_model=ReconciliationReport,
    responses=problems(WRITE, own={422: "A kind this integration does not deliver, or an unreadable file."}),
)
async def reconcile_records(
    request: Request,
    ref: Ref,
    principal: Writer,
    integrations: IntegrationsDep,
    catalog: CatalogDep,
    outbox: OutboxDep,
    record: Annotated[str, Query(pattern=r"^[a-z_]{1,40}$", description="The record kind the file reconciles.")],
    encoding: Annotated[str | None, Query(max_length=40)] = None,
) -> Any:
    """Apply a provider's reconciliation file (CSV: reference, status[, amount, currency, provider_reference])"""
    stream, _, _, charset, _ = await spool(request)

    def run() -> ReconciliationReport:
        _kind(integrations, catalog, ref, record, "query:record")
        try:
            result = reconcile(outbox, ref, record, stream, encoding=encoding or charset)
        except FileRefused as exc:
            raise ValidationFailed(f"The file cannot be read: {exc}.", [FieldError(exc.pointer, str(exc))]) from None
        return ReconciliationReport(
            record=record,
            rows=result.rows,
            matched=result.matched,
            **{k: result.count(k) for k in ("unmatched", "duplicate", "mismatched", "invalid")},
            report=[ReconciledRow(**vars(r)) for r in result.report],
        )

    with stream:
        return await anyio.to_thread.run_sync(run)
