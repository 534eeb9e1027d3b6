"""Blob Storage for files the hub produces (CSV exports for partners without an API) and large files it is
handed (imports uploaded straight to Blob Storage through a short-lived, write-only SAS URL)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.storage.blob import BlobSasPermissions, BlobServiceClient, ContentSettings, generate_blob_sas

from shared.errors import NotFound


class Blobs:
    def __init__(self, service: BlobServiceClient, *, container: str) -> None:
        self._service = service
        self._container_name = container
        self._container = service.get_container_client(container)
        try:
            self._container.create_container()
        except ResourceExistsError:
            pass

    def put(self, name: str, data: bytes, *, content_type: str) -> None:
        self._container.upload_blob(name, data, overwrite=True, content_settings=ContentSettings(content_type=content_type))

    def get(self, name: str) -> bytes:
        try:
            return self._container.download_blob(name).readall()
        except ResourceNotFoundError:
            raise NotFound(f"No file {name}.") from None

    def upload_url(self, name: str, *, valid_for: timedelta) -> tuple[str, datetime]:
        """A URL that lets its holder create this one blob (no read, no list) until it expires: signed with the
        account key where the hub has one (Azurite, a connection string), else a user delegation key (managed
        identity; the identity needs Storage Blob Delegator)."""
        start = datetime.now(UTC) - timedelta(minutes=5)  # clock skew between the hub and Storage
        expiry = start + timedelta(minutes=5) + valid_for
        permission = BlobSasPermissions(create=True, write=True)
        account_key = getattr(self._service.credential, "account_key", None)
        key: Any = account_key
        if not account_key:
            key = self._service.get_user_delegation_key(start, expiry)
        sas = generate_blob_sas(
            self._service.account_name or "",
            self._container_name,
            name,
            account_key=account_key or None,
            user_delegation_key=None if account_key else key,
            permission=permission,
            expiry=expiry,
            start=start,
        )
        return f"{self._container.url}/{quote(name)}?{sas}", expiry

    def size(self, name: str) -> int:
        try:
            return int(self._container.get_blob_client(name).get_blob_properties().size)
        except ResourceNotFoundError:
            raise NotFound(f"No file {name}.") from None

    def chunks(self, name: str) -> Iterator[bytes]:
        """The blob's bytes in chunks (4 MiB each by default): never the whole file in memory."""
        try:
            downloader = self._container.download_blob(name)
        except ResourceNotFoundError:
            raise NotFound(f"No file {name}.") from None
        yield from downloader.chunks()
