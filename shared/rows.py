"""Typed rows: a table's columns declared once, as a pydantic model with the storage names as aliases.

Stores build and read `Row` models instead of dicts: a misspelt column is a type error, not a silently empty
value, and the partition/row keys are named fields. `Rows[R]` is the typed view of a `Table` (same ETag
discipline, same error translation: it only maps rows to and from the entity dicts `Table` speaks)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from shared.tables import Table

R = TypeVar("R", bound="Row")


class Row(BaseModel):
    """One table row. Subclasses add their columns as `name: type = Field(alias="ColumnName")`. Storage's own
    metadata (Timestamp, odata fields) is ignored on the way in."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    partition: str = Field(alias="PartitionKey")
    row: str = Field(alias="RowKey")

    def entity(self) -> dict[str, Any]:
        # None columns are left out: Table Storage has no null, and a MERGE must not blank a column it omits.
        return self.model_dump(by_alias=True, exclude_none=True)


class ChunkedRow(Row):
    """A row carrying a value longer than one property holds (64 KiB), split over numbered columns beside its
    declared ones: `Chunks` says how many, `part_name(i)` names each (a column set no static model lists, so
    the parts are the model's extra fields)."""

    model_config = ConfigDict(populate_by_name=True, extra="allow")
    default_chunks: ClassVar[int] = 0  # what a row written without `Chunks` holds

    chunks: int | None = Field(None, alias="Chunks")

    @staticmethod
    def part_name(i: int) -> str:
        return f"Body{i}"

    def put_parts(self, parts: Sequence[str | bytes]) -> None:
        self.chunks = len(parts)
        for i, part in enumerate(parts):
            setattr(self, self.part_name(i), part)

    def parts(self) -> list[Any]:
        extra = self.model_extra or {}
        count = self.default_chunks if self.chunks is None else self.chunks
        return [extra[self.part_name(i)] for i in range(count)]


def in_partition(partition: str, *, row_prefix: str | None = None, status: str | None = None) -> tuple[str, dict[str, Any]]:
    """A filter and its parameters for a partition's rows: those whose RowKey starts with `row_prefix` and
    whose `Status` is `status` (each when given). Parameters, never values pasted in: a key may hold a quote."""
    flt, params = "PartitionKey eq @pk", {"pk": partition}
    if row_prefix is not None:
        flt += " and RowKey ge @lo and RowKey lt @hi"
        params |= {"lo": row_prefix, "hi": row_prefix + "~"}
    if status is not None:
        flt += " and Status eq @status"
        params["status"] = status
    return flt, params


class Rows(Generic[R]):
    """A `Table` whose rows are `R`s."""

    def __init__(self, table: Table, row: type[R]) -> None:
        self.table = table
        self._row = row

    def of(self, entity: Mapping[str, Any]) -> R:
        return self._row.model_validate(entity)

    def insert(self, row: R) -> str:
        return self.table.insert(row.entity())

    def upsert(self, row: R) -> str:
        return self.table.upsert(row.entity())

    def replace(self, row: R, *, etag: str) -> str:
        return self.table.replace(row.entity(), etag=etag)

    def get(self, partition: str, row: str) -> tuple[R, str]:
        entity, etag = self.table.get(partition, row)
        return self.of(entity), etag

    def find(self, partition: str, row: str) -> tuple[R, str] | None:
        found = self.table.find(partition, row)
        return None if found is None else (self.of(found[0]), found[1])

    def query(
        self, flt: str, *, parameters: Mapping[str, Any] | None = None, select: list[str] | None = None
    ) -> Iterator[R]:
        """`select`: the columns wanted besides the keys (long range reads halve their time with it); the row
        model must not require a column left out."""
        keys = None if select is None else [*select, "PartitionKey", "RowKey"]
        for entity in self.table.query(flt, parameters=parameters, select=keys):
            yield self.of(entity)

    def query_versioned(self, flt: str, *, parameters: Mapping[str, Any] | None = None) -> Iterator[tuple[R, str]]:
        """With each row's ETag, for a later conditional write (a claim)."""
        for entity, etag in self.table.query_versioned(flt, parameters=parameters):
            yield self.of(entity), etag

    def page(
        self, flt: str, *, parameters: Mapping[str, Any] | None = None, size: int, continuation: str | None = None
    ) -> tuple[list[R], str | None]:
        page = self.table.page(flt, parameters=parameters, size=size, continuation=continuation)
        return [self.of(e) for e in page.items], page.continuation


class ClockedStore(Generic[R]):
    """A store of one row type whose records are stamped by a clock it is given (tests pass a fixed one).
    A subclass names its row type: `row_type = RunRow`."""

    row_type: type[R]

    def __init__(self, table: Table, *, now: Callable[[], datetime]) -> None:
        self._rows = Rows(table, self.row_type)
        self._now = now
