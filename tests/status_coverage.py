"""Every status code the contract documents is produced by some test (issue 11).

The HTTP edge reports (operationId, method, status) of each response served to tests; each xdist worker
writes what it saw, and the controller compares the union with openapi/v1.json when the whole suite runs
(`./hub test` sets HUB_STATUS_COVERAGE=1). A documented code no test produces fails the run; per-operation
gaps are listed for information.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

SEEN: set[tuple[str, str, int]] = set()
SPEC = Path(__file__).resolve().parent.parent / "openapi" / "v1.json"


def observe(operation_id: str, method: str, status: int) -> None:
    SEEN.add((operation_id, method, status))


def _dir() -> Path | None:
    value = os.environ.get("HUB_STATUS_DIR")
    return Path(value) if value else None


def write(worker: str) -> None:
    folder = _dir()
    if folder:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{worker}.json").write_text(json.dumps(sorted(SEEN)))


def gaps() -> tuple[set[int], dict[str, set[int]]]:
    seen = set(SEEN)
    folder = _dir()
    if folder and folder.exists():
        for path in folder.glob("*.json"):
            seen |= {tuple(x) for x in json.loads(path.read_text())}  # type: ignore[misc]
    spec = json.loads(SPEC.read_text())
    documented: dict[str, set[int]] = {}
    for item in spec["paths"].values():
        for op in item.values():
            documented[op["operationId"]] = {int(code) for code in op.get("responses", {}) if code.isdigit()}
    produced_codes = {status for _, _, status in seen}
    missing_codes = set().union(*documented.values()) - produced_codes
    per_operation = {op: codes - {s for o, _, s in seen if o == op} for op, codes in documented.items()}
    return missing_codes, {op: miss for op, miss in per_operation.items() if miss}
