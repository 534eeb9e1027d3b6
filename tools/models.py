"""The canonical models' releases.

python -m tools.models release X.Y.Z   write canonical/releases/X.Y.Z.json (never rewritten)
python -m tools.models changes NAME    the model's field-level history, as GET /api/v1/models/NAME/changes
python -m tools.models check           exit 1 when a model's schema changed but its version did not
"""

from __future__ import annotations

import json
import sys

from canonical.history import RELEASES, changes, snapshot, unversioned_changes


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "check"
    if command == "release" and len(argv) == 2:
        target = RELEASES / f"{argv[1]}.json"
        if target.exists():
            print(f"{target} exists: releases are never rewritten.")
            return 1
        RELEASES.mkdir(exist_ok=True)
        target.write_text(json.dumps(snapshot(), indent=1, sort_keys=True) + "\n")
        print(f"wrote {target}")
        return 0
    if command == "changes" and len(argv) == 2:
        for c in changes(argv[1]):
            print(f"{c.release:<24} v{c.version:<5} {c.field or '(model)':<20} {c.change:<12} {c.before!r} → {c.after!r}")
        return 0
    if command == "check":
        stale = unversioned_changes()
        for name in stale:
            print(f"{name}: the schema changed since the latest release but its version did not (canonical/catalog.py)")
        return 1 if stale else 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
