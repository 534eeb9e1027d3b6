"""CSV files the hub writes for people to open in a spreadsheet (export files, import error reports). A cell
that starts with = + - @ or a tab/carriage return is a formula to Excel and LibreOffice ("CSV injection",
OWASP): it is written with a leading apostrophe, which spreadsheets show as text and do not evaluate."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str:
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA) and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]], *, delimiter: str = ",") -> bytes:
    """RFC 4180 (CRLF, quoted where needed), UTF-8 with a BOM so spreadsheets pick the encoding."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow([safe_cell(h) for h in header])
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")
