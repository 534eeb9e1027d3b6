"""`./hub bench [name …]`: the benchmarks (all, or the named ones: `./hub bench request_path`) against one
Azurite; prints a Markdown table of ratios (same-run baselines)."""

from __future__ import annotations

import importlib
import logging
import sys

from tools import azurite

# In the README table's order.
BENCHMARKS = (
    "sync_push",
    "outbound_overhead",
    "secrets_and_tokens",
    "api_auth_overhead",
    "request_path",
    "member_sync",
    "calendar_pull",
    "webhook_ingest",
    "event_fanout",
    "maps_geocode",
    "recipe_import",
)


def main(names: list[str]) -> int:
    unknown = sorted(set(names) - set(BENCHMARKS))
    if unknown:
        print(f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}", file=sys.stderr)
        return 2
    logging.disable(logging.WARNING)
    rows: list[dict[str, object]] = []
    with azurite.start(in_memory=True) as store:
        for name in [b for b in BENCHMARKS if b in names or not names]:
            result = importlib.import_module(f"bench.{name}").run(store.connection_string)
            rows += result if isinstance(result, list) else [result]
    print("| benchmark | baseline | measured | ratio | target | notes |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['bench']} | {r['baseline']} | {r['measured']} | {r['ratio']} | {r['target']} | {r['notes']} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
