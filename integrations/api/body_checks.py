"""Checks every JSON request body passes at the edge, before any route or parser sees it.

One place for what no route should have to remember: nesting depth (a parser recursing 1,000 levels deep is a
500, not a 400), control characters in text (NUL and friends break logs, CSV exports and providers' parsers;
tab, line feed and carriage return stay allowed), and numbers that are not finite (`Infinity`, `NaN`, `1e999`:
Python's parser accepts them, JSON does not, and no amount is infinite).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from shared.errors import FieldError

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
MAX_ERRORS = 20

# The raw bytes without which a body has nothing `value_errors` reports, so most bodies skip the parse and walk:
# an escape that may decode to a control character (\b, \f, \u0000-\u001f, \u007f-\u009f), a DEL or C1
# character as sent (U+0080-U+009F is C2 80-C2 9F in UTF-8), or a number that may not be finite (NaN, Infinity,
# an exponent, or more digits than a float holds). Raw bytes below 0x20 in a string are not JSON (the route's 400).
_SUSPECT = re.compile(rb"\\(?:[bf]|u00[0189][0-9a-fA-F]|u007[fF])|\x7f|\xc2[\x80-\x9f]|NaN|Infinity|[0-9][eE]|[0-9]{300}")


class _NotFinite:
    """Stands in for `NaN`/`Infinity` while walking, so the error can name where it was."""


def depth_exceeds(body: bytes, limit: int) -> bool:
    """Whether JSON nests deeper than `limit` (brackets outside strings), without parsing."""
    if body.count(b"[") + body.count(b"{") <= limit:  # counted in C: no walk can find more nesting than that
        return False
    return _nests_deeper(body, limit)


def _nests_deeper(body: bytes, limit: int) -> bool:
    depth, in_string, escaped = 0, False, False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            if depth > limit:
                return True
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return False


def _pointer(path: list[str | int]) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def value_errors(body: bytes) -> list[FieldError]:
    """Field-level errors for control characters and non-finite numbers; [] also for bodies that are not JSON
    (the route answers those with its own 400)."""
    return _walked_errors(body) if _SUSPECT.search(body) else []


def _walked_errors(body: bytes) -> list[FieldError]:
    try:
        data = json.loads(body, parse_constant=lambda _: _NotFinite())
    except (ValueError, UnicodeDecodeError, RecursionError):
        return []
    errors: list[FieldError] = []
    stack: list[tuple[list[str | int], Any]] = [([], data)]
    while stack and len(errors) < MAX_ERRORS:
        path, value = stack.pop()
        if isinstance(value, dict):
            for key, item in value.items():
                if _CONTROL.search(key):
                    errors.append(FieldError(_pointer(path) or "/", "a field name contains a control character"))
                stack.append(([*path, key], item))
        elif isinstance(value, list):
            stack.extend(([*path, i], item) for i, item in enumerate(value))
        elif isinstance(value, str) and _CONTROL.search(value):
            errors.append(FieldError(_pointer(path), "must not contain control characters"))
        elif isinstance(value, _NotFinite) or (isinstance(value, float) and not math.isfinite(value)):
            errors.append(FieldError(_pointer(path), "must be a finite number"))
    return sorted(errors, key=lambda e: e.pointer)
