"""The README's console screenshots, regenerated: runs the console's browser story with screenshots on.

python -m tools.console_screenshots        (writes docs/console/*.png; needs chromium, like ./hub test)
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "console"


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "HUB_CONSOLE_SCREENSHOTS": str(OUT)}
    test = "tests/console/test_console.py::test_the_fortnox_story_by_clicking"
    done = subprocess.run([sys.executable, "-m", "pytest", test, "-q", "-p", "no:cacheprovider"], cwd=ROOT, env=env)
    if done.returncode == 0:
        print("\n".join(str(p.relative_to(ROOT)) for p in sorted(OUT.glob("*.png"))))
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
