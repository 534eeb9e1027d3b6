"""Secret resolution with the cache warm vs a raw SecretStore get; token refresh under 16-way contention."""

from __future__ import annotations

import threading

from bench.common import fresh_hub, interleaved_p50
from tests.fakes.launcher import start_fakes
from tests.helpers import fortnox


def run(conn: str) -> list[dict[str, object]]:
    hub = fresh_hub(conn)
    tenant = "bench-fed"
    stored = hub.credentials.put(tenant, "int_bench", "api_key_ref", "bench-secret-value-123", actor="bench")
    name = stored.ref[3:]
    hub.credentials.resolve_ref(tenant, "int_bench", stored.ref, slot="api_key_ref", operation="bench")
    raw, warm = interleaved_p50(
        lambda: hub.secret_store.get(name),
        lambda: hub.credentials.resolve_ref(tenant, "int_bench", stored.ref, slot="api_key_ref", operation="bench"),
        n=300,
    )
    rows: list[dict[str, object]] = [
        {
            "bench": "secret resolution: warm cache vs raw SecretStore get (p50)",
            "baseline": f"{raw:.3f} ms",
            "measured": f"{warm:.4f} ms",
            "ratio": round(warm / raw, 4),
            "target": "≪ 1",
            "notes": "local store on Azurite",
        }
    ]
    fakes = start_fakes()
    try:
        hub = fresh_hub(conn, provider_urls=fakes.provider_urls)
        fake = fakes.fortnox
        from integrations.service import create_integration

        doc = create_integration(
            tenant,
            fortnox(tenant, oauth_client_id=fake.client_id, credentials={}),
            repo=hub.integrations,
            actor="bench",
            now=hub.now,
        ).document
        stored = hub.credentials.put(tenant, doc.id, "oauth_client_secret_ref", fake.client_secret, actor="bench")
        from integrations.service import set_credential_ref

        set_credential_ref(
            tenant, doc.id, "oauth_client_secret_ref", stored.ref, repo=hub.integrations, actor="b", now=hub.now
        )
        doc = hub.integrations.get(tenant, doc.id).document
        code = fake.issue_code(["invoice"], hub.oauth._redirect_uri)
        data = hub.tokens.exchange(
            hub.provider_app(doc),
            fake.client_secret,
            {"grant_type": "authorization_code", "code": code, "redirect_uri": hub.oauth._redirect_uri},
            provider="fortnox",
        )
        hub.tokens.publish(doc, data, rotates=True, reason="grant")
        from integrations.credentials import secret_name

        set_credential_ref(
            tenant,
            doc.id,
            "oauth_refresh_token_ref",
            f"kv:{secret_name(tenant, doc.id, 'oauth_refresh_token_ref')}",
            repo=hub.integrations,
            actor="b",
            now=hub.now,
        )
        doc = hub.integrations.get(tenant, doc.id).document
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
            {
                "bench": "token refresh, 16 concurrent callers",
                "baseline": "1 call (required)",
                "measured": f"{calls} call(s)",
                "ratio": calls,
                "target": "= 1",
                "notes": "token endpoint calls",
            }
        )
    finally:
        fakes.stop()
    return rows
