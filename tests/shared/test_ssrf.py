"""The SSRF guard for tenant-chosen webhook URLs."""

from __future__ import annotations

import pytest

from shared.ssrf import check_public_https


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


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://hooks.example.org/x", "https"),
        ("https://user:pw@hooks.example.org/x", "credentials"),
        ("https://127.0.0.1/x", "non-public"),
        ("https://10.1.2.3/x", "non-public"),
        ("https://[::1]/x", "non-public"),
        ("https://localhost/x", "non-public"),
        ("https://sneaky.example.org/x", "non-public"),
        ("https://metadata.example.org/latest", "non-public"),
        ("https://nowhere.example.org/x", "does not resolve"),
    ],
)
def test_rejected(url: str, reason: str) -> None:
    resolve = DNS
    with pytest.raises(ValueError, match=reason):
        check_public_https(url, resolve=lambda h, p: [h] if h[0].isdigit() or ":" in h else resolve(h, p))


def test_accepted_public_and_operator_allowed() -> None:
    assert check_public_https("https://hooks.example.org/alerts", resolve=DNS)
    assert check_public_https("https://127.0.0.1:8443/x", resolve=DNS, allow_hosts=frozenset({"127.0.0.1"}))
