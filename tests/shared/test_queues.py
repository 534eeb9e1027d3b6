"""Queue messages put on the wire by hand, held against what the pinned azure-storage-queue sends for the same
message, and against Azurite."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.storage.queue import BinaryBase64DecodePolicy, BinaryBase64EncodePolicy, QueueClient, QueueServiceClient

from shared.queues import Queues, put_message
from tests.helpers import RecordingTransport

Spied = tuple[QueueClient, RecordingTransport]  # a queue client and what it sent


@pytest.fixture
def queue(storage_connection: str) -> Iterator[Spied]:
    spy = RecordingTransport()
    client = QueueServiceClient.from_connection_string(storage_connection, transport=spy).get_queue_client(
        f"wire-{secrets.token_hex(6)}",
        message_encode_policy=BinaryBase64EncodePolicy(),
        message_decode_policy=BinaryBase64DecodePolicy(),
    )
    client.create_queue()
    yield client, spy
    client.delete_queue()


def test_a_message_is_the_request_the_sdk_sends_and_reads_back_the_same(
    queue: Spied,
) -> None:
    client, spy = queue
    content = json.dumps({"a": "<&> é", "n": 1}).encode()
    for delay in (0, 30):
        client.send_message(content, visibility_timeout=delay or None)
        put_message(client, content, visibility_timeout=delay)
    (sdk, ours, sdk_later, ours_later) = [
        (url, headers, body) for method, url, headers, body in spy.sent if method == "POST"
    ]
    wanted = ("content-type", "x-ms-version", "accept")
    for theirs, mine in ((sdk, ours), (sdk_later, ours_later)):
        assert mine[0] == theirs[0] and mine[2] == theirs[2]
        assert {k.lower(): v for k, v in mine[1].items() if k.lower() in wanted} == {
            k.lower(): v for k, v in theirs[1].items() if k.lower() in wanted
        }
    assert ours_later[0].endswith("/messages?visibilitytimeout=30")
    visible = [m.content for m in client.receive_messages(max_messages=32)]
    assert visible == [content, content]  # the two delayed ones are not visible yet


def test_a_refused_message_raises_the_sdks_error(queue: Spied, storage_connection: str) -> None:
    client, _ = queue
    with pytest.raises(HttpResponseError) as too_large:
        put_message(client, b"x" * 70_000)
    assert too_large.value.status_code == 413
    missing = QueueServiceClient.from_connection_string(storage_connection).get_queue_client("wire-never-created")
    with pytest.raises(ResourceNotFoundError):
        put_message(missing, b"{}")


def test_queues_send_json_that_reads_back_as_sent(storage_connection: str) -> None:
    queues = Queues.from_connection_string(storage_connection)
    name = f"wire-{secrets.token_hex(6)}"
    queues.send(name, {"job": 1})
    [message] = queues.peek_all(name)
    assert message["job"] == 1
    queues.client(name).delete_queue()
