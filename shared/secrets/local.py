"""Local SecretStore: values encrypted at rest (Fernet) in a Table, so they survive restarts of Azurite.

The key comes from settings (HUB_LOCAL_SECRET_KEY): a Fernet key, or any passphrase (stretched with
PBKDF2; fine for development, which is the only place this store runs).
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable
from datetime import datetime

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
from pydantic import Field

from shared.errors import NotFound
from shared.rows import Row, Rows
from shared.secrets.store import SecretNotFound, SecretVersion
from shared.tables import Table

_META = "~meta"  # RowKey of the per-secret row holding the deleted flag


def fernet_for(key: str) -> Fernet:
    try:
        return Fernet(key.encode())
    except (ValueError, TypeError):
        kdf = PBKDF2HMAC(algorithm=hashes.SHA256(), length=32, salt=b"integration-hub-local-secrets", iterations=200_000)
        return Fernet(base64.urlsafe_b64encode(kdf.derive(key.encode())))


class VersionRow(Row):
    """One version of a secret (`PartitionKey = <name>`, `RowKey = <version>`): the value encrypted."""

    value: str = Field(alias="Value")  # Fernet token, never the value
    enabled: bool = Field(alias="Enabled")
    created_at: datetime = Field(alias="CreatedAt")
    seq: int = Field(0, alias="Seq")  # orders versions created within one clock tick


class MetaRow(Row):
    """`RowKey = ~meta`: the secret is soft-deleted (recoverable), as Key Vault's are."""

    deleted: bool = Field(False, alias="Deleted")


class LocalSecretStore:
    def __init__(self, table: Table, *, key: str, now: Callable[[], datetime]) -> None:
        self._versions = Rows(table, VersionRow)
        self._meta = Rows(table, MetaRow)
        self._fernet = fernet_for(key)
        self._now = now

    def _rows(self, name: str) -> list[VersionRow]:
        rows = self._versions.query("PartitionKey eq @n and RowKey ne @meta", parameters={"n": name, "meta": _META})
        return list(rows)

    def _deleted(self, name: str) -> bool:
        meta = self._meta.find(name, _META)
        return bool(meta and meta[0].deleted)

    def set(self, name: str, value: str, *, tags: dict[str, str] | None = None) -> SecretVersion:
        if self._deleted(name):
            raise SecretNotFound(f"secret {name} is deleted; recover it first")
        version = secrets.token_hex(16)
        at = self._now()
        token = self._fernet.encrypt(value.encode()).decode()
        seq = len(self._rows(name))
        self._versions.insert(VersionRow(partition=name, row=version, value=token, enabled=True, created_at=at, seq=seq))
        return SecretVersion(name, version, at, True)

    def versions(self, name: str) -> list[SecretVersion]:
        rows = sorted(self._rows(name), key=lambda r: (r.created_at, r.seq), reverse=True)
        return [SecretVersion(name, r.row, r.created_at, r.enabled) for r in rows]

    def get(self, name: str, version: str | None = None) -> str:
        if self._deleted(name):
            raise SecretNotFound(f"secret {name} was not found")
        if version is None:
            current = next((v for v in self.versions(name) if v.enabled), None)
            if current is None:
                raise SecretNotFound(f"secret {name} was not found")
            version = current.version
        try:
            row, _ = self._versions.get(name, version)
        except NotFound:
            raise SecretNotFound(f"secret {name} version {version} was not found") from None
        if not row.enabled:
            raise SecretNotFound(f"secret {name} version {version} is disabled")
        try:
            return self._fernet.decrypt(row.value.encode()).decode()
        except InvalidToken:
            raise SecretNotFound(f"secret {name} cannot be decrypted with the configured key") from None

    def disable(self, name: str, version: str) -> None:
        row, etag = self._versions.get(name, version)
        row.enabled = False
        self._versions.replace(row, etag=etag)

    def delete(self, name: str) -> None:
        self._meta.upsert(MetaRow(partition=name, row=_META, deleted=True))

    def recover(self, name: str) -> None:
        self._meta.upsert(MetaRow(partition=name, row=_META, deleted=False))
