"""Broadcasts for federation events on a streaming integration (`capabilities.channel_management`): the first
one creates the integration's reusable live stream and keeps its key as the `stream_key_ref` secret (written,
audited and rotatable like any credential, never answered: the API shows the RTMP ingestion address and a masked
key); every broadcast is bound to that stream. A broadcast is created once per key: the same key again answers
the first one. Rows: `PartitionKey = <tenant>|<integration>`, `RowKey = "stream"` or `broadcast|<key>`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

from pydantic import BaseModel, Field

from adapters import capabilities as can
from adapters.streaming import Broadcast
from integrations.credentials import Credentials
from integrations.documents.document import IntegrationDocument
from integrations.documents.ref import IntegrationRef
from shared.errors import Conflict
from shared.leases import LeaseBusy, Leases
from shared.rows import Row, Rows
from shared.tables import Table

LEASE_S = 60.0  # a creation is three provider calls; a crashed holder's lease frees itself

# The catalog capability → (the adapter Protocol, the document flag switching it on).
SERVICES: dict[str, tuple[type, str]] = {"create_broadcast": (can.Broadcasts, "channel_management")}


class BroadcastOut(BaseModel):
    key: str
    broadcast_id: str
    watch_url: str
    scheduled_start: str
    privacy: str
    rtmp_url: str = Field(description="Where the encoder sends the stream.")
    stream_key: str = Field(description="Masked: the key itself is a secret (credentials/stream_key_ref).")


class StreamRow(Row):
    """The integration's one reusable live stream (`RowKey = "stream"`): its key is a secret, only its tail here."""

    stream_id: str = Field(alias="StreamId")
    ingestion: str = Field(alias="Ingestion")
    tail: str = Field(alias="Tail")


class BroadcastRow(Row):
    body: str = Field(alias="Body")


@dataclass(frozen=True)
class Broadcasts:
    table: Table
    credentials: Credentials
    set_secret_ref: Callable[[IntegrationRef, str, str], None]  # slot, secret reference
    leases: Leases

    @cached_property
    def _broadcasts(self) -> Rows[BroadcastRow]:
        return Rows(self.table, BroadcastRow)

    @cached_property
    def _streams(self) -> Rows[StreamRow]:
        return Rows(self.table, StreamRow)

    def get(self, document: IntegrationDocument, key: str) -> BroadcastOut | None:
        found = self._broadcasts.find(document.ref.partition, f"broadcast|{key}")
        return BroadcastOut.model_validate_json(found[0].body) if found else None

    def create(
        self,
        document: IntegrationDocument,
        adapter: can.Broadcasts,
        *,
        key: str,
        title: str,
        scheduled_start: str,
        privacy: str,
    ) -> tuple[BroadcastOut, bool]:
        """(the broadcast, whether this call created it). One creation per integration at a time, on every
        instance: two requests for one key make one broadcast, and the first broadcast makes the one stream."""

        def broadcast(stream_id: str) -> Broadcast:
            return adapter.create_broadcast(
                title=title, scheduled_start=scheduled_start, privacy=privacy, stream_id=stream_id
            )

        try:
            with self.leases.held(document.ref.lease("broadcasts"), ttl_s=LEASE_S, wait_s=LEASE_S / 2):
                return self._create(document, adapter, key, broadcast)
        except LeaseBusy:
            raise Conflict("Another broadcast is being created for this integration; retry.", reason="in_progress") from None

    def _create(
        self, document: IntegrationDocument, adapter: can.Broadcasts, key: str, broadcast: Callable[[str], Broadcast]
    ) -> tuple[BroadcastOut, bool]:
        if (existing := self.get(document, key)) is not None:
            return existing, False
        pk = document.ref.partition
        found = self._streams.find(pk, "stream")
        if found is None or not document.credentials.stream_key_ref:
            created = adapter.create_stream(f"{document.display_name} (Integration Hub)")
            stored = self.credentials.put(
                document.ref, "stream_key_ref", created.stream_name, actor="hub", reason="live stream"
            )
            self.set_secret_ref(document.ref, "stream_key_ref", stored.ref)
            stream = StreamRow(
                partition=pk,
                row="stream",
                stream_id=created.id,
                ingestion=created.ingestion_address,
                tail=created.stream_name[-4:],
            )
            self._streams.upsert(stream)
        else:
            stream = found[0]
        made = broadcast(stream.stream_id)
        out = BroadcastOut(
            key=key,
            broadcast_id=made.id,
            watch_url=made.watch_url,
            scheduled_start=made.scheduled_start,
            privacy=made.privacy,
            rtmp_url=stream.ingestion,
            stream_key="•" * 8 + stream.tail,
        )
        self._broadcasts.insert(BroadcastRow(partition=pk, row=f"broadcast|{key}", body=out.model_dump_json()))
        return out, True
