"""Table transactions (entity group transactions) on the wire: the `$batch` request written and its answer read
here, sent through the table client's own pipeline (its authentication, retries, timeouts and tracing).

azure-data-tables' `submit_transaction` builds an `HttpRequest` per row, runs each through header policies,
serialises each with `http.client`, and reads each part of the answer back as an HTTP response through the
`email` parser: 0.17 ms of CPU per row, 8.7 ms for the 50 delivery rows an event fan-out records at once,
and a third of a one-record outbox POST. The format itself is RFC 2046 multipart around OData requests
(https://learn.microsoft.com/rest/api/storageservices/performing-entity-group-transactions): a batch holding one
changeset, each part a request line, its headers and the entity's JSON. Each part is written as the SDK writes
it (same request line, headers and body: `tests/shared/test_batch_wire.py` holds them against the pinned SDK's),
and entities are typed by the SDK's own `_add_entity_properties`, so an entity is stored the same either way.
This is Azure Table Storage's dialect (and Azurite's); the Cosmos DB Table API, which wants a MERGE sent as a
POST, is not a store the hub uses.

One more cost sits below azure-core: http.client reads every response's header block with the `email` parser,
which, for a multipart Content-Type (every transaction's answer), goes on to compile a regular expression for the
boundary of a body it was never given. Each answer has a fresh boundary, so the `re` cache never helps: a quarter
of a millisecond per transaction. `parse_http_headers` parses the same block as headers only; `install()`
puts it where http.client looks it up.
"""

from __future__ import annotations

import email.parser
import email.utils
import http.client
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote

from azure.core.rest import HttpRequest
from azure.core.serialization import AzureJSONEncoder
from azure.data.tables import TableClient
from azure.data.tables._error import _decode_error
from azure.data.tables._serialize import _add_entity_properties

CRLF = b"\r\n"
Method = Literal["POST", "PUT", "PATCH", "DELETE"]
_ACCEPT_MINIMAL = "application/json;odata=minimalmetadata"  # what the SDK asks for on inserts and deletes


@dataclass(frozen=True)
class Operation:
    """One part of a changeset: an insert (POST to the table), a REPLACE (PUT) or MERGE (PATCH) of the row, or
    its DELETE; `if_match` an ETag, `*`, or None (an unconditional upsert)."""

    method: Method
    entity: dict[str, Any]
    if_match: str | None = None


class PartRefused(Exception):
    """The service refused one operation, so the whole changeset: its status, OData error code and message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message


def submit(client: TableClient, operations: Sequence[Operation]) -> list[str | None]:
    """One changeset, all or none: each operation's new ETag (none for a delete). A refused operation raises
    PartRefused; a refused batch (a missing table, a malformed request) raises the SDK's own error for it."""
    if not operations:
        return []
    partition = operations[0].entity["PartitionKey"]
    if any(op.entity["PartitionKey"] != partition for op in operations):
        raise ValueError("A transaction's rows must share one PartitionKey.")
    base = f"{client.scheme}://{client._primary_hostname}"  # noqa: SLF001 - the account endpoint, as the SDK uses it
    batch, changeset = f"batch_{uuid.uuid4()}", f"changeset_{uuid.uuid4()}"
    request = HttpRequest(
        "POST",
        f"{base}/$batch",
        headers={
            "x-ms-version": client.api_version,
            "DataServiceVersion": "3.0",
            "MaxDataServiceVersion": "3.0;NetFx",
            "Content-Type": f"multipart/mixed; boundary={batch}",
            "Accept": "application/json",
        },
        content=changeset_body(f"{base}/{quote(client.table_name, safe='')}", operations, batch, changeset),
    )
    # The client's own pipeline (auth, retries, tracing); streamed, as the SDK sends it: its content decoder
    # knows no multipart, and the answer is read whole just below.
    response = client._client.send_request(request, stream=True)  # noqa: SLF001
    body = response.read()  # whole, before anything reads its text
    if response.status_code != 202:
        raise _decode_error(response)  # type: ignore[no-untyped-call]  # the SDK's error for a refused batch
    answers = [_answer(part) for part in _leaves(parse_multipart(response.headers["content-type"], body))]
    for status, _, error in answers:
        if not 200 <= status < 300:
            code, message = _odata_error(error)
            raise PartRefused(status, code, message)
    return [headers.get("etag") for _, headers, _ in answers]


def changeset_body(table_url: str, operations: Sequence[Operation], batch: str, changeset: str) -> bytes:
    """The `$batch` body: one changeset part holding each operation as an `application/http` part."""
    date = email.utils.formatdate(usegmt=True).encode("ascii")
    parts = [_part(table_url, n, op, date) for n, op in enumerate(operations)]
    head = b"--" + changeset.encode("ascii")
    inner = b"".join(head + CRLF + part + CRLF for part in parts) + head + b"--" + CRLF
    return (
        b"--" + batch.encode("ascii") + CRLF
        + b"Content-Type: multipart/mixed; boundary=" + changeset.encode("ascii") + CRLF + CRLF
        + inner + CRLF
        + b"--" + batch.encode("ascii") + b"--" + CRLF
    )  # fmt: skip


def _part(table_url: str, n: int, op: Operation, date: bytes) -> bytes:
    if op.method == "POST":
        url = table_url
    else:
        url = f"{table_url}(PartitionKey='{_key(op.entity['PartitionKey'])}',RowKey='{_key(op.entity['RowKey'])}')"
    lines = [f"{op.method} {url} HTTP/1.1".encode()]
    body = b""
    if op.method != "DELETE":
        body = json.dumps(_add_entity_properties(op.entity), cls=AzureJSONEncoder).encode()
        lines += [b"Content-Type: application/json", b"Content-Length: " + str(len(body)).encode("ascii")]
    lines += [b"x-ms-version: 2019-02-02", b"DataServiceVersion: 3.0"]
    lines.append(b"Accept: " + (_ACCEPT_MINIMAL if op.method in ("POST", "DELETE") else "application/json").encode())
    if op.if_match is not None:
        lines.append(b"If-Match: " + op.if_match.encode("latin-1"))
    lines += [b"x-ms-date: " + date, b"Date: " + date]
    return (
        b"Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n"
        + b"Content-ID: " + str(n).encode("ascii") + CRLF + CRLF
        + CRLF.join(lines) + CRLF + CRLF + body
    )  # fmt: skip


def _key(value: str) -> str:
    """A key in a row's address: quotes doubled (OData), then percent-encoded, as the SDK writes it."""
    return quote(str(value).replace("'", "''"), safe="")


def _answer(part: bytes) -> tuple[int, dict[str, str], bytes]:
    """One `application/http` part of the answer: its status, headers (lower-cased names) and body."""
    head, body = _split_head(part)
    status_line, _, fields = head.partition(b"\n")
    return int(status_line.split()[1]), _headers(fields), body


def _headers(block: bytes) -> dict[str, str]:
    """A header block's fields, names lower-cased (a line without a colon is skipped)."""
    headers = {}
    for line in block.decode("latin-1").splitlines():
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return headers


def _odata_error(body: bytes) -> tuple[str, str]:
    try:
        error = json.loads(body)["odata.error"]
        return str(error.get("code", "")), str(error.get("message", {}).get("value", ""))
    except (ValueError, KeyError, TypeError, AttributeError):
        return "", body[:300].decode("utf-8", "replace")


@dataclass(frozen=True)
class Part:
    """One part of a multipart body: its media type, and its bytes or, for a nested multipart, its parts."""

    content_type: str
    payload: bytes | list[Part]


def _leaves(part: Part) -> list[bytes]:
    if isinstance(part.payload, bytes):
        return [part.payload]
    return [leaf for child in part.payload for leaf in _leaves(child)]


def _param(header: str, name: str) -> str | None:
    for item in header.split(";")[1:]:
        key, _, value = item.strip().partition("=")
        if key.strip().lower() == name:
            return value.strip().strip('"')
    return None


def parse_multipart(content_type: str, body: bytes) -> Part:
    """A multipart/mixed body as a tree of Parts (nested multiparts parsed too). The line break before each
    boundary belongs to the boundary (RFC 2046 §5.1.1), so a part's bytes end where the email parser ends them."""
    media = content_type.split(";", 1)[0].strip().lower()
    boundary = _param(content_type, "boundary")
    if not media.startswith("multipart/") or not boundary:
        return Part(media or "text/plain", body)
    parts: list[Part] = []
    for piece in body.split(b"--" + boundary.encode("ascii"))[1:]:
        if piece.startswith(b"--"):
            break  # the close delimiter; what follows is the epilogue
        piece = piece[piece.index(b"\n") + 1 :] if b"\n" in piece else b""  # the rest of the boundary line
        if piece.endswith(CRLF):
            piece = piece[:-2]
        elif piece.endswith(b"\n"):
            piece = piece[:-1]
        head, content = _split_head(piece)
        parts.append(parse_multipart(_headers(head).get("content-type", "text/plain"), content))
    return Part(media, parts)


def _split_head(piece: bytes) -> tuple[bytes, bytes]:
    if piece.startswith(CRLF):
        return b"", piece[2:]
    if piece.startswith(b"\n"):
        return b"", piece[1:]
    for sep in (b"\r\n\r\n", b"\n\n"):
        head, found, content = piece.partition(sep)
        if found:
            return head, content
    return piece, b""


_INSTALLED: list[bool] = []


def parse_http_headers(fp: Any, _class: type[http.client.HTTPMessage] = http.client.HTTPMessage) -> Any:
    """http.client's `parse_headers`, parsing the header block as what it is: headers only (same headers)."""
    headers = http.client._read_headers(fp)  # type: ignore[attr-defined]
    return email.parser.Parser(_class=_class).parsestr(b"".join(headers).decode("iso-8859-1"), headersonly=True)


def install() -> None:
    """Put `parse_http_headers` where http.client looks it up (a module global, read at call time)."""
    if _INSTALLED:
        return
    _INSTALLED.append(True)
    http.client.parse_headers = parse_http_headers  # type: ignore[assignment]  # HTTPResponse.begin calls it, for every client
