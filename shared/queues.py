"""Azure Queue Storage senders. Messages are base64-encoded, as the Functions host expects by default.

A message is put on the wire here (`Put Message`: its base64 text in a `<QueueMessage>` element) and sent
through the queue client's own pipeline — its authentication, retries, timeouts and tracing — instead of
through `QueueClient.send_message`, which builds the XML with its model serialiser and reads the answer back
into models the hub never looks at: a quarter of a send's CPU, on the webhook receiver's one storage write.
`tests/shared/test_queues.py` holds the request against the pinned SDK's.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from azure.core.exceptions import HttpResponseError, ResourceExistsError
from azure.core.rest import HttpRequest
from azure.storage.queue import BinaryBase64DecodePolicy, BinaryBase64EncodePolicy, QueueClient, QueueServiceClient
from azure.storage.queue._shared.response_handlers import process_storage_error

from shared import telemetry
from shared.tables import STORAGE_CLIENT, storage_call

_XML_DECLARATION = "<?xml version='1.0' encoding='utf-8'?>\n"  # as the SDK's serialiser writes it
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
            put_message(self.client(name), json.dumps(message, default=str).encode(), visibility_timeout=delay_s)

    def peek_all(self, name: str, *, limit: int = 32) -> list[dict[str, Any]]:
        return [json.loads(m.content) for m in self.client(name).peek_messages(max_messages=limit)]


def put_message(client: QueueClient, content: bytes, *, visibility_timeout: int = 0) -> None:
    """`content` on the queue, base64-encoded as BinaryBase64EncodePolicy encodes it (the text needs no XML
    escaping: base64 has no markup characters). A refusal raises the SDK's own error for it."""
    text = base64.b64encode(content).decode("ascii")
    request = HttpRequest(
        "POST",
        f"{client.url}/messages",
        params={"visibilitytimeout": str(visibility_timeout)} if visibility_timeout else None,
        headers={"Content-Type": "application/xml", "x-ms-version": client.api_version, "Accept": "application/xml"},
        content=f"{_XML_DECLARATION}<QueueMessage><MessageText>{text}</MessageText></QueueMessage>".encode(),
    )
    # Streamed: the answer (the new message's id and pop receipt, in XML) is not needed, so it is not parsed.
    response = client._client._client.send_request(request, stream=True)  # noqa: SLF001 - the client's pipeline
    response.read()
    if response.status_code != 201:
        process_storage_error(HttpResponseError(response=response))
