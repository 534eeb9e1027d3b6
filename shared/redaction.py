"""Keeps secrets out of logs: every log record is scrubbed at creation, whatever logger or handler.

Two nets: values the hub knows to be secret (registered when resolved or stored) are replaced wherever
they appear, and shapes that are always secret (bearer tokens, API keys, OAuth token fields) are masked.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
from urllib.parse import quote, quote_plus

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


# Query parameters that carry codes or tokens (OAuth callbacks, webhook handshakes): masked in any logged URL,
# the access log's included.
_QUERY_SECRETS = re.compile(
    r"(?i)([?&](?:code|state|token|access_token|refresh_token|id_token|client_secret|code_verifier|"
    r"validationtoken|hub\.challenge|hub\.verify_token|crc_token|sig|signature|api_key|key)=)[^&\s\"'#]+"
)
SHORT = 4  # below this a value is masked only where it stands alone (else it would mask parts of words)


def echo_forms(value: str) -> set[str]:
    """The spellings a provider may echo a secret back in: raw, JSON-escaped, PHP's `\\/`-escaped JSON,
    URL-encoded (both forms), and base64 (standard and URL-safe, with and without padding)."""
    json_escaped = json.dumps(value)[1:-1]
    forms = {
        value,
        json_escaped,
        json_escaped.replace("/", "\\/"),
        json.dumps(value, ensure_ascii=False)[1:-1],
        quote(value, safe=""),
        quote_plus(value, safe=""),
        quote(value, safe="/:"),
    }
    raw = value.encode()
    for encoded in (base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode()):
        forms |= {encoded, encoded.rstrip("=")}
    return {f for f in forms if f}


class Redactor:
    def __init__(self) -> None:
        self._values: set[str] = set()
        self._lock = threading.Lock()
        self._compiled: re.Pattern[str] | None = None

    def register(self, value: str) -> None:
        if not value:
            return
        with self._lock:
            if value not in self._values:
                self._values.add(value)
                self._compiled = None

    def _pattern(self) -> re.Pattern[str] | None:
        with self._lock:
            if self._compiled is None and self._values:
                long_forms: set[str] = set()
                short: set[str] = set()
                for value in self._values:
                    for form in echo_forms(value):
                        (short if len(form) < SHORT else long_forms).add(form)
                alternatives = [re.escape(f) for f in sorted(long_forms, key=len, reverse=True)]
                alternatives += [
                    rf"(?<![0-9A-Za-z]){re.escape(f)}(?![0-9A-Za-z])" for f in sorted(short, key=len, reverse=True)
                ]
                self._compiled = re.compile("|".join(alternatives))
            return self._compiled

    def scrub(self, text: str) -> str:
        if not text:
            return text
        known = self._pattern()
        if known is not None:
            text = known.sub(MASK, text)
        text = _QUERY_SECRETS.sub(lambda m: m.group(1) + MASK, text)
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

    def excerpt(self, text: str, limit: int) -> str:
        """A bounded, scrubbed excerpt of text from outside (a provider's error body): scrub first, cut after,
        so truncation can never leave part of a secret that no mask matches."""
        scrubbed = self.scrub(text)
        return scrubbed if len(scrubbed) <= limit else scrubbed[:limit] + "…"

    def error(self, error: BaseException, limit: int) -> str:
        """What an exception says, fit to store and show: its type, then its (provider-facing) detail, scrubbed."""
        return f"{type(error).__name__}: " + self.excerpt(str(getattr(error, "detail", None) or error), limit)


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
        # Scrub arguments one by one, keeping their shape: some formatters (uvicorn's access log, whose path
        # argument carries the OAuth callback's `code` and `state`) unpack them.
        if isinstance(record.args, tuple):
            record.args = tuple(redactor.scrub(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: redactor.scrub(v) if isinstance(v, str) else v for k, v in record.args.items()}
        if isinstance(record.msg, str) and not record.args:
            record.msg = redactor.scrub(record.msg)  # (with args, the template is scrubbed as rendered, below)
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format string is not ours to fix here
            message = str(record.msg)
        scrubbed = redactor.scrub(message)
        if scrubbed != message:  # a non-string argument rendered a secret: keep the rendered, scrubbed text
            record.msg, record.args = scrubbed, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = redactor.scrub(logging.Formatter().formatException(record.exc_info))
        return record

    logging.setLogRecordFactory(factory)
    _installed = True
