"""The console's libraries are the pinned npm packages' files, byte for byte (no hand-edited copies)."""

from __future__ import annotations

import json
from pathlib import Path

from tools.console_vendor import FILES, VENDOR, source

ROOT = Path(__file__).parents[2]


def test_vendored_files_are_the_pinned_packages() -> None:
    lock = json.loads((ROOT / "package-lock.json").read_text())["packages"]
    for name, path in FILES.items():
        package = path.split("/dist/")[0].split("/lib/")[0] if path.startswith("@") else path.split("/")[0]
        assert f"node_modules/{package}" in lock, package
        assert (VENDOR / name).read_bytes() == source(name).read_bytes(), name


def test_every_language_has_every_key() -> None:
    files = sorted((ROOT / "integrations" / "console" / "i18n").glob("*.json"))
    keys = {f.stem: set(json.loads(f.read_text())) for f in files}
    assert {"en", "fr"} <= set(keys)
    assert all(k == keys["en"] for k in keys.values())
