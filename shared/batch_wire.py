"""The multipart/mixed wire format of Table transactions, written and read without the `email` package.

azure-core builds a transaction's body with `email.message` and the HTTP policy's header registry, reads the
answer back with the `email` parser, and runs each part through its policies in fresh thread pools (three
executors per transaction). On a two-row transaction that was over half of the client's CPU, so a one-record
outbox POST (a record and its counter shard) cost 2.7 bare inserts. The format itself is a few lines of
RFC 2046: a boundary line, a part's headers, a blank line, its bytes. These replacements keep azure-core's
functions' contracts (same bytes on the wire, same parts handed back) and are installed once by
`install()`, which `shared.tables` calls at import; `tests/shared/test_batch_wire.py` holds each against the
original on the pinned azure-core.

One more cost sits below azure-core: http.client reads every response's header block with the `email` parser,
which, for a multipart Content-Type (every transaction's answer), goes on to compile a regular expression for the
boundary of a body it was never given. Each answer has a fresh boundary, so the `re` cache never helps: a quarter
of a millisecond per transaction, a tenth of a one-record outbox POST. `parse_http_headers` parses the same
block as headers only.
"""

from __future__ import annotations

import email.parser
import http.client
import uuid
from collections.abc import Sequence
from typing import Any

from azure.core.pipeline import Pipeline, PipelineContext, PipelineRequest, PipelineResponse
from azure.core.pipeline.transport import _base as transport_base
from azure.core.rest import _helpers as rest_helpers
from azure.core.rest import _http_response_impl as rest_response

CRLF = b"\r\n"


def prepare_parts_in_turn(request: Any) -> None:
    """The sub-requests' SansIO policies (header stamps), applied in turn on the calling thread instead of in a
    ThreadPoolExecutor per level. Only the sync pipeline uses this hook; the async one has no executor."""
    info = getattr(request, "multipart_mixed_info", None)
    if not info:
        return
    parts, policies, options = info[0], info[1], info[3]
    for part in parts:
        if part.multipart_mixed_info:
            prepare_parts_in_turn(part)
        prepared = PipelineRequest(part, PipelineContext(None, **options))
        for policy in policies:
            policy.on_request(prepared)


def prepare_multipart_body(http_request: Any, content_index: int = 0) -> int:
    """The body of a multipart/mixed request (a batch holding a changeset of serialised HTTP requests), as
    azure-core's `_prepare_multipart_body_helper` writes it with the `email` generator."""
    if not http_request.multipart_mixed_info:
        return 0
    requests: Sequence[Any] = http_request.multipart_mixed_info[0]
    boundary = (http_request.multipart_mixed_info[2] or f"==============={uuid.uuid4().int}==").encode("ascii")
    chunks: list[bytes] = []
    for req in requests:
        if req.multipart_mixed_info:
            content_index = req.prepare_multipart_body(content_index=content_index)
            head = b"Content-Type: " + req.headers["Content-Type"].encode("ascii") + CRLF
            payload = req.serialize()
            payload = payload[payload.index(b"--") :]  # the nested body without its request line and headers
        else:
            head = b"Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n"
            head += b"Content-ID: " + str(content_index).encode("ascii") + CRLF
            payload = req.serialize()
            content_index += 1
        chunks.append(b"--" + boundary + CRLF + head + CRLF + payload + CRLF)
    http_request.set_bytes_body(b"".join(chunks) + b"--" + boundary + b"--" + CRLF)
    http_request.headers["Content-Type"] = "multipart/mixed; boundary=" + boundary.decode("ascii")
    return content_index


class Part:
    """One part of a multipart answer, with the two methods azure-core's `_decode_parts_helper` calls on the
    `email.message.Message` it expects: `get_content_type()` and `get_payload()` (bytes, or the nested parts)."""

    def __init__(self, content_type: str, payload: bytes | list[Part]) -> None:
        self._content_type = content_type
        self._payload = payload

    def get_content_type(self) -> str:
        return self._content_type

    def get_payload(self, decode: bool = False) -> bytes | list[Part]:
        return self._payload


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
        headers = {}
        for line in head.splitlines():
            name, sep, value = line.decode("latin-1").partition(":")
            if sep:
                headers[name.strip().lower()] = value.strip()
        parts.append(parse_multipart(headers.get("content-type", "text/plain"), content))
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


def _raw_parts(response: Any, http_response_type: type) -> Any:
    message = parse_multipart(response.content_type, response.body())
    return response._decode_parts(message, http_response_type, response.request.multipart_mixed_info[0])


def _parts(response: Any) -> Any:
    """The answer's parts, each run through the request's SansIO policies in turn (azure-core starts a
    ThreadPoolExecutor for this)."""
    if not response.content_type or not response.content_type.startswith("multipart/mixed"):
        raise ValueError("You can't get parts if the response is not multipart/mixed")
    responses = response._get_raw_parts()
    if response.request.multipart_mixed_info:
        policies = response.request.multipart_mixed_info[1]
        for part in responses:
            context = PipelineContext(None)
            pipeline_request = PipelineRequest(part.request, context)
            pipeline_response = PipelineResponse(part.request, part, context=context)
            for policy in policies:
                policy.on_response(pipeline_request, pipeline_response)
    return responses


_INSTALLED: list[bool] = []


def parse_http_headers(fp: Any, _class: type[http.client.HTTPMessage] = http.client.HTTPMessage) -> Any:
    """http.client's `parse_headers`, parsing the header block as what it is: headers only (same headers)."""
    headers = http.client._read_headers(fp)  # type: ignore[attr-defined]
    return email.parser.Parser(_class=_class).parsestr(b"".join(headers).decode("iso-8859-1"), headersonly=True)


def install() -> None:
    """Replace azure-core's helpers where its modules look them up (module globals, read at call time)."""
    if _INSTALLED:
        return
    _INSTALLED.append(True)
    Pipeline._prepare_multipart_mixed_request = staticmethod(prepare_parts_in_turn)  # type: ignore[method-assign]
    for module in (rest_helpers, transport_base):
        module._prepare_multipart_body_helper = prepare_multipart_body  # type: ignore[attr-defined]
    for module in (rest_response, transport_base):
        module._get_raw_parts_helper = _raw_parts  # type: ignore[attr-defined]
        module._parts_helper = _parts  # type: ignore[attr-defined]
    http.client.parse_headers = parse_http_headers  # type: ignore[assignment]  # HTTPResponse.begin calls it, for every client
