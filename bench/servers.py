"""The two servers of the request-path benchmark, each in a process of its own (so the client's threads do
not share a GIL with them): `python -m bench.servers hub|bare <connection string> <table prefix>`.

- `hub`: the production API (`create_api`, the real edge, auth, quota counters, telemetry) on a hub built
  from the same settings as the bench's; the shared rate limiter with a plan too large to refuse anything,
  so the bench measures its cost, not its refusals.
- `bare`: a FastAPI app with one route reading one entity and one inserting one, with the raw SDK client on the
  same Azurite — the floor any request path that touches storage once has to stand on.

Each prints its port on stdout when it listens, and serves until killed.
"""

from __future__ import annotations

import logging
import secrets
import sys
from typing import Any

import uvicorn
from azure.data.tables import TableServiceClient
from fastapi import FastAPI

from devfakes.servers import free_port
from devfakes.settings import make_settings
from integrations.table_names import TableName


def hub_app(conn: str, prefix: str) -> Any:
    from integrations.api.app import create_api
    from integrations.api.ratelimit import DEFAULT_POLICIES, Policy
    from integrations.api.shared_ratelimit import SharedRateLimiter
    from integrations.wiring import build_hub, set_hub

    # The webhook ingest limit as generous as the API's: the bench measures the receiver, not its refusals.
    generous_ingest = {"webhook_ingest_per_s": 1e6, "webhook_ingest_burst": 10**9}
    hub = build_hub(make_settings(conn, table_prefix=prefix, **queue_names(prefix), **generous_ingest))
    set_hub(hub)
    generous = SharedRateLimiter(
        hub.tables.table(TableName.ratebuckets),
        {k: Policy(p.name, rate_per_s=1e6, burst=10**9) for k, p in DEFAULT_POLICIES.items()},
    )
    return create_api(limiter=lambda: generous, max_body=hub.settings.max_body_bytes)


def bare_app(conn: str, prefix: str) -> FastAPI:
    service = TableServiceClient.from_connection_string(conn)
    documents = service.get_table_client(f"{prefix}integrations")
    inserts = service.create_table_if_not_exists(f"{prefix}bareinserts")
    app = FastAPI()

    @app.get("/bare/{partition}/{row}")
    def read(partition: str, row: str) -> dict[str, Any]:
        return dict(documents.get_entity(partition, row))

    @app.post("/bare/{partition}", status_code=201)
    def insert(partition: str, body: dict[str, Any]) -> dict[str, str]:
        row = secrets.token_hex(8)
        inserts.create_entity({"PartitionKey": partition, "RowKey": row, "Body": str(body)})
        return {"id": row}

    return app


def queue_names(prefix: str) -> dict[str, str]:
    return {
        f"queue_{q.replace('-', '_')}": f"{prefix}-{q}"
        for q in ("sync-jobs", "webhook-events", "webhook-deliveries", "integration-events", "alerts", "alert-webhooks")
    }


def main(argv: list[str]) -> int:
    kind, conn, prefix = argv
    logging.disable(logging.WARNING)
    app = hub_app(conn, prefix) if kind == "hub" else bare_app(conn, prefix)
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off", access_log=False)
    server = uvicorn.Server(config)
    print(port, flush=True)
    server.run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
