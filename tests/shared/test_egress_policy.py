"""The egress policy's URL check for tenant-chosen URLs (it replaced the alert webhooks' own SSRF guard)."""

from __future__ import annotations

import pytest

from shared.egress import EgressPolicy


def fake_dns(table: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    def resolve(host: str, port: int) -> list[str]:
        if host not in table:
            raise OSError("NXDOMAIN")
        return table[host]

    return resolve


DNS = fake_dns(
    {
        "hooks.example.org": ["93.184.216.34"],
        "sneaky.example.org": ["93.184.216.34", "10.0.0.5"],
        "metadata.example.org": ["169.254.169.254"],
        "v6.example.org": ["::1"],
        "localhost": ["127.0.0.1"],
    }
)


NON_PUBLIC = "loopback|private|link-local"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://hooks.example.org/x", "https"),
        ("https://user:pw@hooks.example.org/x", "credentials"),
        ("https://127.0.0.1/x", NON_PUBLIC),
        ("https://10.1.2.3/x", NON_PUBLIC),
        ("https://[::1]/x", NON_PUBLIC),
        ("https://localhost/x", NON_PUBLIC),
        ("https://sneaky.example.org/x", NON_PUBLIC),
        ("https://metadata.example.org/latest", NON_PUBLIC),
        ("https://nowhere.example.org/x", "does not resolve"),
    ],
)
def test_rejected(url: str, reason: str) -> None:
    resolve = DNS
    policy = EgressPolicy(resolve=lambda h, p: [h] if h[0].isdigit() or ":" in h else resolve(h, p))
    with pytest.raises(ValueError, match=reason):
        policy.check_url(url, schemes=("https",))


def test_accepted_public_and_operator_allowed() -> None:
    assert EgressPolicy(resolve=DNS).check_url("https://hooks.example.org/alerts", schemes=("https",))
    allowed = EgressPolicy.from_origins(["127.0.0.1:8443"], https_only=True, resolve=lambda h, p: [h])
    assert allowed.check_url("https://127.0.0.1:8443/x", schemes=("https",))
