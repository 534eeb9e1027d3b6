"""Integration documents in Table Storage: PartitionKey = tenant, RowKey = integration id.

The document is stored as JSON in `Body` (split across `Body1…BodyN` when longer than one string property
may hold), beside a few top-level columns used for filtering. Limits (Azure Table Storage): a string
property holds 64 KiB (32 K UTF-16 chars) and an entity 1 MiB, so we cap a document at 512 KiB of JSON
(MAX_DOCUMENT_CHARS); the API's request body limit (256 KiB) keeps well inside that.
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import Field

from integrations.documents.document import DOCUMENT_ADAPTER, IntegrationDocument
from integrations.documents.ref import IntegrationRef
from shared.errors import PayloadTooLarge
from shared.rows import ChunkedRow, Row
from shared.tables import Page, Table

CHUNK = 30_000  # characters per string property (UTF-16 worst case stays under 64 KiB)
MAX_DOCUMENT_CHARS = 512 * 1024
RECENT_S = 2.0  # how old a document `recent` may hand out: a change made on another instance shows within this
RECENT_MAX = 10_000  # documents remembered per instance


@dataclass(frozen=True)
class Stored:
    document: IntegrationDocument  # one of the family documents
    etag: str


@dataclass(frozen=True)
class ListFilter:
    family: str | None = None
    provider: str | None = None
    status: str | None = None


class DocumentRow(ChunkedRow):
    """The document's JSON in `Body`, `Body1…BodyN`; beside it the columns a listing filters on."""

    default_chunks: ClassVar[int] = 1

    family: str = Field(alias="Family")
    provider: str = Field(alias="Provider")
    status: str = Field(alias="Status")
    version: int = Field(alias="Version")

    @staticmethod
    def part_name(i: int) -> str:
        return "Body" if i == 0 else f"Body{i}"


class IndexRow(Row):
    """`PartitionKey = <integration id>`, `RowKey = ""`: whose integration it is."""

    tenant: str = Field(alias="Tenant")


def to_entity(document: IntegrationDocument) -> dict[str, Any]:
    body = document.model_dump_json()
    if len(body) > MAX_DOCUMENT_CHARS:
        raise PayloadTooLarge(f"The document is {len(body)} characters; the limit is {MAX_DOCUMENT_CHARS}.")
    row = DocumentRow(
        partition=document.tenant_id,
        row=document.id,
        family=document.family,
        provider=document.provider,
        status=str(document.status),
        version=document.version,
    )
    row.put_parts([body[i : i + CHUNK] for i in range(0, len(body), CHUNK)] or [""])
    return row.entity()


def from_entity(entity: dict[str, Any]) -> Any:
    return DOCUMENT_ADAPTER.validate_python(json.loads("".join(DocumentRow.model_validate(entity).parts())))


class IntegrationRepository:
    """Reads and conditionally writes integration documents. Every query is constrained to one tenant, except
    `tenant_of`: a provider's webhook URL names only the integration, so an index (PartitionKey = integration
    id) says whose it is — one point read, never a scan an unauthenticated caller could set off."""

    def __init__(self, table: Table, *, index: Table | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self._table = table
        self._index = index
        self._clock = clock
        self._recent: OrderedDict[IntegrationRef, tuple[float, Stored]] = OrderedDict()
        self._lock = threading.Lock()

    def insert(self, document: IntegrationDocument) -> str:
        if self._index is not None:  # first: a document is never without its index row (ids are never reused)
            self._index.upsert(IndexRow(partition=document.id, row="", tenant=document.tenant_id).entity())
        etag = self._table.insert(to_entity(document))
        self._remember(Stored(document, etag))
        return etag

    def tenant_of(self, integration_id: str) -> str | None:
        found = self._index.find(integration_id, "") if self._index is not None else None
        return IndexRow.model_validate(found[0]).tenant if found else None

    def get(self, ref: IntegrationRef) -> Stored:
        entity, etag = self._table.get(ref.tenant_id, ref.integration_id)
        return self._remember(Stored(from_entity(entity), etag))

    def recent(self, ref: IntegrationRef) -> Stored:
        """The document as this instance read or wrote it at most RECENT_S ago, else a fresh read. For checks on
        hot paths that may act on what was true a moment ago (the outbox intake: a record taken in just before a
        change is the same as a record that arrived a moment earlier). Never for a conditional write: the ETag
        may be stale; `get` is for those."""
        with self._lock:
            hit = self._recent.get(ref)
        if hit is not None and self._clock() - hit[0] < RECENT_S:
            return hit[1]
        return self.get(ref)

    def _remember(self, stored: Stored) -> Stored:
        key = stored.document.ref
        with self._lock:
            self._recent[key] = (self._clock(), stored)
            self._recent.move_to_end(key)
            while len(self._recent) > RECENT_MAX:
                self._recent.popitem(last=False)
        return stored

    def replace(self, document: IntegrationDocument, *, etag: str) -> str:
        # REPLACE, not MERGE: a shorter document must not leave stale Body chunks behind.
        try:
            new = self._table.replace(to_entity(document), etag=etag)
        except Exception:
            self._forget(document.ref)  # someone else changed it: read it fresh next time
            raise
        self._remember(Stored(document, new))
        return new

    def _forget(self, ref: IntegrationRef) -> None:
        with self._lock:
            self._recent.pop(ref, None)

    def list(self, tenant_id: str, flt: ListFilter, *, size: int, continuation: str | None) -> tuple[list[Any], str | None]:
        clauses, params = ["PartitionKey eq @tenant"], {"tenant": tenant_id}
        for column, value in (("Family", flt.family), ("Provider", flt.provider), ("Status", flt.status)):
            if value is not None:
                clauses.append(f"{column} eq @{column.lower()}")
                params[column.lower()] = value
        page: Page = self._table.page(" and ".join(clauses), parameters=params, size=size, continuation=continuation)
        return [from_entity(e) for e in page.items], page.continuation
