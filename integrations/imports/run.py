"""Runs an import: the file streams through the recipe row by row (constant memory: a row is mapped, checked
and handed to the outbox before the next is read), progress is saved about once a second, and every
rejected row lands in the error report with its line, column, value and reason. Accepted rows are put into
the target integration's outbox by their key, so a second import of an overlapping file creates nothing new
for rows it already holds; the same file again finds its first job."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

from adapters.catalog import Catalog
from canonical.fields import Canonical
from canonical.recipes.engine import CellError, Mapper, RowRejected
from canonical.recipes.reader import FileRefused, read_csv
from canonical.recipes.recipe import Recipe, shipped
from integrations.documents.ref import IntegrationRef
from integrations.imports.store import ImportJob, Imports, ImportStatus
from integrations.imports.targets import TARGETS, Target
from integrations.repository import IntegrationRepository
from integrations.sync.operations import delivered_records
from integrations.sync.outbox import Outbox
from shared.errors import FieldError, ValidationFailed

PROGRESS_EVERY_S = 1.0  # progress is saved at most once a second (a save is a storage round trip)
ERRORS_BATCH = 100  # rejected cells are written in transactions of this many
_DONE = frozenset({ImportStatus.succeeded, ImportStatus.partial})

Row = tuple[int, Mapping[str, Any] | None, str]


@dataclass(frozen=True)
class Upload:
    stream: IO[bytes]  # seekable: read once for the digest, once for the rows
    file_name: str
    size: int
    sha256: str
    encoding: str | None = None  # as the uploader declared it


def digest(stream: IO[bytes]) -> tuple[str, int]:
    """SHA-256 and size of a seekable stream, read in blocks; the stream is left at its start."""
    h = hashlib.sha256()
    size = 0
    while block := stream.read(1 << 20):
        h.update(block)
        size += len(block)
    stream.seek(0)
    return h.hexdigest(), size


def recipe_named(name: str) -> Recipe:
    recipes = shipped()
    if name not in recipes:
        raise ValidationFailed("Unknown recipe.", [FieldError("query:recipe", f"not one of {sorted(recipes)}")])
    return recipes[name]


@dataclass(frozen=True)
class Importer:
    imports: Imports
    integrations: IntegrationRepository
    catalog: Catalog
    outbox: Outbox
    now: Callable[[], datetime]

    def target(self, recipe: Recipe, document: Any) -> Target:
        target = TARGETS.get(recipe.entry.model)
        if target is None:
            raise ValidationFailed(
                f"No operation delivers {recipe.model} records: import them with dry_run=true to check the file.",
                [FieldError("query:recipe", f"{recipe.recipe} fills {recipe.model}, which no integration takes")],
            )
        capabilities = self.catalog.get(document.provider).capabilities
        if target.record not in delivered_records(document, capabilities):
            raise ValidationFailed(
                f"This integration takes no {target.record} records.",
                [FieldError("query:recipe", f"{document.provider} runs no operation delivering {target.record} here")],
            )
        return target

    def run(self, ref: IntegrationRef, recipe_name: str, upload: Upload, *, dry_run: bool) -> tuple[ImportJob, bool]:
        """The job, and whether it was found rather than run (the same file imported before)."""
        recipe = recipe_named(recipe_name)
        document = self.integrations.get(ref).document
        target = None if dry_run else self.target(recipe, document)
        job_id = hashlib.sha256(f"{ref.integration_id}|{recipe.recipe}|{upload.sha256}|{dry_run}".encode()).hexdigest()[:24]
        found = self.imports.find(ref, job_id)
        if found is not None and found.status in _DONE:
            return found, True
        job = ImportJob(
            id=job_id,
            tenant_id=ref.tenant_id,
            integration_id=ref.integration_id,
            recipe=recipe.recipe,
            model=recipe.model,
            record_kind=target.record if target else None,
            dry_run=dry_run,
            file_name=upload.file_name,
            file_sha256=upload.sha256,
            bytes=upload.size,
            status=ImportStatus.running,
            started_at=self.now(),
        )
        if found is not None:
            self.imports.clear_errors(job)
        self.imports.save(job)
        try:
            rows = self._rows(recipe, upload, job)
        except FileRefused as exc:
            self._finish(job, ImportStatus.failed, str(exc))
            raise ValidationFailed(f"The file cannot be imported: {exc}.", [FieldError(exc.pointer, str(exc))]) from None
        self._import(job, recipe, document, target, rows)
        return job, False

    def _rows(self, recipe: Recipe, upload: Upload, job: ImportJob) -> Iterator[Row]:
        source = recipe.source
        if source.format == "json":
            return self._json_rows(upload, job)
        required = sorted({c for rule in recipe.fields.values() for c in rule.sources() if "[]" not in c})
        found = read_csv(
            upload.stream,
            delimiter=source.delimiter,
            declared=upload.encoding,
            usual=source.encoding,
            expected=source.fields,
            required=required,
        )
        job.encoding = found.encoding
        job.unknown_columns = found.unknown_columns
        return found.rows

    @staticmethod
    def _json_rows(upload: Upload, job: ImportJob) -> Iterator[Row]:
        job.encoding = upload.encoding or "utf-8"
        try:
            data = json.load(upload.stream)
        except (ValueError, UnicodeDecodeError) as exc:
            raise FileRefused(f"not JSON ({exc})") from None
        items = data.get("items") if isinstance(data, dict) else data
        if not isinstance(items, list) or not items:
            raise FileRefused('expected a non-empty JSON array of objects (or {"items": [...]})')
        return ((i, item, "") if isinstance(item, dict) else (i, None, "not an object") for i, item in enumerate(items, 1))

    def _import(self, job: ImportJob, recipe: Recipe, document: Any, target: Target | None, rows: Iterator[Row]) -> None:
        check = _RowCheck(Mapper(recipe), recipe, target)
        errors: list[tuple[int, CellError]] = []
        saved = time.monotonic()
        for line, row, why in rows:
            job.rows += 1
            outcome = check.row(line, row, why)
            if isinstance(outcome, list):
                job.rejected += 1
                errors += [(line, e) for e in outcome]
            elif target is not None:
                problems = target.check(outcome, document, self.outbox)
                if problems:
                    job.rejected += 1
                    errors += [(line, check.cell(name, message)) for name, message in problems]
                else:
                    job.accepted += 1
                    payload = target.payload(outcome, document, job.started_at)
                    key = target.key(outcome)
                    put = self.outbox.put(
                        IntegrationRef(job.tenant_id, job.integration_id),
                        target.record,
                        key,
                        payload,
                        updatable=target.updatable,
                    )
                    setattr(job, put.outcome, getattr(job, put.outcome) + 1)
            else:
                job.accepted += 1
            if len(errors) >= ERRORS_BATCH or (job.rows % 256 == 0 and time.monotonic() - saved >= PROGRESS_EVERY_S):
                self._flush(job, errors)
                saved = time.monotonic()
        if errors:
            self.imports.add_errors(job, errors)
        self._finish(job, ImportStatus.partial if job.rejected else ImportStatus.succeeded, "")  # saves the job

    def _flush(self, job: ImportJob, errors: list[tuple[int, CellError]]) -> None:
        if errors:
            self.imports.add_errors(job, errors)
            errors.clear()
        self.imports.save(job)

    def _finish(self, job: ImportJob, status: ImportStatus, reason: str) -> None:
        job.status = status
        job.reason = reason
        job.finished_at = self.now()
        self.imports.save(job)


class _RowCheck:
    """What a row must pass whatever its target: the recipe, and a key not seen earlier in the file."""

    def __init__(self, mapper: Mapper, recipe: Recipe, target: Target | None) -> None:
        self.mapper = mapper
        key_field = recipe.entry.key
        self.key_of: Callable[[Any], str] = (
            target.key if target else (lambda r: str(getattr(r, key_field)) if key_field else "")
        )
        self.key_column = mapper.by_name[key_field].column if key_field in mapper.by_name else "(key)"
        self.seen: dict[int, int] = {}  # 8 bytes of each key's digest → first line: flat in memory for 100k rows

    def row(self, line: int, row: Mapping[str, Any] | None, why: str) -> Canonical | list[CellError]:
        if row is None or why:
            return [CellError("(row)", "", why)]
        try:
            record = self.mapper.map(row)
        except RowRejected as exc:
            return exc.errors
        key = self.key_of(record)
        if key:
            digest = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big")
            first = self.seen.setdefault(digest, line)
            if first != line:
                return [CellError(self.key_column, key, f"duplicate key: line {first} has it already")]
        return record

    def cell(self, name: str, message: str) -> CellError:
        """An error a target's rule found on a canonical field, named by its source column."""
        field = self.mapper.by_name.get(name.split("/")[0])
        return CellError(field.column if field else name, "", f"{name}: {message}")
