"""`./hub test`: ruff, mypy, then one Azurite for the whole run and pytest in parallel (each test isolates its
storage by prefix)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile

from tools import azurite
from tools.runner import ROOT


def main(argv: list[str]) -> int:
    lint = subprocess.call([sys.executable, "-m", "ruff", "check", "."], cwd=ROOT)
    if lint:
        return lint
    # The type checker: the modules and strictness are in pyproject.toml ([tool.mypy]); incremental, so fast.
    types = subprocess.call([sys.executable, "-m", "mypy"], cwd=ROOT)
    if types:
        return types
    with azurite.start(in_memory=True) as store:
        status_dir = tempfile.mkdtemp(prefix="hub-status-")
        env = {**os.environ, "HUB_TEST_STORAGE": store.connection_string, "HUB_STATUS_DIR": status_dir}
        # Whole-suite runs check that every documented status code is produced by some test.
        if not argv:
            env["HUB_STATUS_COVERAGE"] = "1"
        workers = os.environ.get("HUB_TEST_WORKERS", "auto")
        cmd = [sys.executable, "-m", "pytest", "-n", workers, "--dist", "loadfile", *argv]
        return subprocess.call(cmd, cwd=ROOT, env=env)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
