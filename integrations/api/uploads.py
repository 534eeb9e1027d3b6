"""Uploaded files (imports, reconciliation files): spooled to disk as they arrive, hashed on the way, so a
100k-row file never sits in memory. The edge (`edge.UPLOAD_PATH`) lets these routes stream past max_body and
caps them at HUB_IMPORT_MAX_BYTES."""

from __future__ import annotations

import hashlib
import tempfile
from typing import IO

from fastapi import Request

from shared.blobs import Blobs
from shared.errors import FieldError, PayloadTooLarge, ValidationFailed

SPOOL_IN_MEMORY = 1 << 20  # larger uploads go to a temporary file


async def spool(request: Request) -> tuple[IO[bytes], str, int, str | None, str | None]:
    """The uploaded file (multipart field `file`, or the raw body): its bytes, SHA-256, size, declared charset
    and, from a multipart upload, its file name."""
    ctype = request.headers.get("content-type", "")
    h = hashlib.sha256()
    size = 0
    if ctype.startswith("multipart/form-data"):
        # The multipart parser spools the file already: hash it in place and hand that spool on, not a copy.
        form = await request.form(max_files=1, max_fields=5)
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise ValidationFailed("No file.", [FieldError("body:file", "send the file in the form field `file`")])
        while block := await upload.read(1 << 20):
            h.update(block)
            size += len(block)
        await upload.seek(0)
        return upload.file, h.hexdigest(), size, _charset(upload.content_type or ""), upload.filename
    spooled: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115 - returned open
    async for block in request.stream():
        h.update(block)
        size += len(block)
        spooled.write(block)
    spooled.seek(0)
    return spooled, h.hexdigest(), size, _charset(ctype), None


def spool_blob(blobs: Blobs, name: str, limit: int) -> tuple[IO[bytes], str, int]:
    """A file uploaded to Blob Storage (through `…/imports:upload-url`), spooled the same way, chunk by chunk."""
    size = blobs.size(name)
    if size > limit:
        raise PayloadTooLarge(f"Import files are limited to {limit} bytes; {name} has {size}.")
    spooled: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115 - returned open
    h = hashlib.sha256()
    for chunk in blobs.chunks(name):
        h.update(chunk)
        spooled.write(chunk)
    spooled.seek(0)
    return spooled, h.hexdigest(), size


def _charset(content_type: str) -> str | None:
    for part in content_type.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        if name.lower() == "charset" and value:
            return value.strip('"')
    return None
