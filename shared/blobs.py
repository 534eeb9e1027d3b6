"""Blob Storage for files the hub produces (CSV exports for partners without an API)."""

from __future__ import annotations

from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.storage.blob import BlobServiceClient, ContentSettings

from shared.errors import NotFound


class Blobs:
    def __init__(self, service: BlobServiceClient, *, container: str) -> None:
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
