"""File exchange with providers that have no API (seed 004's FSP pattern, and the LMS partners of seed 002):
the records waiting for such a provider go out as a CSV export, and the provider's reconciliation file comes
back to say what became of each one. Every row of that file is reported: matched (and applied), unmatched
(no record has its reference), duplicate (the reference was on an earlier line) or mismatched (the record's
amount or currency differs: not applied, for a person to look at)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from canonical.recipes.reader import FileRefused, detect
from integrations.documents.ref import IntegrationRef
from integrations.sync.outbox import Outbox, OutboxRecord
from shared.csv_cells import csv_bytes
from shared.errors import NotFound

REQUIRED = ("reference", "status")
OPTIONAL = ("amount", "currency", "provider_reference", "date")


def export_csv(records: Iterator[OutboxRecord]) -> bytes:
    """The records as CSV: key, state, then each payload field (nested values as JSON); formula-safe cells."""
    rows = list(records)
    columns: dict[str, None] = {}
    for r in rows:
        columns.update(dict.fromkeys(r.payload))
    names = [c for c in columns if c != "key"]

    def cell(value: Any) -> Any:
        return json.dumps(value, ensure_ascii=False) if isinstance(value, (dict, list)) else value

    body = ([r.key, r.state.value, *(cell(r.payload.get(c)) for c in names)] for r in rows)
    return csv_bytes(["key", "state", *names], body)


def records(outbox: Outbox, ref: IntegrationRef, kind: str, state: str) -> Iterator[OutboxRecord]:
    """`pending`: not yet with the provider (whatever their attempts); `delivered`: the provider has them."""
    if state == "delivered":
        return outbox.delivered(ref, kind)
    return outbox.due(ref, kind, max_attempts=1 << 30)


@dataclass
class RowOutcome:
    line: int
    reference: str
    outcome: str  # matched | unmatched | duplicate | mismatched | invalid
    detail: str = ""


@dataclass
class Reconciliation:
    kind: str
    rows: int = 0
    matched: int = 0
    report: list[RowOutcome] = field(default_factory=list)  # every row that was not matched

    def count(self, outcome: str) -> int:
        return sum(1 for r in self.report if r.outcome == outcome)


def _amount(payload: dict[str, Any]) -> float | None:
    if "amount" in payload:
        return float(payload["amount"])
    if "lines" in payload:
        return round(sum(float(x["amount"]) * float(x.get("quantity", 1)) for x in payload["lines"]), 2)
    return None


def reconcile(outbox: Outbox, ref: IntegrationRef, kind: str, stream: IO[bytes], *, encoding: str | None) -> Reconciliation:
    head = stream.read(64 * 1024)
    stream.seek(0)
    if not head.strip():
        raise FileRefused("the file is empty (no header row)")
    text = io.TextIOWrapper(stream, encoding=detect(head, encoding), errors="replace", newline="")
    sample = head.decode("latin-1").split("\n", 1)[0]
    reader = csv.DictReader(text, delimiter=";" if sample.count(";") > sample.count(",") else ",")
    header = [h.strip().lower() for h in reader.fieldnames or []]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise FileRefused(
            f"missing columns: {', '.join(missing)} (expected {', '.join(REQUIRED + OPTIONAL)})", "body:file/header"
        )
    reader.fieldnames = header
    result = Reconciliation(kind)
    first_line: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        result.rows += 1
        reference, status = (row.get("reference") or "").strip(), (row.get("status") or "").strip()
        if not reference or not status:
            result.report.append(RowOutcome(line, reference, "invalid", "reference and status are required"))
            continue
        if reference in first_line:
            result.report.append(RowOutcome(line, reference, "duplicate", f"line {first_line[reference]} has it already"))
            continue
        first_line[reference] = line
        try:
            record = outbox.get(ref, kind, reference)
        except NotFound:
            result.report.append(RowOutcome(line, reference, "unmatched", f"no {kind} {reference} in this integration"))
            continue
        problem = _differs(record, row)
        if problem:
            result.report.append(RowOutcome(line, reference, "mismatched", problem))
            continue
        outbox.reconcile(ref, kind, reference, status, (row.get("provider_reference") or "").strip())
        result.matched += 1
    return result


def _differs(record: OutboxRecord, row: dict[str, Any]) -> str:
    ours = _amount(record.payload)
    theirs = (row.get("amount") or "").strip().replace(",", ".")
    if ours is not None and theirs:
        try:
            if abs(float(theirs) - ours) > 0.005:
                return f"amount {theirs} where the record says {ours}"
        except ValueError:
            return f"amount {theirs!r} is not a number"
    currency = (row.get("currency") or "").strip().upper()
    if currency and record.payload.get("currency") and currency != record.payload["currency"]:
        return f"currency {currency} where the record says {record.payload['currency']}"
    return ""
