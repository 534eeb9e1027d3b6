"""Building blocks shared by every integration family: secret references, codes (from canonical.fields), lifecycle
status.

Documents import only pydantic and canonical (its code types): no storage, no HTTP.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from canonical.fields import CountryCode as CountryCode
from canonical.fields import Currency as Currency


class Strict(BaseModel):
    """Base of every input shape: unknown fields are errors (they are where inline secrets hide)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# --- Secret references -------------------------------------------------------------------------------------------

_KV_NAME = r"[0-9A-Za-z-]{1,127}"
_SHORT_REF = re.compile(rf"^kv:(?P<name>{_KV_NAME})(?:@(?P<version>[0-9a-f]{{32}}))?$")
_URL_REF = re.compile(
    rf"^https://(?P<vault>[0-9a-z-]{{3,24}})\.vault\.(?:azure\.net|usgovcloudapi\.net|azure\.cn)"
    rf"/secrets/(?P<name>{_KV_NAME})(?:/(?P<version>[0-9a-f]{{32}}))?/?$"
)


@dataclass(frozen=True)
class SecretRefParts:
    name: str
    version: str | None
    vault: str | None


# Pure and asked on every secret access (a webhook's verification, each resolve): a hub holds few refs.
@lru_cache(maxsize=4096)
def parse_secret_ref(value: str) -> SecretRefParts:
    for pattern in (_SHORT_REF, _URL_REF):
        if m := pattern.match(value):
            return SecretRefParts(m.group("name"), m.group("version"), m.groupdict().get("vault"))
    raise ValueError(
        "must be a Key Vault secret reference (`kv:<name>[@<version>]` or "
        "`https://<vault>.vault.azure.net/secrets/<name>[/<version>]`), never a secret value"
    )


def _check_ref(value: str) -> str:
    parse_secret_ref(value)
    return value


SecretRef = Annotated[
    str,
    AfterValidator(_check_ref),
    Field(
        description="Key Vault secret reference; the value itself never enters a document.",
        examples=["kv:acme--int-01--oauth-refresh-token"],
    ),
]


class CredentialRefs(Strict):
    """Where this integration's secrets live. Only references: the runtime resolves them at call time."""

    api_key_ref: SecretRef | None = Field(None, description="API key or token (Stripe secret key, Xledger token…).")
    oauth_client_secret_ref: SecretRef | None = Field(None, description="OAuth2 client secret.")
    oauth_refresh_token_ref: SecretRef | None = Field(None, description="OAuth2 refresh token (written by the OAuth flow).")
    signing_certificate_ref: SecretRef | None = Field(
        None, description="Client/signing certificate (Swish mTLS, registries)."
    )
    signing_key_ref: SecretRef | None = Field(None, description="Request-signing key (ADAMS, signed REST).")
    stream_key_ref: SecretRef | None = Field(None, description="Streaming ingest key (YouTube/Twitch).")
    webhook_secret_ref: SecretRef | None = Field(None, description="Secret verifying the provider's webhooks.")
    browser_key_ref: SecretRef | None = Field(
        None,
        description="Browser-facing map key or token (restricted by referrer / allowed URLs at the provider): handed "
        "out only to an origin on the integration's domain allowlist, never used for server calls.",
    )

    def present(self) -> dict[str, str]:
        return {k: v for k, v in self.model_dump().items() if v}


CREDENTIAL_SLOTS: tuple[str, ...] = tuple(CredentialRefs.model_fields)


# --- Codes ---------------------------------------------------------------------------------------------------------


_HOSTNAME = re.compile(r"^(\*\.)?(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def _hostname(value: str) -> str:
    host = value.strip().lower()
    if not _HOSTNAME.match(host):
        raise ValueError(f"{value!r} is not a hostname (no scheme, path or port; `*.` prefix allowed)")
    return host


Hostname = Annotated[str, AfterValidator(_hostname), Field(examples=["www.petanque.se", "*.petanque.se"])]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
ExternalId = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class SyncDirection(StrEnum):
    push = "push"
    pull = "pull"
    bidirectional = "bidirectional"


class LifecycleStatus(StrEnum):
    draft = "draft"
    active = "active"
    paused = "paused"
    decommissioned = "decommissioned"
