"""Keeps secrets out of logs: every log record is scrubbed at creation, whatever logger or handler.

Two nets: values the hub knows to be secret (registered when resolved or stored) are replaced wherever
they appear, and shapes that are always secret (bearer tokens, API keys, OAuth token fields) are masked.
"""

from __future__ import annotations

import logging
import re
import threading

MASK = "[REDACTED]"
_PATTERNS = [
    re.compile(r"(?i)(authorization[\"']?\s*[:=]\s*[\"']?)(bearer|basic|token)\s+[^\s\"',}]+"),
    re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"hubk_[0-9a-f]{16}_[A-Za-z0-9_-]+"),
    re.compile(
        r"(?i)([\"']?(?:access_token|refresh_token|client_secret|code_verifier|password|api[_-]?key|value)"
        r"[\"']?\s*[:=]\s*[\"']?)[^\s\"'&,}]+"
    ),
]


class Redactor:
    def __init__(self) -> None:
        self._values: set[str] = set()
        self._lock = threading.Lock()

    def register(self, value: str) -> None:
        # Very short values would mask ordinary words; real secrets are long.
        if value and len(value) >= 6:
            with self._lock:
                self._values.add(value)

    def scrub(self, text: str) -> str:
        for value in sorted(self._values, key=len, reverse=True):
            if value in text:
                text = text.replace(value, MASK)
        for pattern in _PATTERNS:
            text = pattern.sub(
                lambda m: (
                    (
                        m.group(1) + " "
                        if m.lastindex and m.group(1).lower() in ("bearer",)
                        else (m.group(1) if m.lastindex else "")
                    )
                    + MASK
                ),
                text,
            )
        return text


REDACTOR = Redactor()  # process-wide: a log record may come from any thread or library
_installed = False


def install(redactor: Redactor = REDACTOR) -> None:
    """Wrap the log record factory once, so every record from every logger is scrubbed."""
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args, **kwargs):  # type: ignore[no-untyped-def]
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format string is not ours to fix here
            message = str(record.msg)
        scrubbed = redactor.scrub(message)
        if scrubbed != message:  # keep args otherwise: some formatters (uvicorn's access log) read them
            record.msg, record.args = scrubbed, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = redactor.scrub(logging.Formatter().formatException(record.exc_info))
        return record

    logging.setLogRecordFactory(factory)
    _installed = True
