"""Azure Queue Storage senders. Messages are base64-encoded, as the Functions host expects by default."""

from __future__ import annotations

import json
from typing import Any

from azure.core.exceptions import ResourceExistsError
from azure.storage.queue import BinaryBase64DecodePolicy, BinaryBase64EncodePolicy, QueueClient, QueueServiceClient

from shared import telemetry
from shared.tables import STORAGE_CLIENT, storage_call

MAX_DEQUEUE_COUNT = 5  # host.json extensions.queues.maxDequeueCount: the attempts a message gets


class Queues:
    def __init__(self, service: QueueServiceClient) -> None:
        self._service = service
        self._clients: dict[str, QueueClient] = {}

    @classmethod
    def from_connection_string(cls, conn: str) -> Queues:
        return cls(QueueServiceClient.from_connection_string(conn, **STORAGE_CLIENT))

    def client(self, name: str) -> QueueClient:
        if name not in self._clients:
            client = self._service.get_queue_client(
                name, message_encode_policy=BinaryBase64EncodePolicy(), message_decode_policy=BinaryBase64DecodePolicy()
            )
            try:
                client.create_queue()
            except ResourceExistsError:
                pass
            self._clients[name] = client
        return self._clients[name]

    def send(self, name: str, message: dict[str, Any], *, delay_s: int = 0) -> None:
        """Send JSON; the current trace context travels along as `traceparent` (W3C) unless already present."""
        if "traceparent" not in message:
            message = {**message, **telemetry.inject({})}
        with storage_call():
            self.client(name).send_message(json.dumps(message, default=str).encode(), visibility_timeout=delay_s or None)

    def peek_all(self, name: str, *, limit: int = 32) -> list[dict[str, Any]]:
        return [json.loads(m.content) for m in self.client(name).peek_messages(max_messages=limit)]
