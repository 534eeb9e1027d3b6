"""`./hub bench`: every benchmark against one Azurite; prints a Markdown table of ratios (same-run baselines)."""

from __future__ import annotations

import logging
import sys

from tools import azurite


def main() -> int:
    logging.disable(logging.WARNING)
    from bench import (
        api_auth_overhead,
        calendar_pull,
        event_fanout,
        maps_geocode,
        member_sync,
        outbound_overhead,
        recipe_import,
        request_path,
        secrets_and_tokens,
        sync_push,
        webhook_ingest,
    )

    rows: list[dict[str, object]] = []
    with azurite.start(in_memory=True) as store:
        conn = store.connection_string
        rows.append(sync_push.run(conn))
        rows.append(outbound_overhead.run(conn))
        rows += secrets_and_tokens.run(conn)
        rows.append(api_auth_overhead.run(conn))
        rows += request_path.run(conn)
        rows.append(member_sync.run(conn))
        rows += calendar_pull.run(conn)
        rows += webhook_ingest.run(conn)
        rows.append(event_fanout.run(conn))
        rows += maps_geocode.run(conn)
        rows += recipe_import.run(conn)
    print("| benchmark | baseline | measured | ratio | target | notes |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['bench']} | {r['baseline']} | {r['measured']} | {r['ratio']} | {r['target']} | {r['notes']} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
