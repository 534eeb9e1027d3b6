"""Azure Table Storage access: every table call the hub makes goes through here (transactions on the wire: `batch_wire`).

Translates the SDK's errors into ours (NotFound / Conflict / PreconditionFailed, and StorageUnavailable for
an outage) and makes every update conditional on an ETag unless the caller explicitly asks for an
unconditional write. Clients get short, explicit timeouts and bounded retries (STORAGE_CLIENT): an outage
answers 503 within seconds instead of hanging a request for the SDK's default minutes.
"""

from __future__ import annotations

import base64
import functools
import inspect
import json
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from azure.core import MatchConditions
from azure.core.exceptions import (
    HttpResponseError,
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
)
from azure.data.tables import TableClient, TableServiceClient, UpdateMode

from shared import batch_wire
from shared.errors import BadRequest, Conflict, NotFound, PreconditionFailed, StorageUnavailable

Entity = dict[str, Any]
T = TypeVar("T")
# azure-core's defaults are a 300 s connection timeout and 10 retries with backoff: minutes before an outage
# surfaces. These bound one storage call to about 2 × (2 s connect + 5 s read). Storage is reached directly (a
# private or service endpoint), never through HTTP(S)_PROXY: requests otherwise scans the whole environment
# twice per call for proxy variables, a tenth of a one-row write's client CPU.
STORAGE_CLIENT: dict[str, Any] = {
    "connection_timeout": 2,
    "read_timeout": 5,
    "retry_total": 1,
    "retry_backoff_factor": 0.2,
    "use_env_settings": False,
}


batch_wire.install()


@contextmanager
def storage_call() -> Iterator[None]:
    """Storage that did not answer (rather than answered no) becomes StorageUnavailable: the one translation,
    wrapped around every public method of Table and around the queue sender."""
    try:
        yield
    except (ServiceRequestError, ServiceResponseError) as exc:
        raise StorageUnavailable() from exc
    except HttpResponseError as exc:
        if exc.status_code in (500, 503):
            raise StorageUnavailable() from exc
        raise


def _translating(cls: type[T]) -> type[T]:
    for attr, fn in list(vars(cls).items()):
        if callable(fn) and not attr.startswith("_"):
            setattr(cls, attr, _translated(fn))
    return cls


def _translated(fn: Callable[..., Any]) -> Callable[..., Any]:
    if inspect.isgeneratorfunction(fn):

        @functools.wraps(fn)
        def rows(*args: Any, **kwargs: Any) -> Any:
            with storage_call():
                yield from fn(*args, **kwargs)

        return rows

    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        with storage_call():
            return fn(*args, **kwargs)

    return call


@dataclass(frozen=True)
class Write:
    """One write of a `Table.transact`: an insert, or a REPLACE/MERGE or a delete, conditional when `etag` is set."""

    kind: Literal["insert", "update", "delete"]
    entity: Entity
    etag: str | None = None
    replace: bool = False  # REPLACE the whole row instead of MERGE-ing these columns


@dataclass(frozen=True)
class Page:
    items: list[Entity]
    continuation: str | None


def until_written(what: str, step: Callable[[], T], *, attempts: int = 10) -> T:
    """Run `step` (read a row, change it, write it back with the read's ETag) until no other writer got in
    between: a PreconditionFailed means one did, so read again. After `attempts` a 409 says `what` is too
    contended to change now."""
    for _ in range(attempts):
        try:
            return step()
        except PreconditionFailed:
            continue
    raise Conflict(f"{what} is too contended; retry.")


def _operation(write: Write) -> batch_wire.Operation:
    """A Write as its changeset part: insert POSTs, REPLACE PUTs, MERGE PATCHes; a delete without an ETag is
    unconditional (`*`), an update without one an upsert."""
    if write.kind == "insert":
        return batch_wire.Operation("POST", write.entity)
    if write.kind == "delete":
        return batch_wire.Operation("DELETE", write.entity, write.etag or "*")
    return batch_wire.Operation("PUT" if write.replace else "PATCH", write.entity, write.etag)


def _etag(entity: Mapping[str, Any]) -> str:
    return str(entity.metadata["etag"])  # type: ignore[attr-defined]


def encode_token(token: Mapping[str, str] | None) -> str | None:
    if not token:
        return None
    return base64.urlsafe_b64encode(json.dumps(token, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_token(token: str | None) -> dict[str, str] | None:
    if not token:
        return None
    try:
        padded = token + "=" * (-len(token) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded))
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise ValueError
        return value
    except (ValueError, json.JSONDecodeError) as exc:
        raise BadRequest("The continuation token is malformed; use the `next` link of the previous page.") from exc


@_translating
class Table:
    """One table. Entities are plain dicts; ETags travel beside them."""

    def __init__(self, client: TableClient, *, create: Callable[[], object] | None = None) -> None:
        self._raw = client
        self._create = create  # creates the table on first use: opening a table makes no storage call
        self._created = threading.Event()
        self._creating = threading.Lock()

    @property
    def _client(self) -> TableClient:
        if self._create is not None and not self._created.is_set():
            with self._creating:
                if not self._created.is_set():
                    self._create()
                    self._created.set()
        return self._raw

    @property
    def name(self) -> str:
        return self._raw.table_name

    def insert(self, entity: Entity) -> str:
        try:
            meta = self._client.create_entity(entity)
        except ResourceExistsError as exc:
            raise Conflict(f"{entity['RowKey']} exists already") from exc
        return str(meta["etag"])

    def get(self, partition: str, row: str) -> tuple[Entity, str]:
        try:
            entity = self._client.get_entity(partition, row)
        except ResourceNotFoundError as exc:
            raise NotFound(f"{row} was not found") from exc
        return dict(entity), _etag(entity)

    def find(self, partition: str, row: str) -> tuple[Entity, str] | None:
        try:
            return self.get(partition, row)
        except NotFound:
            return None

    def replace(self, entity: Entity, *, etag: str) -> str:
        return self._update(entity, etag=etag, mode=UpdateMode.REPLACE)

    def merge(self, entity: Entity, *, etag: str) -> str:
        return self._update(entity, etag=etag, mode=UpdateMode.MERGE)

    def _update(self, entity: Entity, *, etag: str, mode: UpdateMode) -> str:
        try:
            meta = self._client.update_entity(entity, mode=mode, etag=etag, match_condition=MatchConditions.IfNotModified)
        except ResourceModifiedError as exc:
            raise PreconditionFailed("The resource changed since it was read (ETag mismatch).") from exc
        except ResourceNotFoundError as exc:
            raise NotFound(f"{entity['RowKey']} was not found") from exc
        except HttpResponseError as exc:
            if exc.status_code == 412:
                raise PreconditionFailed("The resource changed since it was read (ETag mismatch).") from exc
            raise
        return str(meta["etag"])

    def upsert(self, entity: Entity) -> str:
        """Unconditional write: only for rows with a single writer (e.g. append-only audit rows)."""
        return str(self._client.upsert_entity(entity, mode=UpdateMode.REPLACE)["etag"])

    def transact(self, writes: list[Write]) -> list[str | None]:
        """Up to 100 writes to one partition, all or none (an entity group transaction): an insert whose row
        exists raises Conflict, a conditional write whose row changed raises PreconditionFailed. Returns each
        written row's new ETag."""
        try:
            return batch_wire.submit(self._client, [_operation(w) for w in writes])
        except batch_wire.PartRefused as exc:
            if exc.status == 409:
                raise Conflict("The row exists already.") from exc
            if exc.status == 412:
                raise PreconditionFailed("The resource changed since it was read (ETag mismatch).") from exc
            if exc.status == 404:
                raise NotFound("The row was not found.") from exc
            if exc.status in (500, 503):
                raise StorageUnavailable() from exc
            raise

    def merge_many(self, entities: list[Entity]) -> None:
        """Unconditional MERGE of up to 100 entities of one partition in one transaction (single-writer rows)."""
        for i in range(0, len(entities), 100):
            self.transact([Write("update", e) for e in entities[i : i + 100]])

    def delete_many(self, partition: str, rows: list[str]) -> None:
        """Unconditional delete of up to 100 rows of one partition per transaction (single-writer rows)."""
        for i in range(0, len(rows), 100):
            self.transact([Write("delete", {"PartitionKey": partition, "RowKey": r}) for r in rows[i : i + 100]])

    def delete(self, partition: str, row: str, *, etag: str | None = None) -> None:
        """Delete one row, visibly: a missing row raises NotFound and, with `etag`, a changed one raises
        PreconditionFailed, so a conditional delete is a claim of which exactly one caller succeeds.
        azure-data-tables 12.7's `delete_entity` swallows the 404 (two instances "deleting" one row would both
        succeed); a one-operation transaction reports it, in the same single round trip."""
        self.transact([Write("delete", {"PartitionKey": partition, "RowKey": row}, etag=etag)])

    def query(
        self, flt: str, *, parameters: Mapping[str, Any] | None = None, select: list[str] | None = None
    ) -> Iterator[Entity]:
        """`select` names the columns wanted: on long range reads it halves the time (less to send and parse)."""
        for entity in self._client.query_entities(flt, parameters=dict(parameters or {}), select=select):
            yield dict(entity)

    def query_versioned(self, flt: str, *, parameters: Mapping[str, Any] | None = None) -> Iterator[tuple[Entity, str]]:
        """Like `query`, with each entity's ETag for a later conditional write."""
        for entity in self._client.query_entities(flt, parameters=dict(parameters or {})):
            yield dict(entity), _etag(entity)

    def page(
        self,
        flt: str,
        *,
        parameters: Mapping[str, Any] | None = None,
        size: int,
        continuation: str | None = None,
        select: list[str] | None = None,
    ) -> Page:
        pages = self._client.query_entities(
            flt, parameters=dict(parameters or {}), results_per_page=size, select=select
        ).by_page(
            continuation_token=decode_token(continuation)  # type: ignore[arg-type]  # the SDK takes its own dict
        )
        try:
            items = [dict(e) for e in next(pages)]
        except StopIteration:
            items = []
        return Page(items, encode_token(pages.continuation_token))  # type: ignore[attr-defined]


class TableStore:
    """Creates (once) and hands out the hub's tables, all named `<prefix><name>`."""

    def __init__(self, service: TableServiceClient, *, prefix: str) -> None:
        self._service = service
        self._prefix = prefix
        self._tables: dict[str, Table] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_connection_string(cls, conn: str, *, prefix: str) -> TableStore:
        return cls(TableServiceClient.from_connection_string(conn, **STORAGE_CLIENT), prefix=prefix)

    def table(self, name: str) -> Table:
        """The table `<prefix><name>`, created (if missing) by its first operation, not here: building the hub's
        collaborators is then free of I/O, so the API can use them on its event loop."""
        with self._lock:
            if name not in self._tables:
                full = f"{self._prefix}{name}"
                self._tables[name] = Table(
                    self._service.get_table_client(full), create=lambda: self._service.create_table_if_not_exists(full)
                )
            return self._tables[name]
