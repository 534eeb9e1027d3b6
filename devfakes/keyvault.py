"""A fake Azure Key Vault behind the SDK's transport seam: the real SecretClient, real pipeline
(challenge auth, retries, deserialisation), and a transport that answers with Key Vault REST shapes."""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from typing import Any
from urllib.parse import urlparse

from azure.core.credentials import AccessToken, AccessTokenInfo
from azure.core.pipeline.transport import HttpTransport
from azure.core.rest._http_response_impl import HttpResponseImpl

VAULT = "https://fakevault.vault.azure.net"


class FakeCredential:
    """Stands in for DefaultAzureCredential: hands out a bearer token for the scope asked."""

    def __init__(self) -> None:
        self.scopes: list[str] = []

    def get_token(self, *scopes: str, **_: Any) -> AccessToken:
        self.scopes.extend(scopes)
        return AccessToken("fake-aad-token", int(time.time()) + 3600)

    def get_token_info(self, *scopes: str, options: Any = None) -> AccessTokenInfo:
        self.scopes.extend(scopes)
        return AccessTokenInfo("fake-aad-token", int(time.time()) + 3600)


class _Closable:
    def close(self) -> None:
        pass


class _Response(HttpResponseImpl):
    def __init__(self, request: Any, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        content = b"" if body is None else json.dumps(body).encode()
        super().__init__(
            request=request,
            internal_response=_Closable(),
            status_code=status,
            reason="",
            content_type="application/json",
            headers={"Content-Type": "application/json", **(headers or {})},
            stream_download_generator=None,
        )
        self._content = content


class FakeKeyVaultTransport(HttpTransport):  # type: ignore[type-arg]  # azure-core types are untyped here
    def __init__(self) -> None:
        self.secrets: dict[str, list[dict[str, Any]]] = {}  # name → versions, oldest first
        self.deleted: dict[str, list[dict[str, Any]]] = {}
        self.requests: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    # HttpTransport plumbing
    def __enter__(self) -> FakeKeyVaultTransport:
        return self

    def __exit__(self, *args: Any) -> None:
        pass

    def open(self) -> None:
        pass

    def close(self) -> None:
        pass

    def send(self, request: Any, **kwargs: Any) -> _Response:
        with self._lock:
            return self._handle(request)

    # Key Vault semantics
    def _bundle(self, name: str, v: dict[str, Any], *, value: bool = True) -> dict[str, Any]:
        out = {
            "id": f"{VAULT}/secrets/{name}/{v['version']}",
            "attributes": {
                "enabled": v["enabled"],
                "created": v["created"],
                "updated": v["created"],
                "recoveryLevel": "Recoverable+Purgeable",
            },
            "tags": v.get("tags") or {},
            "contentType": "text/plain",
        }
        if value:
            out["value"] = v["value"]
        return out

    def _error(self, request: Any, status: int, code: str, message: str) -> _Response:
        return _Response(request, status, {"error": {"code": code, "message": message}})

    def _handle(self, request: Any) -> _Response:
        url = urlparse(request.url)
        self.requests.append((request.method, url.path))
        if not request.headers.get("Authorization"):
            challenge = (
                'Bearer authorization="https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000", '
                'resource="https://vault.azure.net"'
            )
            return _Response(request, 401, None, {"WWW-Authenticate": challenge})
        path = url.path.rstrip("/")
        body = json.loads(request.content or b"{}") if request.method in ("PUT", "PATCH", "POST") and request.content else {}
        if m := re.fullmatch(r"/secrets/([\w-]+)/versions", path):
            name = m.group(1)
            if name not in self.secrets:
                return self._error(
                    request, 404, "SecretNotFound", f"A secret with (name/id) {name} was not found in this key vault."
                )
            return _Response(
                request, 200, {"value": [self._bundle(name, v, value=False) for v in self.secrets[name]], "nextLink": None}
            )
        if m := re.fullmatch(r"/secrets/([\w-]+)(?:/([0-9a-f]*))?", path):
            name, version = m.group(1), m.group(2) or None
            if request.method == "PUT":
                v = {
                    "version": secrets.token_hex(16),
                    "value": body["value"],
                    "enabled": True,
                    "created": int(time.time()) + len(self.secrets.get(name, [])),
                    "tags": body.get("tags"),
                }
                if name in self.deleted:
                    return self._error(
                        request, 409, "Conflict", f"Secret {name} is currently in a deleted but recoverable state."
                    )
                self.secrets.setdefault(name, []).append(v)
                return _Response(request, 200, self._bundle(name, v))
            versions = self.secrets.get(name)
            if not versions:
                return self._error(
                    request, 404, "SecretNotFound", f"A secret with (name/id) {name} was not found in this key vault."
                )
            if version:
                found = next((v for v in versions if v["version"] == version), None)
            else:
                found = next((v for v in reversed(versions) if v["enabled"]), None) or versions[-1]
            if found is None:
                return self._error(
                    request, 404, "SecretNotFound", f"A secret with (name/id) {name}/{version} was not found."
                )
            if request.method == "PATCH":
                if "enabled" in body.get("attributes", {}):
                    found["enabled"] = body["attributes"]["enabled"]
                return _Response(request, 200, self._bundle(name, found, value=False))
            if request.method == "DELETE":
                self.deleted[name] = self.secrets.pop(name)
                return _Response(
                    request,
                    200,
                    {
                        **self._bundle(name, versions[-1], value=False),
                        "recoveryId": f"{VAULT}/deletedsecrets/{name}",
                        "deletedDate": int(time.time()),
                        "scheduledPurgeDate": int(time.time()) + 86400,
                    },
                )
            if not found["enabled"]:
                return self._error(request, 403, "Forbidden", "Operation get is not allowed on a disabled secret.")
            return _Response(request, 200, self._bundle(name, found))
        if m := re.fullmatch(r"/deletedsecrets/([\w-]+)(/recover)?", path):
            name = m.group(1)
            if m.group(2) and request.method == "POST":
                if name not in self.deleted:
                    return self._error(request, 404, "DeletedSecretNotFound", f"Deleted Secret not found: {name}")
                self.secrets[name] = self.deleted.pop(name)
                return _Response(request, 200, self._bundle(name, self.secrets[name][-1], value=False))
            if name not in self.deleted:
                return self._error(request, 404, "DeletedSecretNotFound", f"Deleted Secret not found: {name}")
            return _Response(
                request,
                200,
                {**self._bundle(name, self.deleted[name][-1], value=False), "recoveryId": f"{VAULT}/deletedsecrets/{name}"},
            )
        return self._error(request, 400, "BadParameter", f"Unsupported path {path}")
