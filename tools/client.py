"""The hub's Python client, generated from the committed contract (openapi/v1.json) by openapi-python-client
with openapi/client-config.yaml. Built, never committed: the suite generates it afresh and drives the Fortnox
story with it against a running hub (tests/contract/test_generated_client.py), so it cannot drift.

    python -m tools.client generate [--out DIR]   (default: build/hub-client; fails on any generator warning)
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "openapi" / "v1.json"
CONFIG = ROOT / "openapi" / "client-config.yaml"


class GeneratorWarned(Exception):
    """openapi-python-client generated a client with pieces missing: the contract has a shape it cannot map."""


def generate(out: Path) -> Path:
    """Generate the client package into `out/hub_client` and return `out` (put it on sys.path to import it)."""
    exe = Path(sys.executable).with_name("openapi-python-client")
    package = out / "hub_client"
    if package.exists():
        shutil.rmtree(package)
    out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PATH": f"{exe.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run(
        [
            str(exe),
            "generate",
            "--path",
            str(SPEC),
            "--config",
            str(CONFIG),
            "--meta",
            "none",
            "--output-path",
            str(package),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    said = done.stdout + done.stderr
    if done.returncode != 0 or "Warning" in said or "WARNING" in said:
        raise GeneratorWarned(said)
    return out


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="tools.client", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("generate")
    gen.add_argument("--out", default=str(ROOT / "build" / "hub-client"))
    args = parser.parse_args(argv)
    try:
        out = generate(Path(args.out))
    except GeneratorWarned as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"generated {out / 'hub_client'} (add {out} to PYTHONPATH)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
