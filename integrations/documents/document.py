"""The stored integration document: a family's create shape plus the envelope the hub manages."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Annotated, Any, Literal, Protocol, Self, TypeVar

from pydantic import BaseModel, Field, TypeAdapter

from integrations.documents.common import CredentialRefs, LifecycleStatus
from integrations.documents.families import (
    AccountingIntegrationCreate,
    CalendarIntegrationCreate,
    CrmIntegrationCreate,
    DataCollectionIntegrationCreate,
    GovSportsRegistryIntegrationCreate,
    InsuranceIntegrationCreate,
    IntegrationCreate,
    IntegrationCreateBase,
    LmsIntegrationCreate,
    MappingIntegrationCreate,
    MessagingIntegrationCreate,
    PaymentGatewayIntegrationCreate,
    SocialMediaIntegrationCreate,
    StreamingIntegrationCreate,
    WadaAdamsIntegrationCreate,
)
from integrations.documents.ref import IntegrationRef
from shared.errors import Conflict


class ValidationCheck(BaseModel):
    name: str = Field(description="What was checked, e.g. `credentials.resolve`, `provider.authenticate`.")
    passed: bool
    detail: str = ""
    duration_ms: float | None = None


class ValidationResult(BaseModel):
    passed: bool
    config_hash: str = Field(description="Hash of the configuration this result applies to.")
    checked_at: datetime
    checked_by: str
    kind: Literal["structural", "provider"] = Field(
        description="structural = local checks only; provider = credentials exercised against the provider sandbox."
    )
    checks: list[ValidationCheck] = Field(default_factory=list)


class Condition(BaseModel):
    """A state worth telling the tenant about, beside the lifecycle (e.g. needs_reauth)."""

    type: Literal["needs_reauth", "degraded"]
    reason: str
    since: datetime


class OAuthGrant(BaseModel):
    """The provider grant obtained through the OAuth flow (the refresh token itself is in the SecretStore)."""

    scopes: list[str] = Field(description="Scopes the provider granted.")
    granted_at: datetime


class Envelope(BaseModel):
    id: str = Field(description="Integration id.", examples=["int_01jf3x2w7k9q5b8c4d6e0a1s2t"])
    tenant_id: str
    status: LifecycleStatus = Field(description="draft → active ⇄ paused → decommissioned.")
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str
    version: int = Field(description="Increases with every write; the ETag header carries the storage ETag.")
    last_validation: ValidationResult | None = None
    conditions: list[Condition] = Field(default_factory=list)
    grant: OAuthGrant | None = Field(None, description="Latest OAuth grant (scopes, when).")

    @property
    def ref(self) -> IntegrationRef:
        return IntegrationRef(self.tenant_id, self.id)


# The stored documents: each family's create shape plus the envelope. Declared one by one (a little
# repetition is the price of real types: a consumer can name AccountingIntegration and a checker follows it).
class PaymentGatewayIntegration(PaymentGatewayIntegrationCreate, Envelope):
    """A stored PaymentGatewayIntegration."""


class CalendarIntegration(CalendarIntegrationCreate, Envelope):
    """A stored CalendarIntegration."""


class SocialMediaIntegration(SocialMediaIntegrationCreate, Envelope):
    """A stored SocialMediaIntegration."""


class StreamingIntegration(StreamingIntegrationCreate, Envelope):
    """A stored StreamingIntegration."""


class MappingIntegration(MappingIntegrationCreate, Envelope):
    """A stored MappingIntegration."""


class WadaAdamsIntegration(WadaAdamsIntegrationCreate, Envelope):
    """A stored WadaAdamsIntegration."""


class InsuranceIntegration(InsuranceIntegrationCreate, Envelope):
    """A stored InsuranceIntegration."""


class GovSportsRegistryIntegration(GovSportsRegistryIntegrationCreate, Envelope):
    """A stored GovSportsRegistryIntegration."""


class AccountingIntegration(AccountingIntegrationCreate, Envelope):
    """A stored AccountingIntegration."""


class CrmIntegration(CrmIntegrationCreate, Envelope):
    """A stored CrmIntegration."""


class LmsIntegration(LmsIntegrationCreate, Envelope):
    """A stored LmsIntegration."""


class MessagingIntegration(MessagingIntegrationCreate, Envelope):
    """A stored MessagingIntegration."""


class DataCollectionIntegration(DataCollectionIntegrationCreate, Envelope):
    """A stored DataCollectionIntegration."""


FAMILY_DOCUMENTS: tuple[type[Envelope], ...] = (
    PaymentGatewayIntegration,
    CalendarIntegration,
    SocialMediaIntegration,
    StreamingIntegration,
    MappingIntegration,
    WadaAdamsIntegration,
    InsuranceIntegration,
    GovSportsRegistryIntegration,
    AccountingIntegration,
    CrmIntegration,
    LmsIntegration,
    MessagingIntegration,
    DataCollectionIntegration,
)


class IntegrationDocument(Protocol):
    """What every family's stored document has: code that serves any family types its document with this (and
    code that serves one family names that family's class). Read-only, so each family's narrower `provider`
    literal and its own capability and config models satisfy it."""

    @property
    def id(self) -> str: ...
    @property
    def tenant_id(self) -> str: ...
    @property
    def ref(self) -> IntegrationRef: ...
    @property
    def family(self) -> str: ...
    @property
    def provider(self) -> str: ...
    @property
    def status(self) -> LifecycleStatus: ...
    @property
    def display_name(self) -> str: ...
    @property
    def sandbox(self) -> bool: ...
    @property
    def oauth_client_id(self) -> str | None: ...
    @property
    def credentials(self) -> CredentialRefs: ...
    @property
    def capabilities(self) -> BaseModel: ...
    @property
    def config(self) -> BaseModel: ...
    @property
    def version(self) -> int: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def updated_at(self) -> datetime: ...
    @property
    def last_validation(self) -> ValidationResult | None: ...
    @property
    def conditions(self) -> list[Condition]: ...
    @property
    def grant(self) -> OAuthGrant | None: ...

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self: ...
    @property
    def model_dump(self) -> Callable[..., dict[str, Any]]: ...
    @property
    def model_dump_json(self) -> Callable[..., str]: ...


AnyIntegration = (
    PaymentGatewayIntegration
    | CalendarIntegration
    | SocialMediaIntegration
    | StreamingIntegration
    | MappingIntegration
    | WadaAdamsIntegration
    | InsuranceIntegration
    | GovSportsRegistryIntegration
    | AccountingIntegration
    | CrmIntegration
    | LmsIntegration
    | MessagingIntegration
    | DataCollectionIntegration
)
Integration = Annotated[AnyIntegration, Field(discriminator="family")]


F = TypeVar("F", bound=IntegrationDocument)


def of_family(document: IntegrationDocument, family: type[F]) -> F:
    """The document as its family's class, for code handed a document whose family it knows (a fixture, a
    family's own entry point): a wrong family is a bug, said here rather than as a missing attribute later."""
    if not isinstance(document, family):
        raise TypeError(f"expected a {family.__name__}, got a {type(document).__name__}")
    return document


def require_in_service(document: IntegrationDocument, flag: str, *, service: str) -> None:
    """409 unless the integration is active and its capability `flag` is on: what every service that calls the
    provider on a person's behalf (a payment, a lookup, a quote) checks first, each refusal naming what to fix."""
    if document.status != LifecycleStatus.active:
        raise Conflict(f"The integration is {document.status.value}: {service} need an active one.", reason="not_active")
    if not getattr(document.capabilities, flag):
        raise Conflict(f"{flag} is switched off for this integration (capabilities.{flag}).", reason="capability_off")


CREATE_ADAPTER: TypeAdapter[Any] = TypeAdapter(IntegrationCreate)
DOCUMENT_ADAPTER: TypeAdapter[Any] = TypeAdapter(Integration)

# What the tenant wrote, minus cosmetics: changing any of it invalidates an earlier validation.
_HASHED = ("family", "provider", "sandbox", "oauth_client_id", "capabilities", "config", "credentials")


def spec_of(document: IntegrationDocument) -> dict[str, Any]:
    """The tenant-writable part of a document (what PATCH merges into)."""
    return document.model_dump(
        mode="json", include=set(IntegrationCreateBase.model_fields) | {"family", "provider", "capabilities", "config"}
    )


# Left out of the hash: validation never exercises it (it authenticates the provider to us, not us to the
# provider), the hub sets it itself when it subscribes to a calendar's changes on activation, and rotating it
# must not take an active integration back through validation.
_UNVALIDATED_CREDENTIALS = frozenset({"webhook_secret_ref"})


def config_hash(spec: dict[str, Any]) -> str:
    hashed = {k: spec.get(k) for k in _HASHED}
    if isinstance(hashed["credentials"], dict):
        hashed["credentials"] = {k: v for k, v in hashed["credentials"].items() if k not in _UNVALIDATED_CREDENTIALS}
    material = json.dumps(hashed, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(material.encode()).hexdigest()
