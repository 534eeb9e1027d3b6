"""The outbox intake: what every route that hands the hub records to deliver does. Records of a kind are taken
in only when an operation the integration is offered delivers that kind; every mapped field must be mapped;
each record is put once by its key (the tally says what was new, unchanged or replaced). Routes get an
`Intake` through their dependencies (`IntakeDep`), not the Hub."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Response
from fastapi.types import DecoratedCallable
from pydantic import BaseModel, Field

from adapters.catalog import Catalog
from integrations.api.problems import STATEFUL_WRITE, Responses
from integrations.documents.document import F, IntegrationDocument, of_family
from integrations.documents.ref import IntegrationRef
from integrations.repository import IntegrationRepository
from integrations.sync.operations import OPERATIONS, delivered_records
from integrations.sync.outbox import Outbox
from shared.errors import FieldError, ValidationFailed


class OutboxResult(BaseModel):
    created: int
    unchanged: int
    replaced: int
    counts: dict[str, int] = Field(
        description="Records by state for this integration, as of this write (writes made on other instances in"
        " the last 2 s may be missing; `GET …/status` reads them fresh)."
    )


def outbox_post(
    router: APIRouter,
    path: str,
    *,
    model: type[BaseModel] = OutboxResult,
    responses: Responses = STATEFUL_WRITE,
    openapi_extra: dict[str, Any] | None = None,
) -> Callable[[DecoratedCallable], DecoratedCallable]:
    """`POST …/outbox/<records>`: every intake route answers 202 with what it took in, and 409 when the
    integration is in no state to take records."""
    return router.post(path, status_code=202, response_model=model, responses=responses, openapi_extra=openapi_extra)


def accepted(result: OutboxResult) -> Response:
    """202 with the tally, serialised once: FastAPI would validate the model it was just built from again
    against the response model, on the hottest write path (the routes keep `response_model` for the spec)."""
    return Response(result.model_dump_json(), status_code=202, media_type="application/json")


def require_fields_mapped(kind: str, records: list[Any], mapped: dict[str, str], map_name: str) -> None:
    """Every platform field of every record (`record.fields`) must be mapped to a CRM field."""
    unknown = [
        FieldError(f"/{kind}/{i}/fields/{name}", f"not in {map_name} (mapped: {sorted(mapped)})")
        for i, record in enumerate(records)
        for name in record.fields
        if name not in mapped
    ]
    if unknown:
        raise ValidationFailed(f"Some {kind[:-1]} fields are not mapped to the CRM.", unknown[:50])


@dataclass(frozen=True)
class Intake:
    integrations: IntegrationRepository
    catalog: Catalog
    outbox: Outbox

    def open(self, family: type[F], ref: IntegrationRef, record: str, pointer: str, what: str) -> F:
        """The integration's document (of the family whose operations deliver this kind of record), when an
        operation it is offered delivers records of this kind."""
        document = self.integrations.recent(ref).document
        capabilities = self.catalog.get(document.provider).capabilities
        if record not in delivered_records(document, capabilities):
            ops = [op.name for op in OPERATIONS.values() if op.record == record and op.delivers]
            detail = f"{document.provider} runs none of {ops} here (not in its catalog, or the capability flag is off)"
            raise ValidationFailed(f"This integration {what}.", [FieldError(pointer, detail)])
        return of_family(document, family)

    def store(
        self, document: IntegrationDocument, kind: str, records: list[Any], *, updatable: bool = False
    ) -> OutboxResult:
        """Put each record (a pydantic model with `key`) into the outbox; the tally says what was new."""
        ref = document.ref
        tally = {"created": 0, "unchanged": 0, "replaced": 0}
        counts: dict[str, int] = {}
        for record in records:
            payload = record.model_dump(mode="json")
            put = self.outbox.put(ref, kind, record.key, payload, updatable=updatable)
            tally[put.outcome] += 1
            counts = put.counts  # as of the last write: no second read
        return OutboxResult(**tally, counts=counts or self.outbox.counts(ref))
