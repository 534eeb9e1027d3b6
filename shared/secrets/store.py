"""The SecretStore contract: versioned secrets by name, as Key Vault models them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from shared.errors import Conflict


@dataclass(frozen=True)
class SecretVersion:
    name: str
    version: str
    created_at: datetime | None
    enabled: bool


class SecretNotFound(Conflict):
    """No such secret, version, or the version is disabled/deleted. The message never carries a value.
    At the HTTP edge a 409: the integration's state (a reference without a value) is what needs fixing."""

    title, type_slug = "Secret missing", "secret-missing"


class SecretStore(Protocol):
    def set(self, name: str, value: str, *, tags: dict[str, str] | None = None) -> SecretVersion:
        """Store a new version; it becomes the current one."""
        ...

    def get(self, name: str, version: str | None = None) -> str:
        """The current (or given) enabled version's value."""
        ...

    def versions(self, name: str) -> list[SecretVersion]:
        """All versions, newest first; [] for an unknown name."""
        ...

    def disable(self, name: str, version: str) -> None: ...

    def delete(self, name: str) -> None:
        """Soft delete: recoverable until purged."""
        ...

    def recover(self, name: str) -> None: ...
