"""Azure Key Vault SecretStore (azure-keyvault-secrets), authenticated by managed identity in Azure."""

from __future__ import annotations

from typing import Any

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.keyvault.secrets import SecretClient

from shared.secrets.store import SecretNotFound, SecretVersion


class KeyVaultSecretStore:
    def __init__(self, client: SecretClient) -> None:
        self._client = client

    @classmethod
    def connect(cls, vault_url: str, *, credential: Any = None, **client_kwargs: Any) -> KeyVaultSecretStore:
        if credential is None:
            from azure.identity import DefaultAzureCredential

            credential = DefaultAzureCredential()
        return cls(SecretClient(vault_url=vault_url, credential=credential, **client_kwargs))

    def set(self, name: str, value: str, *, tags: dict[str, str] | None = None) -> SecretVersion:
        secret = self._client.set_secret(name, value, tags=tags, content_type="text/plain")
        p = secret.properties
        return SecretVersion(name, p.version or "", p.created_on, bool(p.enabled))

    def get(self, name: str, version: str | None = None) -> str:
        try:
            secret = self._client.get_secret(name, version)
        except ResourceNotFoundError:
            raise SecretNotFound(f"secret {name} was not found") from None
        except HttpResponseError as exc:
            # A disabled version answers 403 Forbidden ("Operation get is not allowed on a disabled secret").
            if exc.status_code == 403:
                raise SecretNotFound(f"secret {name} version {version} is disabled") from None
            raise
        if secret.value is None:
            raise SecretNotFound(f"secret {name} has no value")
        return secret.value

    def versions(self, name: str) -> list[SecretVersion]:
        try:
            items = [
                SecretVersion(name, p.version or "", p.created_on, bool(p.enabled))
                for p in self._client.list_properties_of_secret_versions(name)
            ]
        except ResourceNotFoundError:
            return []
        return sorted(items, key=lambda v: v.created_at.timestamp() if v.created_at else 0.0, reverse=True)

    def disable(self, name: str, version: str) -> None:
        self._client.update_secret_properties(name, version, enabled=False)

    def delete(self, name: str) -> None:
        self._client.begin_delete_secret(name).wait()

    def recover(self, name: str) -> None:
        self._client.begin_recover_deleted_secret(name).wait()
