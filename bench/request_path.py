"""The API's request path against the floor: a bare FastAPI route doing one raw Table call on the same Azurite,
both servers in processes of their own (`bench/servers.py`), measured in the same run.

(a) one client, authenticated GET of one integration vs a bare point read of the same entity: p50 ≤ 1.2×;
(b) 8 concurrent clients doing the same: throughput ≥ 0.8× and p99 ≤ 1.5× the bare route's;
(c) one-invoice outbox POST vs a bare route doing one raw insert: p50 ≤ 1.5×.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import requests

from bench.common import concurrent, fresh_hub, interleaved_p50, row
from bench.servers import spawn
from devfakes.documents import fortnox
from integrations.auth.principal import Scope
from integrations.service import create_integration

CLIENTS = 8
BURST_S = 3.0  # seconds per side, in ROUNDS alternating rounds
ROUNDS = 4


@contextmanager
def server(kind: str, conn: str, prefix: str) -> Iterator[str]:
    with spawn(kind, conn, prefix, ready="/openapi.json" if kind == "bare" else "/api/health") as base:
        yield base


def load(call: Callable[[requests.Session], requests.Response], seconds: float) -> tuple[float, float]:
    """(requests per second, p99 ms) of CLIENTS threads calling as fast as they get answers for `seconds`."""

    def warmed() -> requests.Session:
        session = requests.Session()
        for _ in range(10):
            call(session)  # warm the connection
        return session

    def checked(session: requests.Session, _: int) -> None:
        r = call(session)
        assert r.status_code < 300, r.text

    return concurrent(checked, warmed, seconds, clients=CLIENTS)


def interleaved_concurrent(
    a: Callable[[requests.Session], requests.Response], b: Callable[[requests.Session], requests.Response]
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Alternating rounds of each, so the machine's noise hits both alike: (throughput, p99) of each."""
    results: dict[int, list[tuple[float, float]]] = {0: [], 1: []}
    for _ in range(ROUNDS):
        for i, call in enumerate((a, b)):
            results[i].append(load(call, BURST_S / ROUNDS * 2))
    return tuple(  # type: ignore[return-value]
        (statistics.median(t for t, _ in r), statistics.median(p for _, p in r)) for r in (results[0], results[1])
    )


def run(conn: str) -> list[dict[str, object]]:
    hub = fresh_hub(conn)
    prefix = hub.settings.table_prefix
    tenant = "bench-fed"
    doc = create_integration(tenant, fortnox(tenant), repo=hub.integrations, actor="bench", now=hub.now).document
    key = hub.api_keys.issue(tenant_id=tenant, scopes=[Scope.integrations_admin], name="bench")
    rows: list[dict[str, object]] = []
    with server("hub", conn, prefix) as h, server("bare", conn, prefix) as b:
        auth = {"Authorization": f"Bearer {key.secret}"}
        hub_get = f"{h}/api/v1/tenants/{tenant}/integrations/{doc.id}"
        bare_get = f"{b}/bare/{tenant}/{doc.id}"  # the document's row: PartitionKey tenant, RowKey id
        sh, sb = requests.Session(), requests.Session()
        sh.headers.update(auth)
        base, measured = interleaved_p50(lambda: sb.get(bare_get), lambda: sh.get(hub_get), n=600)
        rows.append(_row("(a) GET one integration vs bare point read, 1 client (p50)", base, measured, "≤ 1.2", "ms"))

        (bare_tput, bare_p99), (hub_tput, hub_p99) = interleaved_concurrent(
            lambda s: s.get(bare_get), lambda s: s.get(hub_get, headers=auth)
        )
        rows.append(_row(f"(b) same, {CLIENTS} clients: throughput", bare_tput, hub_tput, "≥ 0.8", "req/s"))
        rows.append(_row(f"(b) same, {CLIENTS} clients: p99", bare_p99, hub_p99, "≤ 1.5", "ms"))

        rows.append(_outbox(tenant, doc.id, h, b, auth))
    return rows


def _outbox(tenant: str, integration: str, h: str, b: str, auth: dict[str, str]) -> dict[str, object]:
    """A new invoice key per call, so every POST really stores a record (a repeated key is a cheap replay)."""
    counter = iter(range(10**9))

    def invoice() -> dict[str, Any]:
        return {
            "key": f"INV-{next(counter):07d}",
            "customer_number": "100",
            "invoice_date": "2026-11-25",
            "currency": "SEK",
            "lines": [{"category": "license_fees", "description": "Licens 2026", "amount": 450.0}],
        }

    sh, sb = requests.Session(), requests.Session()
    sh.headers.update(auth)
    hub_post = f"{h}/api/v1/tenants/{tenant}/integrations/{integration}/outbox/invoices"

    def via_hub() -> None:
        r = sh.post(hub_post, json={"invoices": [invoice()]})
        assert r.status_code == 202, r.text

    def bare() -> None:
        r = sb.post(f"{b}/bare/{tenant}", json=invoice())
        assert r.status_code == 201, r.text

    base, measured = interleaved_p50(bare, via_hub, n=400)
    return _row("(c) outbox POST of 1 invoice vs bare insert (p50)", base, measured, "≤ 1.5", "ms")


def _row(name: str, baseline: float, measured: float, target: str, unit: str) -> dict[str, object]:
    return row(
        name,
        f"{baseline:.3f} {unit}" if unit == "ms" else f"{baseline:.0f} {unit}",
        f"{measured:.3f} {unit}" if unit == "ms" else f"{measured:.0f} {unit}",
        measured / baseline,
        target,
        "servers in their own processes",
    )
