"""Secret resolution with the cache warm vs a raw SecretStore get; token refresh under 16-way contention."""

from __future__ import annotations

import threading

from bench.common import connected_fortnox, fresh_hub, interleaved_p50, row
from devfakes.launcher import start_fakes
from integrations.documents.ref import IntegrationRef


def run(conn: str) -> list[dict[str, object]]:
    hub = fresh_hub(conn)
    tenant, integration = "bench-fed", "int_" + "b" * 24
    stored = hub.credentials.put(IntegrationRef(tenant, integration), "api_key_ref", "bench-secret-value-123", actor="bench")
    name = stored.ref[3:]
    hub.credentials.resolve_ref(tenant, integration, stored.ref, slot="api_key_ref", operation="bench")
    raw, warm = interleaved_p50(
        lambda: hub.secret_store.get(name),
        lambda: hub.credentials.resolve_ref(tenant, integration, stored.ref, slot="api_key_ref", operation="bench"),
        n=300,
    )
    rows: list[dict[str, object]] = [
        row(
            "secret resolution: warm cache vs raw SecretStore get (p50)",
            f"{raw:.3f} ms",
            f"{warm:.4f} ms",
            warm / raw,
            "≪ 1",
            "local store on Azurite",
            digits=4,
        )
    ]
    fakes = start_fakes()
    try:
        hub = fresh_hub(conn, **fakes.hub_settings())
        fake = fakes.fortnox
        doc = connected_fortnox(hub, fake, tenant)
        fake.expire_access_tokens()
        hub.tokens.invalidate(doc)
        before = fake.token_calls.count("refresh_token")
        barrier = threading.Barrier(16)

        def caller() -> None:
            barrier.wait()
            hub.tokens.access_token(doc, operation="bench")

        threads = [threading.Thread(target=caller) for _ in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        calls = fake.token_calls.count("refresh_token") - before
        rows.append(
            row(
                "token refresh, 16 concurrent callers",
                "1 call (required)",
                f"{calls} call(s)",
                calls,
                "= 1",
                "token endpoint calls",
            )
        )
    finally:
        fakes.stop()
    return rows
