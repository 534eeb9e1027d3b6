"""One contract suite, two SecretStores: the local encrypted Table store and Key Vault through the real SDK."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devfakes.keyvault import VAULT, FakeCredential, FakeKeyVaultTransport
from integrations.wiring import Hub, utc_now
from shared.secrets.keyvault import KeyVaultSecretStore
from shared.secrets.local import LocalSecretStore
from shared.secrets.store import SecretNotFound


@pytest.fixture(params=["local", "keyvault"])
def store(request: pytest.FixtureRequest, hub: Hub) -> Iterator[object]:
    if request.param == "local":
        yield LocalSecretStore(hub.tables.table("secrets"), key="contract-test-key", now=utc_now)
    else:
        transport = FakeKeyVaultTransport()
        credential = FakeCredential()
        yield KeyVaultSecretStore.connect(
            VAULT, credential=credential, transport=transport, retry_total=0, polling_interval=0
        )
        assert credential.scopes and credential.scopes[0] == "https://vault.azure.net/.default"
        assert ("PUT", "/secrets/fed--int-1--api-key") in transport.requests


def test_set_get_and_versions(store) -> None:  # type: ignore[no-untyped-def]
    v1 = store.set("fed--int-1--api-key", "first")
    v2 = store.set("fed--int-1--api-key", "second")
    assert v1.version != v2.version and len(v1.version) == 32
    assert store.get("fed--int-1--api-key") == "second"
    assert store.get("fed--int-1--api-key", v1.version) == "first"
    versions = store.versions("fed--int-1--api-key")
    assert [v.version for v in versions] == [v2.version, v1.version]
    assert all(v.enabled for v in versions)


def test_disable_a_version(store) -> None:  # type: ignore[no-untyped-def]
    v1 = store.set("fed--int-1--api-key", "first")
    store.set("fed--int-1--api-key", "second")
    store.disable("fed--int-1--api-key", v1.version)
    with pytest.raises(SecretNotFound):
        store.get("fed--int-1--api-key", v1.version)
    assert store.get("fed--int-1--api-key") == "second"
    assert [v.enabled for v in store.versions("fed--int-1--api-key")] == [True, False]


def test_missing_delete_and_recover(store) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SecretNotFound):
        store.get("fed--nothing-here")
    assert store.versions("fed--nothing-here") == []
    store.set("fed--int-1--api-key", "value")
    store.delete("fed--int-1--api-key")
    with pytest.raises(SecretNotFound):
        store.get("fed--int-1--api-key")
    store.recover("fed--int-1--api-key")
    assert store.get("fed--int-1--api-key") == "value"


def test_local_store_encrypts_at_rest(hub: Hub) -> None:
    table = hub.tables.table("secrets")
    store = LocalSecretStore(table, key="k1", now=utc_now)
    store.set("fed--x", "plain-text-secret")
    rows = list(table.query("PartitionKey eq 'fed--x'"))
    assert rows and all("plain-text-secret" not in str(r) for r in rows)
    with pytest.raises(SecretNotFound):
        LocalSecretStore(table, key="another-key", now=utc_now).get("fed--x")
