"""The servers of the request-path and fan-out benchmarks, each in a process of its own (so the client's threads
do not share a GIL with them): `python -m bench.servers hub|bare <connection string> <table prefix>`, or
`python -m bench.servers sink <certfile> <keyfile>`.

- `hub`: the production API (`create_api`, the real edge, auth, quota counters, telemetry) on a hub built
  from the same settings as the bench's; the shared rate limiter with a plan too large to refuse anything,
  so the bench measures its cost, not its refusals.
- `sink <certfile> <keyfile>`: an HTTPS receiver answering every `POST /e/<n>` with 204 and `GET /count` with
  how many it took — the tenant endpoints of the fan-out benchmark, out of the sender's process.
- `bare`: a FastAPI app with one route reading one entity and one inserting one, with the raw SDK client on the
  same Azurite — the floor any request path that touches storage once has to stand on.

Each prints its port on stdout when it listens, and serves until killed.
"""

from __future__ import annotations

import logging
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests
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


def sink_app() -> Any:
    import threading

    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse, Response
    from starlette.routing import Route

    taken = [0]
    lock = threading.Lock()

    async def hook(request: Request) -> Response:
        await request.body()
        with lock:
            taken[0] += 1
        return Response(status_code=204)

    async def count(request: Request) -> Response:
        return PlainTextResponse(str(taken[0]))

    return Starlette(routes=[Route("/e/{n}", hook, methods=["POST"]), Route("/count", count)])


def queue_names(prefix: str) -> dict[str, str]:
    return {
        f"queue_{q.replace('-', '_')}": f"{prefix}-{q}"
        for q in ("sync-jobs", "webhook-events", "webhook-deliveries", "integration-events", "alerts", "alert-webhooks")
    }


@contextmanager
def spawn(kind: str, *args: str, ready: str, scheme: str = "http", verify: str | bool = True) -> Iterator[str]:
    """`python -m bench.servers kind *args` in a process of its own; its base URL once `ready` answers."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.servers", kind, *args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    try:
        assert proc.stdout is not None
        base = f"{scheme}://127.0.0.1:{int(proc.stdout.readline())}"
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(f"{base}{ready}", timeout=2, verify=verify)
                break
            except requests.RequestException:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError(f"bench server {kind} did not start") from None
                time.sleep(0.1)
        yield base
    finally:
        proc.kill()
        proc.wait()


def main(argv: list[str]) -> int:
    kind, *args = argv
    logging.disable(logging.WARNING)
    tls: dict[str, Any] = {}
    if kind == "sink":
        app = sink_app()
        tls = {"ssl_certfile": args[0], "ssl_keyfile": args[1]}
    else:
        conn, prefix = args
        app = hub_app(conn, prefix) if kind == "hub" else bare_app(conn, prefix)
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan="off", access_log=False, http="h11", **tls
    )
    server = uvicorn.Server(config)
    print(port, flush=True)
    server.run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
