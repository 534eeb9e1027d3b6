"""Table transactions written on the wire by hand, held against what the pinned azure-data-tables writes for the
same operations and against what Azurite answers."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from email import message_from_bytes
from typing import Any

import pytest
from azure.core import MatchConditions
from azure.core.exceptions import HttpResponseError
from azure.data.tables import TableClient, TableServiceClient, UpdateMode

from shared import batch_wire
from shared.errors import Conflict, NotFound, PreconditionFailed
from shared.tables import Table, Write
from tests.helpers import RecordingTransport

Spied = tuple[TableClient, RecordingTransport]  # a table client and what it sent
ODD = "a'b c%é"  # a quote (doubled in an address), a space and a percent sign (percent-encoded), non-ASCII


@pytest.fixture
def spied(storage_connection: str) -> Iterator[Spied]:
    spy = RecordingTransport()
    service = TableServiceClient.from_connection_string(storage_connection, transport=spy)
    client = service.create_table_if_not_exists(f"wire{secrets.token_hex(6)}")
    yield client, spy
    client.delete_table()


@pytest.fixture
def table(spied: Spied) -> Table:
    return Table(spied[0])


def _parts(body: bytes) -> list[bytes]:
    """The changeset's request parts, with what differs from run to run (dates, boundaries) taken out."""
    batch = body.split(b"\r\n", 1)[0][2:].decode()
    tree = batch_wire.parse_multipart(f"multipart/mixed; boundary={batch}", body)
    assert isinstance(tree.payload, list)
    [changeset] = tree.payload
    assert isinstance(changeset.payload, list)
    return [re.sub(rb"(?m)^(x-ms-date|Date): .*\r\n", b"", p.payload) for p in changeset.payload]  # type: ignore[arg-type]


def test_each_part_is_what_the_sdk_writes_for_the_same_operation(spied: Spied) -> None:
    client, spy = spied
    when = datetime(2026, 12, 6, 18, 0, tzinfo=UTC)
    for row in ("u", "d", "c"):
        client.create_entity({"PartitionKey": ODD, "RowKey": row})
    sdk_etag = client.get_entity(ODD, "c").metadata["etag"]
    inserted = {"PartitionKey": ODD, "RowKey": ODD, "Text": "x", "N": 7, "F": 1.5, "B": True, "When": when}
    sdk = [
        ("create", inserted),
        ("update", {"PartitionKey": ODD, "RowKey": "c", "N": 2}, {"mode": UpdateMode.REPLACE, "etag": sdk_etag,
                                                                    "match_condition": MatchConditions.IfNotModified}),
        ("upsert", {"PartitionKey": ODD, "RowKey": "m", "N": 3}, {"mode": UpdateMode.MERGE}),
        ("upsert", {"PartitionKey": ODD, "RowKey": "u", "N": 4}, {"mode": UpdateMode.REPLACE}),
        ("delete", {"PartitionKey": ODD, "RowKey": "d"}),
    ]  # fmt: skip
    client.submit_transaction(sdk)  # type: ignore[arg-type]
    client.delete_entity(ODD, ODD)
    client.delete_entity(ODD, "m")
    client.create_entity({"PartitionKey": ODD, "RowKey": "d"})
    etag = client.get_entity(ODD, "c").metadata["etag"]
    ours = [
        Write("insert", inserted),
        Write("update", {"PartitionKey": ODD, "RowKey": "c", "N": 2}, etag=etag, replace=True),
        Write("update", {"PartitionKey": ODD, "RowKey": "m", "N": 3}),
        Write("update", {"PartitionKey": ODD, "RowKey": "u", "N": 4}, replace=True),
        Write("delete", {"PartitionKey": ODD, "RowKey": "d"}),
    ]
    Table(client).transact(ours)
    batches = [body for _, url, _, body in spy.sent if url.endswith("$batch")]
    theirs_parts, our_parts = _parts(batches[0]), _parts(batches[1])
    # The one difference: the ETag each update was conditional on (the row changed between the two runs).
    assert [p.replace(etag.encode(), b"E") for p in our_parts] == [p.replace(sdk_etag.encode(), b"E") for p in theirs_parts]
    assert client.get_entity(ODD, ODD)["When"] == when and client.get_entity(ODD, "m")["N"] == 3


def test_each_written_row_gets_its_new_etag_in_order_and_a_delete_none(table: Table) -> None:
    first = table.insert({"PartitionKey": "p", "RowKey": "a", "N": 1})
    etags = table.transact(
        [
            Write("update", {"PartitionKey": "p", "RowKey": "a", "N": 2}, etag=first, replace=True),
            Write("insert", {"PartitionKey": "p", "RowKey": "b", "N": 1}),
        ]
    )
    assert etags == [table.get("p", "a")[1], table.get("p", "b")[1]]
    assert table.transact([Write("delete", {"PartitionKey": "p", "RowKey": "b"}, etag=etags[1])]) == [None]
    assert table.find("p", "b") is None


def test_a_refused_operation_refuses_the_whole_transaction_with_its_reason(table: Table) -> None:
    etag = table.insert({"PartitionKey": "p", "RowKey": "a", "N": 1})
    table.replace({"PartitionKey": "p", "RowKey": "a", "N": 2}, etag=etag)
    fresh = Write("insert", {"PartitionKey": "p", "RowKey": "new"})
    with pytest.raises(Conflict):
        table.transact([fresh, Write("insert", {"PartitionKey": "p", "RowKey": "a"})])
    with pytest.raises(PreconditionFailed):
        table.transact([fresh, Write("update", {"PartitionKey": "p", "RowKey": "a"}, etag=etag)])
    with pytest.raises(NotFound):
        table.transact([fresh, Write("delete", {"PartitionKey": "p", "RowKey": "gone"})])
    assert table.find("p", "new") is None  # all or none
    with pytest.raises(ValueError, match="one PartitionKey"):
        table.transact([fresh, Write("insert", {"PartitionKey": "q", "RowKey": "x"})])


ANSWER = (
    b"--batchresponse_a\r\n"
    b"Content-Type: multipart/mixed; boundary=changesetresponse_b\r\n\r\n"
    b"--changesetresponse_b\r\n"
    b"Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n"
    b'HTTP/1.1 204 No Content\r\nETag: W/"1"\r\n\r\n\r\n'
    b"--changesetresponse_b\r\n"
    b"Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n"
    b"HTTP/1.1 409 Conflict\r\nContent-Type: application/json\r\n\r\n"
    b'{"odata.error":{"code":"EntityAlreadyExists","message":{"value":"1:The entity exists.\\nMore"}}}\r\n'
    b"--changesetresponse_b--\r\n"
    b"--batchresponse_a--\r\n"
)


def _ours(part: batch_wire.Part) -> Any:
    if isinstance(part.payload, list):
        return (part.content_type, [_ours(p) for p in part.payload])
    return (part.content_type, part.payload)


def _theirs(part: Any) -> Any:
    payload = part.get_payload() if part.get_content_type().startswith("multipart/") else part.get_payload(decode=True)
    if isinstance(payload, list):
        return (part.get_content_type(), [_theirs(p) for p in payload])
    return (part.get_content_type(), payload)


def test_an_answer_parses_into_the_parts_the_email_parser_finds() -> None:
    content_type = "multipart/mixed; boundary=batchresponse_a"
    ours = batch_wire.parse_multipart(content_type, ANSWER)
    theirs = message_from_bytes(b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + ANSWER)
    assert _ours(ours) == _theirs(theirs)
    [(_, [(_, first), (_, second)])] = [_ours(ours)[1][0]]
    assert first.startswith(b"HTTP/1.1 204") and second.endswith(b'More"}}}')


def test_a_quoted_boundary_and_bare_line_feeds_are_read_too() -> None:
    body = b"--x\nContent-Type: application/http\n\nHTTP/1.1 204 No Content\n\n\n--x--\n"
    part = batch_wire.parse_multipart('multipart/mixed; boundary="x"', body)
    theirs = message_from_bytes(b'Content-Type: multipart/mixed; boundary="x"\n\n' + body)
    assert _ours(part) == _theirs(theirs)


def test_response_headers_parse_the_same_without_compiling_a_boundary() -> None:
    import http.client
    import io

    import shared.tables  # noqa: F401  (installs it)

    assert http.client.parse_headers is batch_wire.parse_http_headers
    block = (
        b"Cache-Control: no-cache\r\nContent-Type: multipart/mixed; boundary=batchresponse_3f1c0e4a\r\n"
        b"Set-Cookie: a=1\r\nSet-Cookie: b=2\r\nx-ms-version: 2019-02-02\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    original = batch_wire.email.parser.Parser(_class=http.client.HTTPMessage).parsestr(block.decode("iso-8859-1"))
    re.purge()
    parsed = batch_wire.parse_http_headers(io.BytesIO(block))
    assert parsed.items() == original.items() and parsed.get_all("Set-Cookie") == ["a=1", "b=2"]
    assert parsed.get_content_type() == "multipart/mixed" and parsed.get_boundary() == "batchresponse_3f1c0e4a"
    assert not any("batchresponse" in str(key) for key in re._cache)  # type: ignore[attr-defined]  # no boundary regex


def test_a_refused_batch_raises_the_sdks_error_for_it(table: Table) -> None:
    """A batch the service refuses whole (here: over the 4 MiB a transaction may carry) is not a part's refusal."""
    rows = [Write("insert", {"PartitionKey": "p", "RowKey": f"r{n}", "Body": "x" * 60_000}) for n in range(80)]
    with pytest.raises(HttpResponseError) as refused:
        table.transact(rows)
    assert refused.value.status_code == 413
