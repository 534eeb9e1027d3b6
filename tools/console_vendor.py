"""The tenant console's browser libraries, copied from the npm packages pinned in package-lock.json into
integrations/console/vendor/ (committed: the Function App serves them; no CDN). The suite checks the copies
are byte for byte the pinned packages' files.

    python -m tools.console_vendor          copy (after changing a version in package.json and `npm ci`)
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENDOR = ROOT / "integrations" / "console" / "vendor"
# vendored name → file in node_modules. lit-html: templates without eval (a strict CSP holds); uPlot: small
# canvas charts; MSAL: Entra ID sign-in with authorization code + PKCE.
FILES = {
    "lit-html.js": "lit-html/lit-html.js",
    "uPlot.iife.min.js": "uplot/dist/uPlot.iife.min.js",
    "uPlot.min.css": "uplot/dist/uPlot.min.css",
    "msal-browser.min.js": "@azure/msal-browser/lib/msal-browser.min.js",
}


def source(name: str) -> Path:
    return ROOT / "node_modules" / FILES[name]


def main() -> int:
    VENDOR.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        shutil.copyfile(source(name), VENDOR / name)
        print(f"{FILES[name]} → {(VENDOR / name).relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
