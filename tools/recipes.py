"""Mapping recipes from the terminal.

python -m tools.recipes coverage
    The coverage table (README): per recipe, the share of the source format's fields mapped or ignored with
    a reason, and of the canonical model's fields filled. Exit 1 when a legacy recipe is under 90 %.

python -m tools.recipes import FILE --recipe R --integration ID [--tenant T] [--dry-run] [--encoding E]
                                    [--api URL] [--key KEY]
    Upload FILE to a running hub (`POST …/imports`) with a progress bar; print the result and save the
    error report beside FILE (FILE.errors.csv). --api defaults to the newest `./hub run` on this machine;
    --key to $HUB_API_KEY.

python -m tools.recipes check FILE --recipe R [--encoding E]
    Run the recipe over FILE here, writing nothing anywhere but FILE.errors.csv (a dry run without a hub),
    with a progress bar over the file's bytes.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn

from canonical.recipes.coverage import TARGET, coverage, table
from canonical.recipes.engine import CellError, Mapper, RowRejected
from canonical.recipes.reader import FileRefused, read_csv
from canonical.recipes.recipe import shipped
from shared.csv_cells import csv_bytes
from tools.local_state import LocalState

console = Console(stderr=True)


def _bar() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    )


class _Watched:
    """A binary file whose reads advance a progress bar."""

    def __init__(self, f: IO[bytes], progress: Progress, task: Any) -> None:
        self._f, self._progress, self._task = f, progress, task

    def read(self, n: int = -1) -> bytes:
        data = self._f.read(n)
        self._progress.update(self._task, completed=self._f.tell())
        return data

    def __getattr__(self, name: str) -> Any:
        return getattr(self._f, name)


def cmd_coverage() -> int:
    rows = [coverage(r) for r in shipped().values()]
    print(table(rows))
    low = [c.recipe for c in rows if c.kind == "legacy" and min(c.source_share, c.canonical_share) < TARGET]
    for name in low:
        print(f"{name}: under {TARGET:.0%}", file=sys.stderr)
    return 1 if low else 0


def cmd_check(path: Path, recipe_name: str, encoding: str | None) -> int:
    recipe = shipped()[recipe_name]
    mapper = Mapper(recipe)
    errors: list[tuple[int, CellError]] = []
    rows = accepted = 0
    with path.open("rb") as f, _bar() as progress:
        task = progress.add_task(f"checking {path.name}", total=path.stat().st_size)
        try:
            found = read_csv(_Watched(f, progress, task), delimiter=recipe.source.delimiter, declared=encoding,  # type: ignore[arg-type]
                             usual=recipe.source.encoding, expected=recipe.source.fields, required=[])  # fmt: skip
        except FileRefused as exc:
            console.print(f"[red]refused:[/red] {exc}")
            return 2
        for line, row, why in found.rows:
            rows += 1
            if row is None or why:
                errors.append((line, CellError("(row)", "", why)))
                continue
            try:
                mapper.map(row)
                accepted += 1
            except RowRejected as exc:
                errors += [(line, e) for e in exc.errors]
    return _report(path, {"rows": rows, "accepted": accepted, "rejected": rows - accepted, "encoding": found.encoding},
                   [(line, e.column, e.value, e.message) for line, e in errors])  # fmt: skip


def _report(path: Path, summary: dict[str, Any], errors: list[tuple[Any, ...]]) -> int:
    for k, v in summary.items():
        print(f"{k:>10}: {v}")
    if errors:
        target = path.with_name(path.name + ".errors.csv")
        target.write_bytes(csv_bytes(["line", "column", "value", "message"], errors))
        print(f"{'errors':>10}: {len(errors)} cells, in {target}")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    import requests

    api = args.api or next((r["api"] for r in LocalState().live_runtimes()), None)
    key = args.key or os.environ.get("HUB_API_KEY")
    if not api or not key:
        console.print("[red]Name the hub (--api, or a running ./hub run) and a key (--key or HUB_API_KEY).[/red]")
        return 2
    path = Path(args.file)
    base = f"{api}/api/v1/tenants/{args.tenant}/integrations/{args.integration}/imports"
    params = {"recipe": args.recipe, "dry_run": str(args.dry_run).lower(), "file_name": path.name}
    if args.encoding:
        params["encoding"] = args.encoding
    ctype = "application/json" if path.suffix.lower() == ".json" else "text/csv"
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {key}"
    with path.open("rb") as f, _bar() as progress:
        task = progress.add_task(f"uploading {path.name}", total=path.stat().st_size)

        def chunks() -> Iterator[bytes]:
            while block := f.read(1 << 16):
                progress.update(task, advance=len(block))
                yield block

        r = session.post(base, params=params, data=chunks(), headers={"Content-Type": ctype}, timeout=3600)
    if r.status_code not in (200, 201):
        console.print(f"[red]{r.status_code}[/red] {r.text}")
        return 1
    job = r.json()
    summary = {
        k: job[k] for k in ("id", "status", "rows", "accepted", "rejected", "created", "unchanged", "replaced", "encoding")
    }
    if r.status_code == 200:
        summary["note"] = "this file was imported before: its first import"
    errors: list[tuple[Any, ...]] = []
    if job["rejected"]:
        report = session.get(f"{base}/{job['id']}/errors", timeout=60).json()["items"]
        errors = [(e["line"], e["column"], e["value"], e["message"]) for e in report]
    return _report(path, summary, errors)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="tools.recipes", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("coverage")
    check = sub.add_parser("check")
    check.add_argument("file")
    check.add_argument("--recipe", required=True, choices=sorted(shipped()))
    check.add_argument("--encoding")
    imp = sub.add_parser("import")
    imp.add_argument("file")
    imp.add_argument("--recipe", required=True, choices=sorted(shipped()))
    imp.add_argument("--integration", required=True)
    imp.add_argument("--tenant", default="demo")
    imp.add_argument("--dry-run", action="store_true")
    imp.add_argument("--encoding")
    imp.add_argument("--api")
    imp.add_argument("--key")
    args = parser.parse_args(argv)
    if args.command == "coverage":
        return cmd_coverage()
    if args.command == "check":
        return cmd_check(Path(args.file), args.recipe, args.encoding)
    return cmd_import(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
