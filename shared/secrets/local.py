"""Local SecretStore: values encrypted at rest (Fernet) in a Table, so they survive restarts of Azurite.

The key comes from settings (HUB_LOCAL_SECRET_KEY): a Fernet key, or any passphrase (stretched with
PBKDF2; fine for development, which is the only place this store runs).
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable
from datetime import datetime
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

from shared.errors import NotFound
from shared.secrets.store import SecretNotFound, SecretVersion
from shared.tables import Table

_META = "~meta"  # RowKey of the per-secret row holding the deleted flag


def fernet_for(key: str) -> Fernet:
    try:
        return Fernet(key.encode())
    except (ValueError, TypeError):
        kdf = PBKDF2HMAC(algorithm=hashes.SHA256(), length=32, salt=b"integration-hub-local-secrets", iterations=200_000)
        return Fernet(base64.urlsafe_b64encode(kdf.derive(key.encode())))


class LocalSecretStore:
    def __init__(self, table: Table, *, key: str, now: Callable[[], datetime]) -> None:
        self._table = table
        self._fernet = fernet_for(key)
        self._now = now

    def _rows(self, name: str) -> list[dict[str, Any]]:
        return [e for e in self._table.query("PartitionKey eq @n", parameters={"n": name}) if e["RowKey"] != _META]

    def _deleted(self, name: str) -> bool:
        meta = self._table.find(name, _META)
        return bool(meta and meta[0].get("Deleted"))

    def set(self, name: str, value: str, *, tags: dict[str, str] | None = None) -> SecretVersion:
        if self._deleted(name):
            raise SecretNotFound(f"secret {name} is deleted; recover it first")
        version = secrets.token_hex(16)
        at = self._now()
        self._table.insert(
            {
                "PartitionKey": name,
                "RowKey": version,
                "Value": self._fernet.encrypt(value.encode()).decode(),
                "Enabled": True,
                "CreatedAt": at,
                "Seq": len(self._rows(name)),
            }
        )
        return SecretVersion(name, version, at, True)

    def versions(self, name: str) -> list[SecretVersion]:
        rows = sorted(self._rows(name), key=lambda e: (e["CreatedAt"], e.get("Seq", 0)), reverse=True)
        return [SecretVersion(name, e["RowKey"], e["CreatedAt"], bool(e["Enabled"])) for e in rows]

    def get(self, name: str, version: str | None = None) -> str:
        if self._deleted(name):
            raise SecretNotFound(f"secret {name} was not found")
        if version is None:
            current = next((v for v in self.versions(name) if v.enabled), None)
            if current is None:
                raise SecretNotFound(f"secret {name} was not found")
            version = current.version
        try:
            entity, _ = self._table.get(name, version)
        except NotFound:
            raise SecretNotFound(f"secret {name} version {version} was not found") from None
        if not entity["Enabled"]:
            raise SecretNotFound(f"secret {name} version {version} is disabled")
        try:
            return self._fernet.decrypt(entity["Value"].encode()).decode()
        except InvalidToken:
            raise SecretNotFound(f"secret {name} cannot be decrypted with the configured key") from None

    def disable(self, name: str, version: str) -> None:
        entity, etag = self._table.get(name, version)
        entity["Enabled"] = False
        self._table.replace(entity, etag=etag)

    def delete(self, name: str) -> None:
        self._table.upsert({"PartitionKey": name, "RowKey": _META, "Deleted": True})

    def recover(self, name: str) -> None:
        self._table.upsert({"PartitionKey": name, "RowKey": _META, "Deleted": False})
