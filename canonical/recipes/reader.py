"""Streams a CSV upload row by row in constant memory. The encoding is the one the upload declares, else a
UTF-8 BOM, else strict UTF-8 if the head decodes, else the one the recipe says files of this kind come in
(legacy FIB and DPV files are Windows-1252 or Latin-1), else what charset-normalizer reads from the head (on a
few accented names it guesses wrong often enough that it comes last). Bytes that do not decode are replaced,
and the row that holds them is reported, never dropped."""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO

from charset_normalizer import from_bytes

HEAD = 64 * 1024
UNDECODABLE = "\ufffd"


class FileRefused(Exception):
    """The file as a whole cannot be read (no header, missing columns, unknown encoding): a 4xx, no rows."""

    def __init__(self, message: str, pointer: str = "body:file") -> None:
        super().__init__(message)
        self.pointer = pointer


@dataclass
class CsvRows:
    encoding: str
    header: list[str]
    unknown_columns: list[str] = field(default_factory=list)
    rows: Iterator[tuple[int, dict[str, str] | None, str]] = iter(())  # (line, row or None when malformed, why)


def detect(head: bytes, declared: str | None, usual: str | None = None) -> str:
    if declared:
        try:
            return codecs.lookup(declared).name
        except LookupError:
            raise FileRefused(f"unknown encoding {declared!r}", "query:encoding") from None
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start > len(head) - 4:  # a character cut by the head's end
            return "utf-8"
    if usual:
        return codecs.lookup(usual).name
    best = from_bytes(head).best()
    return codecs.lookup(best.encoding).name if best else "cp1252"


def read_csv(
    stream: IO[bytes], *, delimiter: str, declared: str | None, usual: str | None, expected: list[str], required: list[str]
) -> CsvRows:
    head = stream.read(HEAD)  # the stream is seekable (a file, or the route's spooled upload)
    stream.seek(0)
    if not head.strip():
        raise FileRefused("the file is empty (no header row)")
    encoding = detect(head, declared, usual)
    text = io.TextIOWrapper(stream, encoding=encoding, errors="replace", newline="")
    reader = csv.reader(text, delimiter=delimiter)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise FileRefused("the file is empty (no header row)") from None
    if any(UNDECODABLE in h for h in header):
        raise FileRefused(f"the header has bytes that are not {encoding}: declare the file's encoding", "query:encoding")
    if len(header) == 1 and delimiter not in header[0] and len(expected) > 1:
        raise FileRefused(f"one column only: is the separator {delimiter!r}?", "body:file/header")
    missing = [c for c in required if c not in header]
    if missing:
        raise FileRefused(
            f"missing columns: {', '.join(missing)} (the file has: {', '.join(header)[:500]})", "body:file/header"
        )
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        raise FileRefused(f"columns named twice: {', '.join(dupes)}", "body:file/header")
    unknown = [h for h in header if h not in expected]

    def rows() -> Iterator[tuple[int, dict[str, str] | None, str]]:
        width = len(header)
        for cells in reader:
            line = reader.line_num
            if not cells or (len(cells) == 1 and not cells[0].strip()):
                continue
            if len(cells) != width:
                yield line, None, f"{len(cells)} cells where the header has {width}"
                continue
            row = dict(zip(header, cells, strict=True))
            if UNDECODABLE in "".join(cells):
                yield line, row, f"bytes that are not {encoding}: declare the file's encoding"
                continue
            yield line, row, ""

    return CsvRows(encoding, header, unknown, rows())
