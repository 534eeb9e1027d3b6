"""Sample integration documents the fakes serve (the seed's Fortnox story), for tests and benches."""

from __future__ import annotations

from typing import Any


def ref(tenant: str, name: str) -> str:
    """A reference to one of the tenant's explicitly shared secrets (a document may name those, or its own)."""
    return f"kv:{tenant}--shared--{name}"


def fortnox(tenant: str, **over: Any) -> dict[str, Any]:
    body = {
        "family": "accounting",
        "provider": "fortnox",
        "display_name": "Fortnox (finance)",
        "sandbox": True,
        "oauth_client_id": "hub-client-id",
        "credentials": {
            "oauth_client_secret_ref": ref(tenant, "fortnox-client-secret"),
            "oauth_refresh_token_ref": ref(tenant, "fortnox-refresh-token"),
        },
        "config": {
            "fiscal_year": {"year": 2026, "start_month": 1},
            "sync_direction": "push",
            "chart_of_accounts": {"license_fees": "3010", "tournament_fees": "3020"},
        },
    }
    body.update(over)
    return body
