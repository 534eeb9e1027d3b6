"""The hand-written multipart wire format of Table transactions, held against azure-core's email-based one."""

from __future__ import annotations

from email import message_from_bytes
from typing import Any

from azure.core.rest import HttpRequest
from azure.core.utils import _pipeline_transport_rest_shared as azure_shared

from shared import batch_wire


def _transaction() -> HttpRequest:
    """A batch shaped as azure-data-tables' `_batch_send` shapes it: one changeset of entity requests."""
    inserts = [
        HttpRequest(
            "POST",
            "http://127.0.0.1:10002/devstoreaccount1/t",
            json={"PartitionKey": "p", "RowKey": "é|1", "Payload": '{"a": 1}'},
        ),
        HttpRequest(
            "PUT",
            "http://127.0.0.1:10002/devstoreaccount1/t(PartitionKey='p',RowKey='c')",
            json={"n": 2},
            headers={"If-Match": "W/\"datetime'2026-12-06T18%3A00%3A00Z'\""},
        ),
    ]
    changeset = HttpRequest("POST", "")
    changeset.set_multipart_mixed(*inserts, boundary="changeset_1")
    batch = HttpRequest("POST", "http://127.0.0.1:10002/devstoreaccount1/$batch", headers={"Content-Type": "x"})
    batch.set_multipart_mixed(changeset, boundary="batch_1")
    return batch


def test_a_transaction_body_is_byte_for_byte_what_azure_core_writes() -> None:
    ours, theirs = _transaction(), _transaction()
    batch_wire.prepare_multipart_body(ours)
    azure_shared._prepare_multipart_body_helper(theirs)
    assert ours.content == theirs.content
    assert ours.headers["Content-Type"] == theirs.headers["Content-Type"] == "multipart/mixed; boundary=batch_1"


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


def _tree(part: Any) -> Any:
    payload = part.get_payload() if part.get_content_type().startswith("multipart/") else part.get_payload(decode=True)
    if isinstance(payload, list):
        return (part.get_content_type(), [_tree(p) for p in payload])
    return (part.get_content_type(), payload)


def test_an_answer_parses_into_the_parts_the_email_parser_finds() -> None:
    content_type = "multipart/mixed; boundary=batchresponse_a"
    ours = batch_wire.parse_multipart(content_type, ANSWER)
    theirs = message_from_bytes(b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + ANSWER)
    assert _tree(ours) == _tree(theirs)
    [(_, [(_, first), (_, second)])] = [_tree(ours)[1][0]]
    assert first.startswith(b"HTTP/1.1 204") and second.endswith(b'More"}}}')


def test_a_quoted_boundary_and_bare_line_feeds_are_read_too() -> None:
    body = b"--x\nContent-Type: application/http\n\nHTTP/1.1 204 No Content\n\n\n--x--\n"
    part = batch_wire.parse_multipart('multipart/mixed; boundary="x"', body)
    theirs = message_from_bytes(b'Content-Type: multipart/mixed; boundary="x"\n\n' + body)
    assert _tree(part) == _tree(theirs)


def test_the_replacements_are_what_azure_core_calls() -> None:
    from azure.core.pipeline.transport import _base
    from azure.core.rest import _helpers, _http_response_impl

    import shared.tables  # noqa: F401  (installs them)

    assert _helpers._prepare_multipart_body_helper is batch_wire.prepare_multipart_body  # type: ignore[attr-defined]
    assert _base._prepare_multipart_body_helper is batch_wire.prepare_multipart_body  # type: ignore[attr-defined]
    assert _http_response_impl._parts_helper is batch_wire._parts  # type: ignore[attr-defined]


def test_response_headers_parse_the_same_without_compiling_a_boundary() -> None:
    import http.client
    import io
    import re

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
